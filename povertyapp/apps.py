from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PovertyappConfig(AppConfig):
    name = "povertyapp"
    verbose_name = _("区划与账号")

    def ready(self) -> None:
        # Job kinds register themselves on import; the web process (which enqueues) and the
        # worker (which runs) both need them.
        from povertyapp import ledgers, rates, region_counts  # noqa: F401

        ledgers.discover()
