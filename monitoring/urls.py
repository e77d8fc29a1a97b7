from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "monitoring"

urlpatterns: list[URLPattern | URLResolver] = []
