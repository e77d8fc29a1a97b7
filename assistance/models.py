"""Assistance (帮扶): who helps each household, with what, paid from where (DOMAIN §6).

- Pairing (结对帮扶) and VillageSponsor (挂包单位); the 驻村工作队 is povertyapp's VillageYear.
- Measure (帮扶措施) per household or member, HouseholdPlan (一户一策), Visit (走访);
  OfflineSync: an entry recorded offline (visit, 入户核实, 排查表) and synced, by its key.
- MatchingRule: the cause/situation → measure/benefit matching of DOMAIN §6 as data the county
  office edits; AssistanceStandard: the thresholds (minimum measures, idle-fund days).
- CoverageRun / CoverageTally / CoverageGap: the stored result of the policy-coverage job
  (优惠政策落实防漏表), with what it checked per village.
- Project (项目库) with its approval (申报 → 审批 → 公告公示), ProjectFunding (budget by source),
  FundMovement (资金账).
- Asset (资产收益: assets formed by projects), AssetIncome (yearly income), AssetDistribution
  (the income paid to households).
- AssistanceEvent: every state change of the app, written in the same transaction.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.models import HistoricalRecords

# Year and money fields are defined once, with the registry's.
from households.models import MONEY, YEAR_VALIDATORS
from povertyapp.models import Job, Region
from povertyapp.photos import PhotoBase
from povertyapp.yearguard import YearLockedManager

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

LIST_SEPARATOR = "、"


def split_labels(text: str) -> list[str]:
    """Rule values are labels joined by "、" (or commas), as the county office types them."""
    for separator in ("，", ",", ";", "；", " "):
        text = text.replace(separator, LIST_SEPARATOR)
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


class FundSource(models.TextChoices):
    """资金来源 (DOMAIN §6)."""

    CENTRAL = "中央财政专项扶贫资金", _("中央财政专项扶贫资金")
    PROVINCIAL = "省级财政专项扶贫资金", _("省级财政专项扶贫资金")
    MUNICIPAL = "市级财政专项扶贫资金", _("市级财政专项扶贫资金")
    COUNTY = "县级财政专项扶贫资金", _("县级财政专项扶贫资金")
    INTEGRATED = "整合资金", _("整合资金")
    SOCIAL = "社会帮扶", _("社会帮扶")
    HOUSEHOLD = "农户自筹", _("农户自筹")
    OTHER = "其他", _("其他")


class Pairing(models.Model):
    """结对帮扶: a household's 帮扶责任人 from one date to another. A change adds a new line."""

    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="pairings",
    )
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("帮扶责任人账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pairings",
    )
    name = models.CharField(_("帮扶责任人"), max_length=32)
    unit = models.CharField(_("工作单位"), max_length=64, blank=True)
    post = models.CharField(_("职务"), max_length=32, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    start_date = models.DateField(_("帮扶开始日期"))
    end_date = models.DateField(_("帮扶结束日期"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("结对帮扶")
        verbose_name_plural = _("结对帮扶")
        ordering = ["household", "-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(end_date__isnull=True),
                name="pairing_one_current_per_household",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="pairing_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["helper", "end_date"], name="pairing_helper_idx")]

    def __str__(self) -> str:
        return f"{self.household} ← {self.name}"

    @property
    def is_current(self) -> bool:
        return self.end_date is None


class VillageSponsor(models.Model):
    """挂包单位: the unit responsible for a village in a year, with its contact."""

    village = models.ForeignKey(
        Region,
        verbose_name=_("行政村"),
        on_delete=models.PROTECT,
        related_name="sponsors",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    unit = models.CharField(_("挂包单位"), max_length=64)
    leader = models.CharField(_("联系领导"), max_length=32, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("挂包单位")
        verbose_name_plural = _("挂包单位")
        ordering = ["village__code", "-year", "unit"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "year", "unit"], name="village_sponsor_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.year} {self.unit}"


class AssistanceStandard(models.Model):
    """Thresholds of assistance, versioned by year (and optionally province): data, not code."""

    year_from = models.PositiveSmallIntegerField(_("起始年度"), validators=YEAR_VALIDATORS)
    province = models.ForeignKey(
        Region,
        verbose_name=_("适用省份"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("留空为全国通用。"),
    )
    min_measures = models.PositiveSmallIntegerField(_("每户最少帮扶措施数"), default=4)
    idle_fund_days = models.PositiveSmallIntegerField(
        _("资金闲置预警天数"),
        default=90,
        help_text=_("已下达资金超过该天数仍未支出的，列为闲置。"),
    )
    min_days_resident = models.PositiveSmallIntegerField(_("驻村天数要求"), default=200)

    class Meta:
        verbose_name = _("帮扶工作标准")
        verbose_name_plural = _("帮扶工作标准")
        ordering = ["-year_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["year_from", "province"], name="assistance_standard_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year_from}: ≥{self.min_measures}"


class MatchingRule(models.Model):
    """One matching rule of DOMAIN §6: who qualifies (a condition over the household or each
    member) and what answers it (measures of some categories, or an enrolment / benefit flag).

    The conditions and flags come from a fixed vocabulary (the fields of the registry); the
    labels, categories, ages and which rules exist are data the county office edits. The
    household assistance page, the coverage job and the demo all evaluate these rows through
    `assistance.matching`.
    """

    class Kind(models.TextChoices):
        MEASURE = "measure", _("帮扶措施")
        BENEFIT = "benefit", _("政策享受")

    class Level(models.TextChoices):
        HOUSEHOLD = "household", _("户")
        MEMBER = "member", _("人")

    class Condition(models.TextChoices):
        CAUSE = "cause", _("致贫原因（主要或其他）属于所列值")
        HOUSE_GRADE = "house_grade", _("危房等级属于所列值")
        WATER_UNSAFE = "water_unsafe", _("饮水不安全或饮水困难")
        NO_LABOUR = "no_labour", _("全户无劳动力")
        ATTRIBUTE = "attribute", _("贫困户属性属于所列值")
        HEALTH = "health", _("成员健康状况含所列值")
        SCHOOL = "school", _("成员在校生状况属于所列值")
        EVERYONE = "everyone", _("每名成员（可限年龄）")

    HOUSEHOLD_CONDITIONS = {
        Condition.CAUSE,
        Condition.HOUSE_GRADE,
        Condition.WATER_UNSAFE,
        Condition.NO_LABOUR,
        Condition.ATTRIBUTE,
    }

    class Flag(models.TextChoices):
        MEDICAL = "has_medical_insurance", _("参加基本医疗保险")
        CRITICAL = "has_critical_illness_insurance", _("参加大病保险")
        PENSION = "has_pension_insurance", _("参加城乡居民基本养老保险")
        DISABILITY_CERTIFICATE = "disability_certificate", _("持有残疾证")
        DIBAO = "receives_dibao", _("享受农村低保")
        TEKUN = "is_tekun", _("特困供养")
        HOUSE_RENOVATED = "house_renovated", _("已完成危房改造")
        RELOCATED = "relocated", _("已易地扶贫搬迁")
        ANY_DIBAO = "any_dibao", _("户内有成员享受低保")
        ANY_TEKUN = "any_tekun", _("户内有特困供养人员")

    MEMBER_FLAGS = {
        Flag.MEDICAL,
        Flag.CRITICAL,
        Flag.PENSION,
        Flag.DISABILITY_CERTIFICATE,
        Flag.DIBAO,
        Flag.TEKUN,
    }

    code = models.SlugField(_("规则代码"), max_length=32, unique=True)
    label = models.CharField(_("应享措施或政策"), max_length=32)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    level = models.CharField(_("对象"), max_length=12, choices=Level.choices)
    condition = models.CharField(_("条件"), max_length=16, choices=Condition.choices)
    values = models.CharField(
        _("条件取值"),
        max_length=200,
        blank=True,
        help_text=_("多个值用“、”分隔。"),
    )
    min_age = models.PositiveSmallIntegerField(_("最小年龄"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("最大年龄"), null=True, blank=True)
    exclude_students = models.BooleanField(_("不含在校生"), default=False)
    needs_working_age_labour = models.BooleanField(
        _("须有劳动年龄劳动力"),
        default=False,
        help_text=_("仅当户内有16至60岁的普通或技能劳动力时适用。"),
    )
    categories = models.CharField(
        _("满足条件的措施类别"),
        max_length=200,
        blank=True,
        help_text=_("有其中任一类别的有效措施即视为已落实，多个用“、”分隔。"),
    )
    flags = models.CharField(
        _("满足条件的享受标志"),
        max_length=200,
        blank=True,
        help_text=_("成员或户的享受标志代码，多个用“、”分隔（见下方可选标志）。"),
    )
    check_wrongful = models.BooleanField(
        _("检查违规享受"),
        default=False,
        help_text=_("不符合条件却享受（有该类措施或标志）时列为违规享受。"),
    )
    year_from = models.PositiveSmallIntegerField(
        _("起始年度"), default=2014, validators=YEAR_VALIDATORS
    )
    year_to = models.PositiveSmallIntegerField(
        _("终止年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    note = models.CharField(_("依据说明"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("帮扶匹配规则")
        verbose_name_plural = _("帮扶匹配规则")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def value_list(self) -> list[str]:
        return split_labels(self.values)

    @property
    def category_list(self) -> list[str]:
        return split_labels(self.categories)

    @property
    def flag_list(self) -> list[str]:
        return split_labels(self.flags)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, list[ValidationError]] = {}
        household_condition = self.condition in self.HOUSEHOLD_CONDITIONS
        if household_condition != (self.level == self.Level.HOUSEHOLD):
            errors.setdefault("condition", []).append(
                ValidationError(_("该条件与对象（户/人）不符。"), code="condition_level")
            )
        if (
            self.condition
            in {
                self.Condition.CAUSE,
                self.Condition.HOUSE_GRADE,
                self.Condition.ATTRIBUTE,
                self.Condition.HEALTH,
                self.Condition.SCHOOL,
            }
            and not self.value_list
        ):
            errors.setdefault("values", []).append(
                ValidationError(_("该条件须填写取值。"), code="values_required")
            )
        if not self.category_list and not self.flag_list:
            errors.setdefault("categories", []).append(
                ValidationError(_("请至少填写一项措施类别或享受标志。"), code="fulfilment_required")
            )
        for flag in self.flag_list:
            if flag not in self.Flag.values:
                errors.setdefault("flags", []).append(
                    ValidationError(
                        _("“%(flag)s”不是可用的享受标志。"),
                        code="unknown_flag",
                        params={"flag": flag},
                    )
                )
            elif (flag in self.MEMBER_FLAGS) != (self.level == self.Level.MEMBER):
                errors.setdefault("flags", []).append(
                    ValidationError(
                        _("享受标志“%(flag)s”与对象（户/人）不符。"),
                        code="flag_level",
                        params={"flag": flag},
                    )
                )
        if self.min_age is not None and self.max_age is not None and self.max_age < self.min_age:
            errors.setdefault("max_age", []).append(
                ValidationError(_("最大年龄不能小于最小年龄。"), code="ages_ordered")
            )
        if self.year_to is not None and self.year_to < self.year_from:
            errors.setdefault("year_to", []).append(
                ValidationError(_("终止年度不能早于起始年度。"), code="years_ordered")
            )
        if errors:
            raise ValidationError(errors)


class Project(models.Model):
    """A project of the 项目库. Money totals are kept by the services from the fund movements
    (and checked against them by `selectors.project_reconciliation`)."""

    class Category(models.TextChoices):
        INDUSTRY = "产业", _("产业")
        INFRASTRUCTURE = "基础设施", _("基础设施")
        LIVING = "生活条件改善", _("生活条件改善")
        EDUCATION = "教育", _("教育")
        EMPLOYMENT = "就业", _("就业")
        MANAGEMENT = "项目管理费", _("项目管理费")

    class Status(models.TextChoices):
        PLANNED = "planned", _("计划")
        IN_PROGRESS = "in_progress", _("实施中")
        ACCEPTED = "accepted", _("已验收")
        CLOSED = "closed", _("已关闭")

    class Approval(models.TextChoices):
        """申报 → 审批 → 公告公示: no money moves before the 公示 period has ended."""

        DECLARED = "declared", _("已申报")
        APPROVED = "approved", _("已审批")
        PUBLISHED = "published", _("已公告公示")

    code = models.CharField(
        _("项目编号"),
        max_length=32,
        blank=True,
        help_text=_("项目库编号，全县唯一；项目导入以此识别同一项目。"),
    )
    name = models.CharField(_("项目名称"), max_length=128)
    category = models.CharField(_("项目类别"), max_length=8, choices=Category.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("实施地点"),
        on_delete=models.PROTECT,
        related_name="projects",
        help_text=_("行政村，或跨村项目的乡镇、县。"),
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    content = models.TextField(_("建设内容"), blank=True)
    responsible_unit = models.CharField(_("责任单位"), max_length=64)
    planned_start = models.DateField(_("计划开工日期"), null=True, blank=True)
    planned_end = models.DateField(_("计划完工日期"), null=True, blank=True)
    actual_start = models.DateField(_("实际开工日期"), null=True, blank=True)
    actual_end = models.DateField(_("实际完工日期"), null=True, blank=True)
    progress_percent = models.PositiveSmallIntegerField(
        _("进度（%）"), default=0, validators=[MaxValueValidator(100)]
    )
    progress_note = models.CharField(_("进度说明"), max_length=500, blank=True)
    accepted_on = models.DateField(_("验收日期"), null=True, blank=True)
    settled_amount = models.DecimalField(
        _("决算金额（元）"), null=True, blank=True, max_digits=14, decimal_places=2
    )
    performance_goal = models.TextField(_("绩效目标"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    approval = models.CharField(
        _("审批状态"), max_length=12, choices=Approval.choices, default=Approval.DECLARED
    )
    approved_on = models.DateField(_("审批日期"), null=True, blank=True)
    approval_document = models.CharField(_("审批文号"), max_length=64, blank=True)
    publicity_start = models.DateField(_("公示开始日期"), null=True, blank=True)
    publicity_end = models.DateField(_("公示结束日期"), null=True, blank=True)
    beneficiaries = models.ManyToManyField(
        "households.Household",
        verbose_name=_("受益户"),
        blank=True,
        related_name="projects",
    )
    budget_total = models.DecimalField(_("资金规模（元）"), **MONEY)
    allocated_total = models.DecimalField(_("已下达（元）"), **MONEY)
    arrived_total = models.DecimalField(_("已到位（元）"), **MONEY)
    spent_total = models.DecimalField(_("已支出（元）"), **MONEY)
    reimbursed_total = models.DecimalField(_("已报账（元）"), **MONEY)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("扶贫项目")
        verbose_name_plural = _("项目库")
        ordering = ["-year", "region__code", "name"]
        indexes = [models.Index(fields=["region", "year"], name="project_region_year_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(arrived_total__lte=models.F("allocated_total"))
                & models.Q(spent_total__lte=models.F("arrived_total"))
                & models.Q(reimbursed_total__lte=models.F("spent_total")),
                name="project_money_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(approval="declared") | models.Q(approved_on__isnull=False),
                name="project_approved_has_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(approval="published")
                | models.Q(publicity_start__isnull=False, publicity_end__isnull=False),
                name="project_published_has_period",
            ),
            models.UniqueConstraint(
                fields=["code"], condition=~models.Q(code=""), name="project_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    def publicity_passed(self, on: datetime.date) -> bool:
        """Whether the project's 公示 has ended before `on`: money may move from then on."""
        return (
            self.approval == self.Approval.PUBLISHED
            and self.publicity_end is not None
            and self.publicity_end < on
        )


class ProjectFunding(models.Model):
    """资金规模与来源: the budget of a project from one source."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="fundings"
    )
    source = models.CharField(_("资金来源"), max_length=16, choices=FundSource.choices)
    amount = models.DecimalField(_("计划金额（元）"), **MONEY)

    class Meta:
        verbose_name = _("项目资金来源")
        verbose_name_plural = _("项目资金来源")
        ordering = ["project", "source"]
        constraints = [
            models.UniqueConstraint(fields=["project", "source"], name="funding_unique_source"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.source} {self.amount}"


class FundMovement(models.Model):
    """A movement of a project's money: 下达 → 到位 → 支出 → 报账, optionally to one household."""

    class Kind(models.TextChoices):
        ALLOCATED = "allocated", _("下达")
        ARRIVED = "arrived", _("到位")
        SPENT = "spent", _("支出")
        REIMBURSED = "reimbursed", _("报账")

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    source = models.CharField(_("资金来源"), max_length=16, choices=FundSource.choices)
    amount = models.DecimalField(
        _("金额（元）"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    date = models.DateField(_("日期"))
    document_number = models.CharField(_("文号"), max_length=64, blank=True)
    voucher = models.CharField(_("报账凭证号"), max_length=64, blank=True)
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("到户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fund_movements",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("资金流水")
        verbose_name_plural = _("资金流水")
        ordering = ["project", "date", "id"]
        indexes = [
            models.Index(fields=["project", "kind", "source"], name="movement_project_idx"),
            models.Index(fields=["household", "kind"], name="movement_household_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.get_kind_display()} {self.amount}"


class Measure(models.Model):
    """A 帮扶措施 for a household, or for one member where it is personal."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("计划")
        IN_PROGRESS = "in_progress", _("实施中")
        COMPLETED = "completed", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    # Keyed by the stored status value (a plain str on a loaded row).
    TRANSITIONS: dict[str, set[str]] = {
        Status.PLANNED: {Status.IN_PROGRESS, Status.COMPLETED, Status.CANCELLED},
        Status.IN_PROGRESS: {Status.COMPLETED, Status.CANCELLED},
        Status.COMPLETED: set(),
        Status.CANCELLED: set(),
    }

    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="measures",
    )
    member = models.ForeignKey(
        "households.Member",
        verbose_name=_("受益成员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
    )
    year = models.PositiveSmallIntegerField(_("帮扶年度"), validators=YEAR_VALIDATORS)
    category = models.CharField(_("措施类别"), max_length=32)
    content = models.CharField(_("措施内容"), max_length=500)
    planned_start = models.DateField(_("计划开始日期"), null=True, blank=True)
    planned_end = models.DateField(_("计划完成日期"), null=True, blank=True)
    actual_start = models.DateField(_("实际开始日期"), null=True, blank=True)
    actual_end = models.DateField(_("实际完成日期"), null=True, blank=True)
    responsible = models.CharField(_("责任人"), max_length=32, blank=True)
    amount = models.DecimalField(_("帮扶资金（元）"), **MONEY)
    fund_source = models.CharField(
        _("资金来源"), max_length=16, choices=FundSource.choices, blank=True
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("所属项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    result = models.CharField(_("帮扶成效"), max_length=500, blank=True)
    income_effect = models.DecimalField(_("增收效果（元/年）"), **MONEY)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        ordering = ["household", "-year", "id"]
        indexes = [
            models.Index(fields=["household", "category", "status"], name="measure_household_idx"),
            models.Index(fields=["member", "category", "status"], name="measure_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category}：{self.content}"

    @property
    def is_effective(self) -> bool:
        return self.status != self.Status.CANCELLED


class HouseholdPlan(models.Model):
    """一户一策: the household's plan for a year; its measures are the year's measures."""

    household = models.ForeignKey(
        "households.Household", verbose_name=_("户"), on_delete=models.PROTECT, related_name="plans"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    goals = models.TextField(_("帮扶目标"))
    expected_income = models.DecimalField(_("预期年纯收入（元）"), **MONEY)
    exit_target = models.BooleanField(_("计划当年脱贫"), default=False)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("制定人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("一户一策")
        verbose_name_plural = _("一户一策")
        ordering = ["household", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="plan_household_year"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.year}"


class Visit(models.Model):
    """走访: who visited, when, what was seen and done, next steps, the 遍访 answers."""

    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    date = models.DateField(_("走访日期"))
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访人账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
    )
    visitor_name = models.CharField(_("走访人"), max_length=32)
    seen = models.TextField(_("走访了解情况"))
    done = models.TextField(_("帮扶工作开展情况"), blank=True)
    next_steps = models.TextField(_("下一步打算"), blank=True)
    questionnaire = models.JSONField(_("遍访问卷"), default=dict, blank=True)
    contact_card_given = models.BooleanField(_("已发放帮扶联系卡"), default=False)
    benefit_card_given = models.BooleanField(_("已发放帮扶明白卡"), default=False)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["household", "-date", "-id"]
        indexes = [models.Index(fields=["household", "date"], name="visit_household_idx")]

    def __str__(self) -> str:
        return f"{self.household} {self.date} {self.visitor_name}"


class VisitPhoto(PhotoBase):
    """A photo taken on a visit (现场照片, `povertyapp.photos`): stored re-encoded through the
    file door (kind `visit_photo`), locked with its visit's year."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("走访记录"), on_delete=models.CASCADE, related_name="photos"
    )

    objects = YearLockedManager()

    class Meta(PhotoBase.Meta):
        verbose_name = _("走访照片")
        verbose_name_plural = _("走访照片")
        indexes = [models.Index(fields=["visit", "taken_at"], name="visit_photo_visit_idx")]

    def __str__(self) -> str:
        return f"{self.visit} {self.taken_at:%Y-%m-%d %H:%M}"


class OfflineSync(models.Model):
    """An entry recorded on a phone without signal and applied when it synced (docs/offline.md):
    a visit (遍访问卷), a clue's 入户核实, a household's 集中排查表 or the 入户核实 step of a
    procedure (识别, 退出, 监测对象识别).

    The phone gives every entry a key of its own (a UUID) and sends it with each attempt: a
    retried sync finds this row and is answered with what was applied, never a second time.
    Only applied entries are kept; an entry refused (conflict, out of scope, invalid) keeps
    its key on the phone until the user decides, so the decision can be sent under the same key.
    A visit points at its `Visit`; the kinds of the apps above (monitoring) name their record
    by `target` (its id) and keep the answer the phone got in `answer`, so this table needs no
    key to their models.
    """

    class Kind(models.TextChoices):
        VISIT = "visit", _("走访")
        CLUE_VERIFY = "clue_verify", _("线索入户核实")
        SWEEP = "sweep", _("集中排查表")
        STEP = "step", _("程序入户核实")

    class Result(models.TextChoices):
        APPLIED = "applied", _("已同步")

    key = models.UUIDField(_("同步键"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.VISIT)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        on_delete=models.PROTECT,
        related_name="offline_syncs",
    )
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="offline_syncs",
        null=True,
        blank=True,
    )
    visit = models.OneToOneField(
        Visit,
        verbose_name=_("走访记录"),
        on_delete=models.PROTECT,
        related_name="offline_sync",
        null=True,
        blank=True,
    )
    target = models.PositiveBigIntegerField(_("记录编号"), null=True, blank=True)
    answer = models.JSONField(_("同步答复"), default=dict, blank=True)
    result = models.CharField(
        _("同步结果"), max_length=16, choices=Result.choices, default=Result.APPLIED
    )
    recorded_at = models.DateTimeField(_("手机上录入时间"), null=True, blank=True)
    synced_at = models.DateTimeField(_("同步时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("离线同步")
        verbose_name_plural = _("离线同步")

    def __str__(self) -> str:
        return f"{self.key} {self.get_result_display()}"


class CoverageRun(models.Model):
    """One computation of the policy-coverage table for a region (its subtree)."""

    region = models.ForeignKey(
        Region, verbose_name=_("区域"), on_delete=models.PROTECT, related_name="coverage_runs"
    )
    job = models.ForeignKey(
        Job,
        verbose_name=_("后台任务"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    computed_at = models.DateTimeField(_("计算时间"))
    reference_date = models.DateField(_("年龄计算基准日"))
    households = models.PositiveIntegerField(_("核查户数"), default=0)
    members = models.PositiveIntegerField(_("核查人数"), default=0)
    missing = models.PositiveIntegerField(_("应享未享"), default=0)
    wrongful = models.PositiveIntegerField(_("违规享受"), default=0)
    rules = models.JSONField(_("规则"), default=list, blank=True)

    class Meta:
        verbose_name = _("政策落实核查")
        verbose_name_plural = _("政策落实核查")
        ordering = ["-computed_at"]
        indexes = [models.Index(fields=["region", "-computed_at"], name="coverage_region_idx")]

    def __str__(self) -> str:
        return f"{self.region} {self.computed_at:%Y-%m-%d %H:%M}"


class CoverageTally(models.Model):
    """What a run checked in one village: its covered households and their living members.

    The run's own totals are the sums of its tallies; a page that shows a run for a part of
    its region (a county of a province's run, a township of a county's) adds up that part's
    villages, so its figures are those of the registry at the run's time, not of today."""

    run = models.ForeignKey(
        CoverageRun, verbose_name=_("核查"), on_delete=models.CASCADE, related_name="tallies"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="+"
    )
    households = models.PositiveIntegerField(_("核查户数"), default=0)
    members = models.PositiveIntegerField(_("核查人数"), default=0)

    class Meta:
        verbose_name = _("政策落实核查村级户数")
        verbose_name_plural = _("政策落实核查村级户数")
        constraints = [
            models.UniqueConstraint(fields=["run", "village"], name="coverage_tally_run_village")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.village_id} {self.households}/{self.members}"


class CoverageGap(models.Model):
    """One row behind the coverage table: a household or member missing a benefit it qualifies
    for (应享未享), or receiving one it does not qualify for (违规享受)."""

    class Kind(models.TextChoices):
        MISSING = "missing", _("应享未享")
        WRONGFUL = "wrongful", _("违规享受")

    run = models.ForeignKey(
        CoverageRun, verbose_name=_("核查"), on_delete=models.CASCADE, related_name="gaps"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "households.Household", verbose_name=_("户"), on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        "households.Member",
        verbose_name=_("成员"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    rule = models.ForeignKey(
        MatchingRule, verbose_name=_("规则"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)

    class Meta:
        verbose_name = _("政策落实问题")
        verbose_name_plural = _("政策落实问题")
        indexes = [models.Index(fields=["run", "village", "kind"], name="gap_run_village_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.rule_id} {self.kind}"


class Asset(models.Model):
    """资产收益: an asset formed by a project, owned after 确权 by the village collective, the
    households, a cooperative..., earning a yearly income (AssetIncome) that is paid out to
    households (AssetDistribution).

    A 村集体 asset distributes to the registered households of its village; a 到户 asset to the
    households it was handed to (`households`)."""

    class Kind(models.TextChoices):
        COLLECTIVE = "collective", _("村集体资产")
        HOUSEHOLD = "household", _("到户资产")

    class Ownership(models.TextChoices):
        """确权 (who owns the asset once its ownership is confirmed)."""

        COLLECTIVE = "村集体", _("村集体")
        HOUSEHOLD = "农户", _("农户")
        COOPERATIVE = "合作社", _("合作社")
        ENTERPRISE = "企业", _("企业")
        OTHER = "其他", _("其他")

    project = models.ForeignKey(
        Project, verbose_name=_("来源项目"), on_delete=models.PROTECT, related_name="assets"
    )
    kind = models.CharField(_("资产类型"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("资产名称"), max_length=128)
    village = models.ForeignKey(
        Region,
        verbose_name=_("所在行政村"),
        on_delete=models.PROTECT,
        related_name="assets",
        limit_choices_to={"level": Region.Level.VILLAGE},
    )
    value = models.DecimalField(_("资产价值（元）"), **MONEY)
    ownership = models.CharField(_("确权归属"), max_length=8, choices=Ownership.choices)
    manager = models.CharField(_("管护主体"), max_length=64)
    formed_on = models.DateField(_("形成日期"))
    households = models.ManyToManyField(
        "households.Household",
        verbose_name=_("到户农户"),
        blank=True,
        related_name="assets",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("扶贫资产")
        verbose_name_plural = _("扶贫资产")
        ordering = ["village__code", "name", "id"]
        indexes = [models.Index(fields=["village", "kind"], name="asset_village_idx")]

    def __str__(self) -> str:
        return self.name


class AssetIncome(models.Model):
    """The income (收益) of an asset in one year."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("资产"), on_delete=models.CASCADE, related_name="incomes"
    )
    year = models.PositiveSmallIntegerField(_("收益年度"), validators=YEAR_VALIDATORS)
    amount = models.DecimalField(_("收益金额（元）"), **MONEY)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("资产收益")
        verbose_name_plural = _("资产收益")
        ordering = ["asset", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "year"], name="asset_income_year_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.year} {self.amount}"


class AssetDistribution(models.Model):
    """The part of an asset's income of a year paid to one household (收益分配)."""

    asset = models.ForeignKey(
        Asset, verbose_name=_("资产"), on_delete=models.CASCADE, related_name="distributions"
    )
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="asset_distributions",
    )
    year = models.PositiveSmallIntegerField(_("收益年度"), validators=YEAR_VALIDATORS)
    amount = models.DecimalField(
        _("分配金额（元）"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    paid_on = models.DateField(_("发放日期"), null=True, blank=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("资产收益分配")
        verbose_name_plural = _("资产收益分配")
        ordering = ["asset", "-year", "household"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "household", "year"], name="asset_distribution_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["household", "year"], name="asset_distribution_hh_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.year} {self.household_id} {self.amount}"


class AssistanceEvent(models.Model):
    """Every state change of the assistance app, written in the same transaction."""

    class Kind(models.TextChoices):
        PAIRING_CHANGED = "pairing_changed", _("更换帮扶责任人")
        MEASURE_ADDED = "measure_added", _("新增帮扶措施")
        MEASURE_CHANGED = "measure_changed", _("修改帮扶措施")
        MEASURE_STATUS = "measure_status", _("措施状态变更")
        PLAN_SET = "plan_set", _("制定一户一策")
        VISIT = "visit", _("走访")
        PROJECT_CREATED = "project_created", _("项目申报入库")
        PROJECT_APPROVED = "project_approved", _("项目审批")
        PROJECT_PUBLISHED = "project_published", _("项目公告公示")
        PROJECT_PROGRESS = "project_progress", _("项目进度")
        PROJECT_ACCEPTED = "project_accepted", _("项目验收")
        PROJECT_CLOSED = "project_closed", _("项目关闭")
        FUND_MOVEMENT = "fund_movement", _("资金流水")
        SPONSOR_SET = "sponsor_set", _("设置挂包单位")
        ASSET_REGISTERED = "asset_registered", _("资产登记")
        ASSET_CHANGED = "asset_changed", _("资产信息修改")
        ASSET_INCOME = "asset_income", _("资产收益登记")
        ASSET_DISTRIBUTION = "asset_distribution", _("资产收益分配")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assistance_events",
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("项目"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("措施"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("走访"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    from_value = models.CharField(_("变更前"), max_length=64, blank=True)
    to_value = models.CharField(_("变更后"), max_length=64, blank=True)
    summary = models.CharField(_("摘要"), max_length=500, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("帮扶记录")
        verbose_name_plural = _("帮扶记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["household", "-created_at"], name="assist_event_household_idx"),
            models.Index(fields=["project", "-created_at"], name="assist_event_project_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.summary}"


# The 遍访 questionnaire (key, question, answer choices; empty choices: free text). The answers
# are kept on the visit as they were given (the Chinese choice, whatever the reader's language:
# gettext_noop marks the choices for the catalog, the form shows them translated); changing this
# list does not alter past visits.
VISIT_QUESTIONS: list[tuple[str, StrPromise, list[str]]] = [
    ("food", _("不愁吃：口粮是否稳定充足"), [gettext_noop("是"), gettext_noop("否")]),
    ("clothing", _("不愁穿：是否有四季换季衣服、被褥"), [gettext_noop("是"), gettext_noop("否")]),
    (
        "education",
        _("义务教育：适龄子女是否都在校"),
        [gettext_noop("是"), gettext_noop("否"), gettext_noop("无适龄子女")],
    ),
    (
        "medical",
        _("基本医疗：家庭成员是否都参加医保、看病是否有报销"),
        [gettext_noop("是"), gettext_noop("否")],
    ),
    ("housing", _("住房安全：住房是否安全"), [gettext_noop("是"), gettext_noop("否")]),
    ("water", _("饮水安全：饮水是否安全方便"), [gettext_noop("是"), gettext_noop("否")]),
    ("income", _("主要收入来源"), []),
    (
        "measures_known",
        _("是否清楚享受的帮扶措施和政策"),
        [gettext_noop("清楚"), gettext_noop("部分清楚"), gettext_noop("不清楚")],
    ),
    ("helper_known", _("是否认识帮扶责任人"), [gettext_noop("是"), gettext_noop("否")]),
    (
        "satisfaction",
        _("对帮扶工作是否满意"),
        [gettext_noop("满意"), gettext_noop("基本满意"), gettext_noop("不满意")],
    ),
    ("difficulties", _("当前主要困难和诉求"), []),
]

# What a visit may verify and update on the household (through the registry's own service).
VISIT_HOUSEHOLD_FIELDS = (
    "food_secure",
    "clothing_secure",
    "water_safe",
    "water_difficult",
    "has_sanitary_toilet",
)
