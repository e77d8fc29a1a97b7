from __future__ import annotations

from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from monitoring.api import views

urlpatterns: list[URLPattern | URLResolver] = []

# --- figures ---
router = SimpleRouter()
router.register("objects", views.MonitoringObjectViewSet, basename="monitoring-object")
router.register("tasks", views.VerificationTaskViewSet, basename="monitoring-task")
router.register("procedures", views.ProcedureViewSet, basename="monitoring-procedure")
urlpatterns += router.urls
