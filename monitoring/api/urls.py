from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from monitoring.api import clues

urlpatterns: list[URLPattern | URLResolver] = []

# --- clues ---
urlpatterns += [
    path("clues/", clues.ClueListApi.as_view(), name="monitoring-clues"),
]
