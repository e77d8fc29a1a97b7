from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from monitoring.api import clues, offline, sweeps, views

urlpatterns: list[URLPattern | URLResolver] = []

# --- clues ---
urlpatterns += [
    path("clues/", clues.ClueListApi.as_view(), name="monitoring-clues"),
]

# --- figures ---
router = SimpleRouter()
router.register("objects", views.MonitoringObjectViewSet, basename="monitoring-object")
router.register("tasks", views.VerificationTaskViewSet, basename="monitoring-task")
router.register("procedures", views.ProcedureViewSet, basename="monitoring-procedure")
urlpatterns += router.urls

# --- sweeps ---
urlpatterns += [
    path("sweeps/", sweeps.SweepListApi.as_view(), name="monitoring-sweep-list"),
    path("sweeps/<int:sweep_id>/", sweeps.SweepDetailApi.as_view(), name="monitoring-sweep-detail"),
    path(
        "sweeps/<int:sweep_id>/households/",
        sweeps.SweepHouseholdListApi.as_view(),
        name="monitoring-sweep-households",
    ),
]

# --- offline (docs/offline.md) ---
urlpatterns += [
    path(
        "offline/bundle/",
        offline.MonitoringOfflineBundleApi.as_view(),
        name="monitoring-offline-bundle",
    ),
    path(
        "offline/clue-verify/",
        offline.OfflineClueVerifyApi.as_view(),
        name="monitoring-offline-clue-verify",
    ),
    path("offline/sweep/", offline.OfflineSweepApi.as_view(), name="monitoring-offline-sweep"),
    path("offline/step/", offline.OfflineStepApi.as_view(), name="monitoring-offline-step"),
]
