from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class YearsConfig(AppConfig):
    """The county's year (issue 16): its onboarding, the yearly rollover, and the year-end
    sign-off and lock. The top floor: it reads every domain app below it."""

    name = "years"
    verbose_name = _("年度工作")

    def ready(self) -> None:
        from years import audit_labels

        audit_labels.register()

        from years import lock, lock_reviews

        # The lock of a signed year: the table of year-bound models (years/lock.py).
        lock.install()
        # Edits after approval: flagged from the registry's history rows.
        lock_reviews.connect()
        register_desk_panels()


def register_desk_panels() -> None:
    """The home page's 工作台 (`povertyapp.desk`): the county office is sent to the onboarding
    checklist while something of the current year is missing; the township and county see the
    edits after approval waiting for their review (`years.desk`)."""
    from povertyapp import desk
    from years import desk as year_desk
    from years import views_onboarding

    desk.register(
        desk.Panel(
            key="years.onboarding",
            template="years/desk/onboarding.html",
            context=views_onboarding.desk_context,
            visible=views_onboarding.desk_visible,
            order=5,
        )
    )
    year_desk.register_desk_panels()
