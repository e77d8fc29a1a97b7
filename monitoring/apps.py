from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("防返贫动态监测")

    def ready(self) -> None:
        from monitoring.lists import register_lists

        register_lists()
