"""The county's year: onboarding, the yearly rollover, the year-end sign-off (namespace
`years:`)."""

from django.urls import URLPattern, URLResolver, path

from years import views_onboarding, views_rollover

app_name = "years"

urlpatterns: list[URLPattern | URLResolver] = [
    path("onboarding/", views_onboarding.onboarding_page, name="onboarding"),
    path("rollover/", views_rollover.rollover_page, name="rollover"),
]
