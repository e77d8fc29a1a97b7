"""The county's year: onboarding, the yearly rollover, the year-end sign-off (namespace `years:`)."""

from django.urls import URLPattern, URLResolver

app_name = "years"

urlpatterns: list[URLPattern | URLResolver] = []
