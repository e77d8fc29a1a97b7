from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from rounds.models import AdjustmentRound


class RoundsConfig(AppConfig):
    """动态调整 rounds, their 四类名单, the figures and the dashboards (issue 18 moved them here
    from `households` and `povertyapp`). Above the registry: `households` never imports this
    app; the round plugs into the registry through the registry's hooks."""

    name = "rounds"
    verbose_name = _("动态调整与指标")

    def ready(self) -> None:
        from rounds import audit_labels

        audit_labels.register()

        # Job kinds register on import; the web process and the worker both need them.
        from rounds import figures, rates, rollup, services  # noqa: F401

        # The rates job checks every figure's numerator against the count of its list.
        figures.register_round_lists(services.round_lists_by_village)
        register_round_hooks()
        # A pending line's ID numbers are kept encrypted in its details (rounds.services.natural):
        # the key rotation re-encrypts them too.
        from povertyapp import crypto

        crypto.register_encrypted_json("rounds.RoundChange", "details")

        # The work desk's panels: lines to review or decide, figures changed since last week.
        from rounds import desk

        desk.register_desk_panels()


def register_round_hooks() -> None:
    """The rounds plug into the registry's writes (`households.hooks`): the county's decision
    on a village's round locks its households' edits, and changes made while a round is open
    are stamped with it. The registry's services never import this app."""
    from households import hooks
    from rounds import services

    hooks.register_edit_check(services.household_edit_check)
    hooks.register_round_provider(
        hooks.RoundProvider(
            open_round_for=services.round_open_for,
            round_lock=_round_lock,
            round_is_open=_round_is_open,
        )
    )


def _round_lock(round: Model) -> AdjustmentRound:
    from rounds.models import AdjustmentRound

    return AdjustmentRound.objects.select_for_update().get(pk=round.pk)


def _round_is_open(round: Model) -> bool:
    from rounds.models import AdjustmentRound

    return isinstance(round, AdjustmentRound) and round.status == AdjustmentRound.Status.OPEN
