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

        # One wording for an empty required value, model checks included (povertyapp.forms).
        from django.apps import apps

        from povertyapp.forms import model_messages_install

        model_messages_install(apps.get_models(include_auto_created=True))
