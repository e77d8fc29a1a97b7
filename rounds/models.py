"""动态调整 rounds: the round of a county's year, its frozen baseline, the 四类名单 (one line
per household change), and the figures the rates job computes for each region (RateSnapshot).

The tables keep the names they had when these models lived in `households` and `povertyapp`
(`households_adjustmentround`, ..., `povertyapp_ratesnapshot`): migration `rounds.0001` moved
the models without copying a row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from households.models import YEAR_VALIDATORS, Household, HouseholdEvent, Member
from povertyapp.models import Region
from povertyapp.yearguard import YearLockedManager


class AdjustmentRound(models.Model):
    """A dynamic-adjustment round (动态调整批次) of a county for a year."""

    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已关闭")

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="rounds"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    name = models.CharField(_("名称"), max_length=64)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(_("开启时间"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开启人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关闭人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = YearLockedManager()

    class Meta:
        db_table = "households_adjustmentround"
        verbose_name = _("动态调整批次")
        verbose_name_plural = _("动态调整批次")
        ordering = ["county", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="round_county_year"),
            models.UniqueConstraint(
                fields=["county"],
                condition=models.Q(status="open"),
                name="round_one_open",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the user's language when it is the default one ("2020年动态调整"); a
        name the county office gave is shown as given."""
        if self.name == default_round_name(self.year):
            return str(_("%(year)s年动态调整") % {"year": self.year})
        return self.name


def default_round_name(year: int) -> str:
    """The name a round gets when the county office gives none (stored in Chinese)."""
    return f"{year}年动态调整"


class RoundBaseline(models.Model):
    """One household as the registry stood when its round opened (the round's baseline).

    Written once, set-based (INSERT ... SELECT), by `households.rounds.round_open`; never
    updated. The round's figures read this table and the round's events only, so later edits
    of households cannot move them.
    """

    round = models.ForeignKey(
        AdjustmentRound,
        verbose_name=_("动态调整批次"),
        on_delete=models.PROTECT,
        related_name="baseline",
    )
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("基期状态"), max_length=16, choices=Household.Status.choices)
    persons = models.PositiveSmallIntegerField(_("基期人数"))
    main_cause = models.CharField(_("主要致贫原因"), max_length=32, blank=True)

    objects = YearLockedManager()

    class Meta:
        db_table = "households_roundbaseline"
        verbose_name = _("批次基期农户")
        verbose_name_plural = _("批次基期农户")
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], name="baseline_round_household"),
        ]
        indexes = [
            models.Index(fields=["round", "village", "status"], name="baseline_round_village_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.household_id}"


class RoundVillage(models.Model):
    """A village's 户籍农业人口 as it stood when the round opened (denominator, frozen)."""

    round = models.ForeignKey(
        AdjustmentRound,
        verbose_name=_("动态调整批次"),
        on_delete=models.PROTECT,
        related_name="villages",
    )
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="+"
    )
    rural_population = models.PositiveIntegerField(_("户籍农业人口"))

    objects = YearLockedManager()

    class Meta:
        db_table = "households_roundvillage"
        verbose_name = _("批次基期村人口")
        verbose_name_plural = _("批次基期村人口")
        constraints = [
            models.UniqueConstraint(fields=["round", "village"], name="round_village_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.village_id}"


class RoundBaselineGroup(models.Model):
    """The round's baseline summed per village, status and main cause (households, persons).

    Written with the baseline, in the same transaction, by `households.rounds.baseline_freeze`;
    never updated (the baseline never changes after opening). The round's figures read these few
    hundred rows per county, and the baseline rows of the households with events in the round
    only, instead of every baseline household (`povertyapp.figures.round_counts_by_village`).
    """

    round = models.ForeignKey(
        AdjustmentRound,
        verbose_name=_("动态调整批次"),
        on_delete=models.PROTECT,
        related_name="baseline_groups",
    )
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("基期状态"), max_length=16, choices=Household.Status.choices)
    main_cause = models.CharField(_("主要致贫原因"), max_length=32, blank=True)
    households = models.PositiveIntegerField(_("基期户数"))
    persons = models.PositiveIntegerField(_("基期人数"))

    objects = YearLockedManager()

    class Meta:
        db_table = "households_roundbaselinegroup"
        verbose_name = _("批次基期分组")
        verbose_name_plural = _("批次基期分组")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "village", "status", "main_cause"], name="baseline_group_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.village_id} {self.status}"


class RoundChange(models.Model):
    """A proposed change of one household in a round (one line of the 四类名单).

    The village proposes, the township reviews, the county approves: approval applies the change
    through `household_change_status` as an event tagged with the round.
    """

    class Kind(models.TextChoices):
        IDENTIFIED = "identified", _("新识别纳入")
        REMOVED = "removed", _("剔除")
        RETURNED = "returned", _("返贫")
        EXITED = "exited", _("标注脱贫")
        NATURAL = "natural", _("自然增减")
        CORRECTED = "corrected", _("信息更正")

    # The 四类名单 (status lists): one pending line per household. 自然增减 and 信息更正 lines
    # concern one member or one field, so a household may have several pending at once.
    STATUS_KINDS = (Kind.IDENTIFIED, Kind.REMOVED, Kind.RETURNED, Kind.EXITED)

    class State(models.TextChoices):
        PROPOSED = "proposed", _("村级已提出")
        REVIEWED = "reviewed", _("乡镇已审核")
        APPROVED = "approved", _("县级已审定")
        REJECTED = "rejected", _("已退回")
        WITHDRAWN = "withdrawn", _("已撤回")

    # States in which the change is still waiting for a decision.
    PENDING_STATES = (State.PROPOSED, State.REVIEWED)

    round = models.ForeignKey(
        AdjustmentRound,
        verbose_name=_("动态调整批次"),
        on_delete=models.PROTECT,
        related_name="changes",
    )
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="round_changes"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("名单"), max_length=16, choices=Kind.choices)
    persons = models.PositiveSmallIntegerField(_("人数"))
    head_name = models.CharField(_("户主姓名"), max_length=32)
    reason = models.CharField(_("理由"), max_length=500)
    ground = models.CharField(_("剔除理由"), max_length=64, blank=True)
    state = models.CharField(
        _("办理状态"), max_length=12, choices=State.choices, default=State.PROPOSED
    )
    source = models.CharField(_("来源"), max_length=16, default="form")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("提出时间"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_opinion = models.CharField(_("审核意见"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审定人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审定时间"), null=True, blank=True)
    decision_opinion = models.CharField(_("审定意见"), max_length=500, blank=True)
    member = models.ForeignKey(
        Member,
        verbose_name=_("成员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="round_changes",
    )
    # 自然增减: {"action": "join"|"leave", "reason", "effective_date", "member": {...}};
    # 信息更正: {"target": "household"|"member", "field", "old", "new"}.
    details = models.JSONField(_("变动内容"), default=dict, blank=True)
    event = models.OneToOneField(
        HouseholdEvent,
        verbose_name=_("状态变动"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="round_change",
    )

    objects = YearLockedManager()

    class Meta:
        db_table = "households_roundchange"
        verbose_name = _("动态调整名单")
        verbose_name_plural = _("动态调整名单")
        ordering = ["round", "village", "kind", "id"]
        indexes = [models.Index(fields=["round", "village", "state"], name="change_round_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "household"],
                condition=models.Q(
                    state__in=["proposed", "reviewed"],
                    kind__in=["identified", "removed", "returned", "exited"],
                ),
                name="change_one_pending_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household}"


class Figures(models.Model):
    """The stored figures of a region (DOMAIN §8), shared by a county's round snapshot
    (`RateSnapshot`) and the roll-up above the county (`RollupSnapshot`): each figure as
    numerator, denominator and rate (a decimal fraction, 8 places; null when the denominator
    is 0), and the counts behind the dashboards."""

    wrongful_inclusion_numerator = models.PositiveIntegerField(_("错评人数"))
    wrongful_inclusion_denominator = models.PositiveIntegerField(_("基期建档立卡人数"))
    wrongful_inclusion_rate = models.DecimalField(
        _("错评率"), max_digits=12, decimal_places=8, null=True
    )
    omission_numerator = models.PositiveIntegerField(_("漏评人数"))
    omission_denominator = models.PositiveIntegerField(_("基期非建档立卡农业人口"))
    omission_rate = models.DecimalField(_("漏评率"), max_digits=12, decimal_places=8, null=True)
    wrongful_exit_numerator = models.PositiveIntegerField(_("错退人数"))
    wrongful_exit_denominator = models.PositiveIntegerField(_("基期已脱贫人数"))
    wrongful_exit_rate = models.DecimalField(
        _("错退率"), max_digits=12, decimal_places=8, null=True
    )
    incidence_numerator = models.PositiveIntegerField(_("未脱贫人数"))
    incidence_denominator = models.PositiveIntegerField(_("户籍农业人口"))
    incidence_rate = models.DecimalField(
        _("贫困发生率"), max_digits=12, decimal_places=8, null=True
    )
    baseline_incidence_numerator = models.PositiveIntegerField(_("基期未脱贫人数"))
    baseline_incidence_rate = models.DecimalField(
        _("基期贫困发生率"), max_digits=12, decimal_places=8, null=True
    )
    completeness_numerator = models.PositiveIntegerField(_("已填必填项"))
    completeness_denominator = models.PositiveIntegerField(_("必填项"))
    completeness_rate = models.DecimalField(
        _("信息录入率"), max_digits=12, decimal_places=8, null=True
    )
    # {status: {"households": n, "persons": n}} after the round's changes, and at baseline.
    status_counts = models.JSONField(_("按状态户数人数"), default=dict)
    baseline_status_counts = models.JSONField(_("基期按状态户数人数"), default=dict)
    # {cause: {"households": n, "persons": n}} of the poor after the round's changes.
    cause_counts = models.JSONField(_("致贫原因构成"), default=dict)
    # {list kind: {"households": n, "persons": n}}: the round's approved 四类名单.
    list_counts = models.JSONField(_("四类名单户数人数"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))
    source = models.JSONField(_("数据来源"), default=dict)

    class Meta:
        abstract = True


class RateSnapshot(Figures):
    """The figures of one region for one dynamic-adjustment round, as computed by the rates job
    (`povertyapp.rates`). Dashboards and the API read these rows only; they never recompute.

    Each figure is stored as numerator, denominator and rate (a decimal fraction, 8 places; null
    when the denominator is 0). Rerunning the job replaces the row (one per region and round).
    """

    region = models.ForeignKey(
        Region, verbose_name=_("区域"), on_delete=models.PROTECT, related_name="rate_snapshots"
    )
    round = models.ForeignKey(
        AdjustmentRound,
        verbose_name=_("动态调整批次"),
        on_delete=models.PROTECT,
        related_name="rate_snapshots",
    )
    level = models.CharField(_("层级"), max_length=16, choices=Region.Level.choices)
    # 错评率, 漏评率, 错退率, 贫困发生率 (DOMAIN §8).

    objects = YearLockedManager()

    class Meta:
        db_table = "povertyapp_ratesnapshot"
        verbose_name = _("指标快照")
        verbose_name_plural = _("指标快照")
        ordering = ["round", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "round"], name="rate_snapshot_region_round"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.round_id}"


class FigureHistory(models.Model):
    """The dated history of a region's figures: one row per region, year and day, written by
    the rates job (`rounds.rates`, every region of a round's county) and the roll-up
    (`rounds.rollup`, cities and provinces) in the same transaction as the snapshot they store.
    A snapshot is replaced when its round is recomputed; this row is the figure as it stood
    that day (the day's last computation), so the work desk can compare today's figures with
    those of a week ago (`rounds.desk.figure_changes`). Rows older than
    `settings.FIGURE_HISTORY_WEEKS` are pruned nightly (`rounds.tasks.prune_figure_history_task`).
    """

    region = models.ForeignKey(
        Region, verbose_name=_("区域"), on_delete=models.PROTECT, related_name="figure_history"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    day = models.DateField(_("日期"))
    wrongful_inclusion_rate = models.DecimalField(
        _("错评率"), max_digits=12, decimal_places=8, null=True
    )
    omission_rate = models.DecimalField(_("漏评率"), max_digits=12, decimal_places=8, null=True)
    wrongful_exit_rate = models.DecimalField(
        _("错退率"), max_digits=12, decimal_places=8, null=True
    )
    incidence_rate = models.DecimalField(
        _("贫困发生率"), max_digits=12, decimal_places=8, null=True
    )
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("指标历史")
        verbose_name_plural = _("指标历史")
        ordering = ["region", "-year", "-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "day"], name="figure_history_region_year_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.day}"


class RollupSnapshot(Figures):
    """The figures of a city or a province for one year, rolled up from the county snapshots
    (`RateSnapshot` of each county for its round of that year) by `rounds.rollup`: every
    numerator and denominator is the sum of its counties', every rate that sum's quotient (never
    an average of rates). Rounds are per county and year, so a roll-up is keyed by (region,
    year). Rerunning the roll-up replaces the row; `counties` says how many of the region's
    counties had figures for the year and `source["missing"]` which had none.
    """

    region = models.ForeignKey(
        Region, verbose_name=_("区域"), on_delete=models.PROTECT, related_name="rollup_snapshots"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    level = models.CharField(_("层级"), max_length=16, choices=Region.Level.choices)
    counties = models.PositiveIntegerField(_("已汇总县数"), default=0)
    counties_expected = models.PositiveIntegerField(_("所辖县数"), default=0)
    # A province sums millions of required fields: beyond a 32-bit column.
    completeness_numerator = models.PositiveBigIntegerField(_("已填必填项"))
    completeness_denominator = models.PositiveBigIntegerField(_("必填项"))

    class Meta:
        verbose_name = _("上级汇总指标")
        verbose_name_plural = _("上级汇总指标")
        ordering = ["year", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="rollup_region_year"),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year}"
