from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from monitoring.views import clues

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = []

# --- clues ---
urlpatterns += [
    path("declare/", clues.declare, name="declare"),
    path("clues/", clues.clue_list, name="clues"),
    path("clues/new/", clues.clue_add, name="clue-add"),
    path("clues/<int:clue_id>/", clues.clue_detail, name="clue"),
    path("clues/<int:clue_id>/verify/", clues.clue_verify, name="clue-verify"),
    path("clues/<int:clue_id>/not-include/", clues.clue_not_include, name="clue-not-include"),
    path("clues/<int:clue_id>/attach/", clues.clue_attach, name="clue-attach"),
    path("department/", clues.department_home, name="department-home"),
    path("department/lists/<int:list_id>/", clues.list_results, name="list-results"),
    path(
        "department/lists/<int:list_id>/export/",
        clues.list_results_export,
        name="list-results-export",
    ),
]
