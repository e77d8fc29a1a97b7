"""The county's year: onboarding, the yearly rollover, the year-end sign-off (namespace
`years:`)."""

from django.urls import URLPattern, URLResolver, path

from years import views_onboarding, views_rollover, views_signoff

app_name = "years"

urlpatterns: list[URLPattern | URLResolver] = [
    path("onboarding/", views_onboarding.onboarding_page, name="onboarding"),
    path("rollover/", views_rollover.rollover_page, name="rollover"),
    path("signoff/", views_signoff.signoff_view, name="signoff"),
    path("signoff/<int:year>/submit/", views_signoff.signoff_submit_view, name="signoff-submit"),
    path("signoff/<int:year>/sign/", views_signoff.signoff_sign_view, name="signoff-sign"),
    path(
        "signoff/<int:year>/return/<str:code>/",
        views_signoff.signoff_return_view,
        name="signoff-return",
    ),
    path("signoff/<int:year>/reopen/", views_signoff.signoff_reopen_view, name="signoff-reopen"),
    path("reviews/", views_signoff.edit_review_list_view, name="edit-reviews"),
    path(
        "reviews/<int:review_id>/reviewed/",
        views_signoff.edit_review_mark_view,
        name="edit-review-mark",
    ),
]
