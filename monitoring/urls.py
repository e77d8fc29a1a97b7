from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from monitoring.views import dashboard

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = []

# --- figures ---
urlpatterns += [
    path("", dashboard.monitoring_index, name="index"),
    path("dashboard/<str:code>/", dashboard.monitoring_dashboard, name="dashboard"),
    path(
        "dashboard/<str:code>/objects/",
        dashboard.monitoring_dashboard_objects,
        name="dashboard-objects",
    ),
]
