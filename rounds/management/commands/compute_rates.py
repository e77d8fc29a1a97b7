"""python manage.py compute_rates --region CODE [--round ID]
python manage.py compute_rates --province CODE [--year YEAR]

`--region`: computes and stores the figures (RateSnapshot) of every region under CODE for a
round (default: the open round of the region's county, else its latest round). Runs
in-process, through the same job function the worker runs, and records a Job row; rerunning
replaces the snapshots.

`--province`: the fan-out of a city or province (CODE at either level) for YEAR (default: the
latest year with a county round under it): every county's rates job, then the roll-up after
them, as a Celery chord sent to the workers (`rounds.rollup.province_rates_enqueue`; with eager
Celery, the newcomer's default, it runs in place). Prints the jobs; audited. Rerunning replaces
the county snapshots and the roll-up.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from povertyapp import audit, jobs
from povertyapp.models import Job, Region
from rounds import rates, rollup
from rounds import services as rounds
from rounds.models import AdjustmentRound


class Command(BaseCommand):
    help = "Compute the dynamic-adjustment figures of a region for a round (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--region", help="统计用区划代码")
        group.add_argument(
            "--province",
            help="市或省的统计用区划代码：计算其下各县的指标后汇总（Celery chord）",
        )
        parser.add_argument("--round", type=int, default=None, help="动态调整批次编号")
        parser.add_argument(
            "--year", type=int, default=None, help="汇总年度（--province；默认最近一年）"
        )

    def handle(
        self,
        *args: Any,
        region: str | None,
        province: str | None,
        round: int | None,
        year: int | None,
        **options: Any,
    ) -> None:
        if province is not None:
            self._province(province, year)
            return
        assert region is not None
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

    def _province(self, code: str, year: int | None) -> None:
        target = Region.objects.filter(code=code).first()
        if target is None:
            raise CommandError(f"区划代码 {code} 不存在。")
        if target.level not in rollup.ROLLUP_LEVELS:
            raise CommandError(f"{target.name}不是市或省：县的指标请用 --region。")
        years = rollup.rollup_years(target)
        if year is None:
            if not years:
                raise CommandError(f"{target.name}各县没有动态调整批次。")
            year = years[0]
        elif year not in years:
            raise CommandError(f"{target.name}各县没有{year}年的动态调整批次。")
        county_jobs, rollup_job = rollup.province_rates_enqueue(user=None, region=target, year=year)
        audit.record(
            "rollup_start",
            username="manage.py",
            target="rounds.rollup",
            object_id=rollup_job.pk,
            detail={"region": target.code, "year": year, "county_jobs": len(county_jobs)},
        )
        self.stdout.write(
            f"{target.name}{year}年：已发起 {len(county_jobs)} 个县的指标计算"
            f"（任务 {', '.join(f'#{job.pk}' for job in county_jobs) or '无'}），"
            f"完成后汇总（任务 #{rollup_job.pk}）。"
        )
        rollup_job.refresh_from_db()
        self.stdout.write(f"汇总任务 #{rollup_job.pk}：{rollup_job.get_status_display()}")
