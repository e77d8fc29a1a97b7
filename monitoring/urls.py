from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from monitoring.views import objects as object_views

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = []

# --- objects ---
urlpatterns += [
    path("objects/", object_views.object_list, name="objects"),
    path("objects/<int:monitoring_object_id>/", object_views.object_detail, name="object"),
    path("objects/<int:monitoring_object_id>/eliminate/", object_views.eliminate, name="eliminate"),
    path("clues/<int:clue_id>/identify/", object_views.identify_from_clue, name="identify"),
    path(
        "households/<int:household_id>/identify/",
        object_views.identify_household,
        name="identify-household",
    ),
    path("households/<int:household_id>/income/", object_views.income_record, name="income"),
]
