from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoundsConfig(AppConfig):
    """动态调整 rounds, their 四类名单, the figures and the dashboards (issue 18 moved them here
    from `households` and `povertyapp`). Above the registry: `households` never imports this
    app; the round plugs into the registry through the registry's hooks."""

    name = "rounds"
    verbose_name = _("动态调整与指标")

    def ready(self) -> None:
        # Job kinds register on import; the web process and the worker both need them.
        from rounds import figures, rates, services  # noqa: F401

        # The rates job checks every figure's numerator against the count of its list.
        figures.register_round_lists(services.round_lists_by_village)
