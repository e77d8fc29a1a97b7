from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = _("帮扶")

    def ready(self) -> None:
        # The coverage job kind registers itself on import; the web process (which enqueues)
        # and the worker (which runs) both need it.
        from assistance import tasks  # noqa: F401

        register_demo_rows()


def register_demo_rows() -> None:
    """The demo's 帮扶责任人 pairings are generated in the registry's own pass, one per
    registered household (`households.demo.register_rows`), so the registry's demo needs no
    import of this app."""
    from assistance import demo
    from households import demo as registry_demo

    registry_demo.register_rows(demo.PAIRINGS)
