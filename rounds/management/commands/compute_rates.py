"""python manage.py compute_rates --region CODE [--round ID]

Computes and stores the figures (RateSnapshot) of every region under CODE for a round (default:
the open round of the region's county, else its latest round). Runs in-process, through the
same job function the worker runs, and records a Job row; rerunning replaces the snapshots.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from povertyapp import jobs
from povertyapp.models import Job, Region
from rounds import rates
from rounds import services as rounds
from rounds.models import AdjustmentRound


class Command(BaseCommand):
    help = "Compute the dynamic-adjustment figures of a region for a round (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--region", required=True, help="统计用区划代码")
        parser.add_argument("--round", type=int, default=None, help="动态调整批次编号")

    def handle(self, *args: Any, region: str, round: int | None, **options: Any) -> None:
        target = Region.objects.filter(code=region).first()
        if target is None:
            raise CommandError(f"区划代码 {region} 不存在。")
        if round is not None:
            chosen = AdjustmentRound.objects.select_related("county").filter(pk=round).first()
            if chosen is None:
                raise CommandError(f"动态调整批次 {round} 不存在。")
        else:
            chosen = rounds.round_open_for(target)
            if chosen is None:
                counties = [node.pk for node in target.ancestors(include_self=True)]
                chosen = (
                    AdjustmentRound.objects.filter(county_id__in=counties).order_by("-year").first()
                )
            if chosen is None:
                raise CommandError(f"{target.name}所在县没有动态调整批次。")
        if not target.path.startswith(chosen.county.path):
            raise CommandError(f"{target.name}不属于批次“{chosen.name}”所在的县。")
        if rates.round_figures_final(chosen):
            raise CommandError(str(rates.FINAL_FIGURES))
        job = jobs.job_create(
            user=None, kind=rates.KIND, region=target, parameters={"round": chosen.pk}
        )
        job = jobs.job_run(job.pk)
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(job.error or "计算失败。")
        result = job.result
        self.stdout.write(
            f"{chosen.name}：已计算 {result['regions']} 个区域的指标快照（任务 #{job.pk}）。"
        )
        for key, label in (
            ("wrongful_inclusion", "错评率"),
            ("omission", "漏评率"),
            ("wrongful_exit", "错退率"),
            ("incidence", "贫困发生率"),
        ):
            figure = result.get("figures", {}).get(key)
            if figure:
                self.stdout.write(
                    f"  {label}：{figure['numerator']} / {figure['denominator']} = {figure['rate']}"
                )
