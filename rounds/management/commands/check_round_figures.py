"""python manage.py check_round_figures [--round ID]

Re-derives a round's figures from its frozen baseline, its frozen population and its events
(`rounds.services.round_figures_rederive`, independently of the rates job's SQL) and compares
them with the stored snapshots of every region: the four figures' numerators and denominators,
the baseline incidence and the status counts after the round. Without --round: every closed
round (their figures are final). Prints each difference; exits with status 1 if there is one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rounds import services as rounds
from rounds.models import AdjustmentRound


class Command(BaseCommand):
    help = "Check that stored round figures equal those re-derived from baseline and events."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--round", type=int, default=None, help="动态调整批次编号")

    def handle(self, *args: Any, round: int | None, **options: Any) -> None:
        chosen = AdjustmentRound.objects.select_related("county").order_by("county__code", "year")
        if round is not None:
            chosen = chosen.filter(pk=round)
            if not chosen.exists():
                raise CommandError(f"动态调整批次 {round} 不存在。")
        else:
            chosen = chosen.filter(status=AdjustmentRound.Status.CLOSED)
        failed = 0
        for adjustment_round in chosen:
            name = f"{adjustment_round.county.name} {adjustment_round.display_name}"
            differences = rounds.round_figures_differences(round=adjustment_round)
            if differences:
                failed += 1
                self.stdout.write(f"{name}：{len(differences)}处不一致")
                for line in differences:
                    self.stdout.write(f"  {line}")
            else:
                self.stdout.write(f"{name}：指标快照与基期和变动记录一致")
        if failed:
            raise CommandError(f"{failed}个批次的指标快照与重新推算的结果不一致。")
