from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = _("帮扶")

    def ready(self) -> None:
        # The coverage job kind registers itself on import; the web process (which enqueues)
        # and the worker (which runs) both need it.
        from assistance import tasks  # noqa: F401

        register_hooks()


def register_hooks() -> None:
    """What the apps below ask of assistance without importing it: the households a helper sees
    (`povertyapp.roles`)."""
    from assistance import selectors
    from povertyapp import roles

    roles.register_helper_scope(
        exists=selectors.helper_households_exists, q=selectors.helper_households_q
    )
