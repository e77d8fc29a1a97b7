from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "households"
    verbose_name = _("农户档案")

    def ready(self) -> None:
        # Job kinds register on import; both the web process and the worker need them.
        from households import quality  # noqa: F401
