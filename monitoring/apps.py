from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("防返贫动态监测")

    def ready(self) -> None:
        register_objects()
        register_figures()
        register_lists()


def register_objects() -> None:
    """Part A (monitoring objects): the two procedures on the registry's machine and the
    承诺授权 scan on the file door (served to whoever may see the object)."""
    from django.urls import reverse

    from households import detail_tabs
    from monitoring import objects, procedures
    from povertyapp import files

    procedures.register_procedures()
    detail_tabs.register_page_links("monitoring.objects", objects.household_links)
    files.register(
        "monitoring_consent",
        model="monitoring.MonitoringObject",
        field="consent",
        get_for_user=lambda user, object_id: objects.object_get_for_user(
            user=user, object_id=object_id
        ),
        page_url=lambda found: reverse("monitoring:object", args=[found.pk]),
        label=_("监测对象承诺授权书"),
    )


def register_figures() -> None:
    """Part E (the dashboard): the cache generation bumped by the models' saves and deletes."""
    from monitoring import figures

    figures.register_figures()


def register_lists() -> None:
    """Part C (the departments' lists): the list-import job kind."""
    from monitoring import lists

    lists.register_lists()
