from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = _("帮扶")

    def ready(self) -> None:
        # The coverage job kind registers itself on import; the web process (which enqueues)
        # and the worker (which runs) both need it.
        from assistance import tasks  # noqa: F401
