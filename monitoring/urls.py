from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = []

# --- lists (part C: the departments' lists, exclusion scrutiny) ---
from monitoring.views import lists as list_views  # noqa: E402

urlpatterns += [
    path("lists/", list_views.list_index, name="lists"),
    path("lists/upload/", list_views.list_upload, name="list-upload"),
    path("lists/template/<slug:layout_key>/", list_views.list_template, name="list-template"),
    path("lists/<int:list_id>/", list_views.list_detail, name="list"),
    path("scrutiny/", list_views.scrutiny_index, name="scrutiny"),
    path("scrutiny/<int:task_id>/", list_views.scrutiny_task, name="scrutiny-task"),
    path("scrutiny/relations/", list_views.cadre_relations, name="cadre-relations"),
]
