"""防止返贫（致贫）动态监测 (DOMAIN §7; issue 15): monitoring objects beside a household's poverty
status, the monitoring line, the income method's assessments, one inbox of 风险线索 from three
channels, the departments' lists, the yearly 集中排查 and the department data for exclusion
scrutiny.

The registry (`households`) holds the households, members and the procedure machine; a
monitoring object's identification (监测对象识别) and 风险消除 are procedures registered there
(`monitoring.procedures`). Measures are the assistance app's; the tables here only link them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from households.models import YEAR_VALIDATORS, CaseWorkflow, Household, Member
from povertyapp.crypto import BlindIndexField, EncryptedCharField
from povertyapp.filenames import PrivateUploadTo
from povertyapp.models import Job, Region, User
from povertyapp.photos import PhotoBase
from povertyapp.yearguard import YearLockedManager

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
Department = User.Department


class ObjectType(models.TextChoices):
    """监测对象类型."""

    UNSTABLE = "unstable", _("脱贫不稳定户")
    MARGINAL = "marginal", _("边缘易致贫户")
    SUDDEN = "sudden", _("突发严重困难户")


class RiskType(models.TextChoices):
    """风险类型 (DOMAIN §7). A household may have several."""

    ILLNESS = "illness", _("因病")
    EDUCATION = "education", _("因学")
    DISABILITY = "disability", _("因残")
    DISASTER = "disaster", _("因自然灾害")
    ACCIDENT = "accident", _("因意外事故")
    INDUSTRY = "industry", _("因产业失败")
    EMPLOYMENT = "employment", _("因务工就业不稳")
    LABOUR = "labour", _("缺劳动力")
    HOUSING = "housing", _("住房安全")
    OTHER = "other", _("其他")


# The risks that open the 绿色通道 (measures start before the procedure completes).
GREEN_CHANNEL_RISKS = (RiskType.DISASTER, RiskType.ACCIDENT)


class EliminationWay(models.TextChoices):
    ASSISTED = "assisted", _("帮扶消除")
    NATURAL = "natural", _("自然消除")


# --- the monitoring line ----------------------------------------------------------------------


class DibaoStandard(models.Model):
    """农村低保标准 of an area (province, city or county) and year, yuan per person per year."""

    region = models.ForeignKey(Region, verbose_name=_("适用区域"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    amount = models.DecimalField(
        _("农村低保标准（元/人·年）"), **MONEY, validators=[MinValueValidator(Decimal("1"))]
    )

    class Meta:
        verbose_name = _("农村低保标准")
        verbose_name_plural = _("农村低保标准")
        ordering = ["-year", "region"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="dibao_standard_region_year")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region} {self.amount}"


class MonitoringLine(models.Model):
    """防返贫监测标准 of a province (or county) and year: a fixed amount, or a multiple of the
    农村低保标准 of the same area and year (`monitoring.lines` computes it)."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("固定金额")
        DIBAO_MULTIPLE = "dibao_multiple", _("农村低保标准的倍数")

    region = models.ForeignKey(Region, verbose_name=_("适用区域"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    kind = models.CharField(_("确定方式"), max_length=16, choices=Kind.choices)
    amount = models.DecimalField(
        _("监测标准（元/人·年）"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1"))],
    )
    multiple = models.DecimalField(
        _("低保标准倍数"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1"))],
    )
    basis = models.CharField(_("文件依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("防返贫监测标准")
        verbose_name_plural = _("防返贫监测标准")
        ordering = ["-year", "region"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="monitoring_line_region_year"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="amount", amount__isnull=False, multiple__isnull=True)
                    | models.Q(kind="dibao_multiple", amount__isnull=True, multiple__isnull=False)
                ),
                name="monitoring_line_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region}"


# --- the income method ------------------------------------------------------------------------


class IncomeAssessment(models.Model):
    """One household income assessment by the method monitoring and 低保 share (DOMAIN §7): the
    12 months before the declaration or sweep, net of 合规自付 medical costs and insurance
    payouts, over the household as 户籍 plus who actually lives and shares income with it."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="income_assessments",
    )
    period_end = models.DateField(_("核算截止日期"))
    period_start = models.DateField(_("核算起始日期"))
    wage = models.DecimalField(_("工资性收入"), **MONEY, default=Decimal("0"))
    production = models.DecimalField(_("生产经营性收入"), **MONEY, default=Decimal("0"))
    property_income = models.DecimalField(_("财产性收入"), **MONEY, default=Decimal("0"))
    transfer = models.DecimalField(_("转移性收入"), **MONEY, default=Decimal("0"))
    production_cost = models.DecimalField(_("生产经营性支出"), **MONEY, default=Decimal("0"))
    compliant_out_of_pocket = models.DecimalField(
        _("合规自付医疗支出"), **MONEY, default=Decimal("0")
    )
    insurance_payouts = models.DecimalField(_("保险理赔"), **MONEY, default=Decimal("0"))
    # 户籍 members counted, plus the co-resident sharers listed by name.
    persons = models.PositiveSmallIntegerField(_("共同生活人口"))
    co_residents = models.CharField(_("共同生活的非户籍人员"), max_length=200, blank=True)
    net_income = models.DecimalField(_("家庭年纯收入"), **MONEY)
    per_capita = models.DecimalField(_("人均纯收入"), **MONEY)
    line = models.DecimalField(_("监测标准"), **MONEY, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核算人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("核算时间"), auto_now_add=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("收入核算")
        verbose_name_plural = _("收入核算")
        ordering = ["household", "-period_end", "-id"]

    def __str__(self) -> str:
        return f"{self.household} {self.period_end}"


# --- the departments' lists -------------------------------------------------------------------


class DepartmentList(models.Model):
    """One list pushed by a department (a workbook uploaded by its account or the county office):
    risk warnings (部门筛查预警) or data for exclusion scrutiny (剔除核查). Each row becomes a
    clue or a scrutiny task; the result workbook goes back to the department."""

    class Purpose(models.TextChoices):
        RISK = "risk", _("风险预警")
        SCRUTINY = "scrutiny", _("剔除核查")
        IDENTITY = "identity", _("身份共享")

    class State(models.TextChoices):
        PENDING = "pending", _("待处理")
        DONE = "done", _("已导入")
        REFUSED = "refused", _("已拒收")

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField(_("推送部门"), max_length=24, choices=Department.choices)
    purpose = models.CharField(_("用途"), max_length=12, choices=Purpose.choices)
    # The layout (`monitoring.layouts`): which department list this is (大额医疗自付, 辍学, 车辆 …).
    layout = models.CharField(_("名单类型"), max_length=32)
    period = models.CharField(_("数据期间"), max_length=32, blank=True)
    file_name = models.CharField(_("文件名"), max_length=200)
    state = models.CharField(_("状态"), max_length=12, choices=State.choices, default=State.PENDING)
    refusal = models.CharField(_("拒收原因"), max_length=500, blank=True)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_matched = models.PositiveIntegerField(_("匹配行数"), default=0)
    rows_unmatched = models.PositiveIntegerField(_("未匹配行数"), default=0)
    rows_duplicate = models.PositiveIntegerField(_("重复行数"), default=0)
    # Rows under the warning standard (医保 costs under the threshold, 车辆 under the value set):
    # counted, never clues or tasks.
    rows_below = models.PositiveIntegerField(_("未达预警标准行数"), default=0)
    job = models.ForeignKey(
        Job, verbose_name=_("任务"), on_delete=models.SET_NULL, null=True, blank=True
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("部门推送名单")
        verbose_name_plural = _("部门推送名单")
        ordering = ["-uploaded_at", "-id"]

    # The layouts' names (`monitoring.layouts` fills it when imported: the layouts are data
    # above this module, which cannot import them).
    LAYOUT_LABELS: ClassVar[dict[str, Any]] = {}

    def __str__(self) -> str:
        layout = self.LAYOUT_LABELS.get(self.layout, self.layout)
        return f"{self.get_department_display()} {layout} {self.period}".strip()


# --- 农村低收入人口的身份 -------------------------------------------------------------------------


class IdentityKind(models.TextChoices):
    """The identities another department certifies (民政's low-income monitoring, DOMAIN §7
    2025–2026). The registry's own (脱贫人口, 防止返贫监测对象) are read from the household's
    status and monitoring objects (`monitoring.identities`), never stored twice."""

    DIBAO = "dibao", _("农村低保对象")
    TEKUN = "tekun", _("农村特困人员")
    DIBAO_EDGE = "dibao_edge", _("低保边缘家庭成员")
    RIGID_COSTS = "rigid_costs", _("刚性支出困难家庭成员")


class PersonIdentity(models.Model):
    """One identity of a rural low-income person as the certifying department sent it (a row
    of a 身份共享 list): who, which identity, from when to when. A person may hold several at
    once; the same identity with a later 认定日期 is a new row (the earlier one ends the day
    before). Matched by ID number to the registry's member when there is one; a person the
    registry does not hold is kept too (the county office sees them)."""

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("身份类别"), max_length=16, choices=IdentityKind.choices)
    name = models.CharField(_("姓名"), max_length=32)
    id_number = EncryptedCharField(_("身份证号"), max_length=32)
    id_number_index = BlindIndexField(_("身份证号索引"), source="id_number")
    member = models.ForeignKey(
        Member,
        verbose_name=_("成员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="identities",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="identities",
    )
    department = models.CharField(_("认定部门"), max_length=24, choices=Department.choices)
    start = models.DateField(_("认定日期"))
    end = models.DateField(_("终止日期"), null=True, blank=True)
    # The list that first sent it (each list's rows: `IdentityRow`).
    source_list = models.ForeignKey(
        DepartmentList,
        verbose_name=_("部门名单"),
        on_delete=models.PROTECT,
        related_name="identities",
    )
    source_row = models.PositiveIntegerField(_("名单行号"))
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("低收入人口身份")
        verbose_name_plural = _("低收入人口身份")
        ordering = ["name", "kind", "-start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "id_number_index", "kind", "start"],
                name="identity_one_per_start",
            ),
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="identity_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["county", "kind", "end"], name="identity_county_kind_idx"),
            models.Index(fields=["id_number_index"], name="identity_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.get_kind_display()}"


class IdentityRow(models.Model):
    """What one row of a 身份共享 list did to the identity it names: recorded it, changed it
    (its name, 终止日期 or matched person), or found it as the department had sent it before.
    The list's result workbook reads these."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("新增")
        UPDATED = "updated", _("已更新")
        UNCHANGED = "unchanged", _("无变化")

    department_list = models.ForeignKey(
        DepartmentList,
        verbose_name=_("部门名单"),
        on_delete=models.PROTECT,
        related_name="identity_rows",
    )
    row = models.PositiveIntegerField(_("名单行号"))
    identity = models.ForeignKey(
        PersonIdentity,
        verbose_name=_("身份"),
        on_delete=models.PROTECT,
        related_name="list_rows",
    )
    outcome = models.CharField(_("处理结果"), max_length=12, choices=Outcome.choices)

    class Meta:
        verbose_name = _("身份共享名单行")
        verbose_name_plural = _("身份共享名单行")
        ordering = ["department_list", "row"]
        constraints = [
            models.UniqueConstraint(
                fields=["department_list", "row"], name="identity_row_once_per_list"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department_list_id}:{self.row}"


# --- 风险线索 -------------------------------------------------------------------------------------


class Clue(models.Model):
    """One 风险线索 in the inbox of its village, from any channel. It is the village's
    verification task: 入户核实 within 2 working days of acceptance, the decision (纳入监测 /
    不纳入, with the reason) within the identification limit of the clue's date. A clue whose
    ID matches no person of the registry is a "register this household" task instead."""

    class Channel(models.TextChoices):
        SELF_DECLARATION = "self_declaration", _("农户自主申报")
        CADRE_CHECK = "cadre_check", _("基层干部排查")
        DEPARTMENT = "department", _("部门筛查预警")

    class State(models.TextChoices):
        PENDING = "pending", _("待核实")
        VERIFIED = "verified", _("已核实")
        IDENTIFYING = "identifying", _("识别中")
        INCLUDED = "included", _("纳入监测")
        NOT_INCLUDED = "not_included", _("不纳入")
        DUPLICATE = "duplicate", _("重复线索")
        UNREGISTERED = "unregistered", _("待登记")

    OPEN_STATES = (State.PENDING, State.VERIFIED, State.IDENTIFYING, State.UNREGISTERED)

    channel = models.CharField(_("线索来源"), max_length=20, choices=Channel.choices)
    via_hotline = models.BooleanField(_("热线来电代录"), default=False)
    department = models.CharField(
        _("推送部门"), max_length=24, choices=Department.choices, blank=True
    )
    source_list = models.ForeignKey(
        DepartmentList,
        verbose_name=_("部门名单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clues",
    )
    source_row = models.PositiveIntegerField(_("名单行号"), null=True, blank=True)
    # The owning village (from the matched household, or declared); the county for an
    # unmatched department row whose village is unknown.
    region = models.ForeignKey(
        Region, verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clues",
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("成员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clues",
    )
    name = models.CharField(_("姓名"), max_length=32)
    id_number = EncryptedCharField(_("身份证号"), max_length=32)
    id_number_index = BlindIndexField(_("身份证号索引"), source="id_number")
    phone = EncryptedCharField(_("手机号"), max_length=20, blank=True)
    risk_type = models.CharField(_("风险类型"), max_length=16, choices=RiskType.choices)
    difficulty = models.TextField(_("家庭困难情况"), max_length=2000, blank=True)
    amount = models.DecimalField(_("涉及金额（元）"), **MONEY, null=True, blank=True)
    # The department row's other columns, as sent (masked in every list).
    details = models.JSONField(_("部门数据"), default=dict, blank=True)
    received_on = models.DateField(_("线索日期"))
    accepted_on = models.DateField(_("受理日期"))
    verify_due = models.DateField(_("入户核实期限"))
    decide_due = models.DateField(_("识别办结期限"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.PENDING)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("重复于"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    verified_on = models.DateField(_("入户核实日期"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    verification_note = models.TextField(_("核实情况"), max_length=2000, blank=True)
    # 承诺授权, signed by the household at the 入户核实 (an uploaded scan): required to record
    # the visit, and taken over by the monitoring object when identification starts from here.
    consent = models.FileField(
        _("承诺授权书"), upload_to=PrivateUploadTo("consent"), max_length=255, blank=True
    )
    consent_signed_on = models.DateField(_("承诺授权签署日期"), null=True, blank=True)
    decided_on = models.DateField(_("处理日期"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    result_reason = models.CharField(_("处理结果说明"), max_length=500, blank=True)
    monitoring_object = models.ForeignKey(
        "MonitoringObject",
        verbose_name=_("监测对象"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clues",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("风险线索")
        verbose_name_plural = _("风险线索")
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["state", "region"], name="clue_state_region_idx"),
            models.Index(fields=["id_number_index", "state"], name="clue_id_state_idx"),
            models.Index(fields=["source_list", "source_row"], name="clue_list_row_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.received_on}"


class CluePhoto(PhotoBase):
    """A photo taken at a clue's 入户核实 (`povertyapp.photos`): through the file door (kind
    `clue_photo`, inline) to whoever may see the clue. Not year-locked, like its clue (the clue
    door runs on through the year-end: years/lock.py's EXEMPT)."""

    clue = models.ForeignKey(
        Clue, verbose_name=_("风险线索"), on_delete=models.CASCADE, related_name="photos"
    )

    class Meta(PhotoBase.Meta):
        verbose_name = _("线索入户核实照片")
        verbose_name_plural = _("线索入户核实照片")

    def __str__(self) -> str:
        return f"{self.clue} {self.taken_at:%Y-%m-%d %H:%M}"


# --- 监测对象 -------------------------------------------------------------------------------------


class MonitoringObject(models.Model):
    """A household's period as a monitoring object, from identification to 风险消除; a household
    may be monitored again later (a new row: the history is kept)."""

    class State(models.TextChoices):
        IDENTIFYING = "identifying", _("识别中")
        MONITORED = "monitored", _("监测中")
        ELIMINATED = "eliminated", _("风险已消除")
        NOT_INCLUDED = "not_included", _("未纳入")

    CURRENT_STATES = (State.IDENTIFYING, State.MONITORED)

    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="monitoring_objects",
    )
    object_type = models.CharField(_("监测对象类型"), max_length=12, choices=ObjectType.choices)
    state = models.CharField(
        _("监测状态"), max_length=16, choices=State.choices, default=State.IDENTIFYING
    )
    # The first clue (the identification clock runs from its date).
    clue_date = models.DateField(_("首次发现风险日期"))
    identified_on = models.DateField(_("识别纳入日期"), null=True, blank=True)
    identification = models.ForeignKey(
        CaseWorkflow,
        verbose_name=_("识别程序"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    assessment = models.ForeignKey(
        IncomeAssessment,
        verbose_name=_("识别时收入核算"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # 承诺授权: signed by the household, lets departments check its assets (an uploaded scan).
    consent = models.FileField(
        _("承诺授权书"), upload_to=PrivateUploadTo("consent"), max_length=255, blank=True
    )
    consent_signed_on = models.DateField(_("承诺授权签署日期"), null=True, blank=True)
    green_channel = models.BooleanField(_("绿色通道"), default=False)
    green_channel_reason = models.CharField(_("绿色通道说明"), max_length=200, blank=True)
    # A household with no labour capacity at all is never marked 风险消除 (DOMAIN §7).
    no_labour_capacity = models.BooleanField(_("无劳动能力"), default=False)
    elimination_way = models.CharField(
        _("风险消除方式"), max_length=12, choices=EliminationWay.choices, blank=True
    )
    eliminated_on = models.DateField(_("风险消除日期"), null=True, blank=True)
    elimination_basis = models.TextField(_("风险消除依据"), max_length=2000, blank=True)
    elimination = models.ForeignKey(
        CaseWorkflow,
        verbose_name=_("风险消除程序"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("备注"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("监测对象")
        verbose_name_plural = _("监测对象")
        ordering = ["-clue_date", "-id"]
        indexes = [models.Index(fields=["state", "object_type"], name="object_state_type_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(state__in=["identifying", "monitored"]),
                name="monitoring_one_current_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.get_object_type_display()}"


class ObjectRisk(models.Model):
    """One risk type of a monitoring object (several per object), with its own resolution."""

    monitoring_object = models.ForeignKey(
        MonitoringObject,
        verbose_name=_("监测对象"),
        on_delete=models.CASCADE,
        related_name="risks",
    )
    risk_type = models.CharField(_("风险类型"), max_length=16, choices=RiskType.choices)
    note = models.CharField(_("风险说明"), max_length=500, blank=True)
    resolved_on = models.DateField(_("风险解除日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("监测对象风险")
        verbose_name_plural = _("监测对象风险")
        ordering = ["monitoring_object", "risk_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["monitoring_object", "risk_type"], name="object_risk_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_risk_type_display()


class RiskMeasureRule(models.Model):
    """帮扶 by risk type as data (like DOMAIN §6's matching): which measure categories answer a
    risk. A single risk takes one of them; several risks a combination."""

    risk_type = models.CharField(_("风险类型"), max_length=16, choices=RiskType.choices)
    measure_category = models.CharField(_("帮扶措施类别"), max_length=32)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("风险帮扶匹配规则")
        verbose_name_plural = _("风险帮扶匹配规则")
        ordering = ["risk_type", "measure_category"]
        constraints = [
            models.UniqueConstraint(
                fields=["risk_type", "measure_category"], name="risk_measure_rule_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_risk_type_display()} → {self.measure_category}"


# --- the annual 集中排查 --------------------------------------------------------------------------


class PriorityGroup(models.TextChoices):
    """The 10 priority groups of the sweep (DOMAIN §7)."""

    EXITED_2020 = "exited_2020", _("2020年脱贫户")
    LOW_INCOME = "low_income", _("收入偏低或下降")
    TEKUN = "tekun", _("分散供养特困人员")
    DIBAO = "dibao", _("低保户（新申请优先）")
    DISABLED = "disabled", _("残疾人家庭")
    STUDENTS = "students", _("多子女非义务教育阶段就学")
    UNSTABLE_WORK = "unstable_work", _("务工收入不稳定")
    HARDSHIP = "hardship", _("因病因灾因意外困难")
    VULNERABLE = "vulnerable", _("失能老人、留守儿童、困境儿童")
    UNRESOLVED = "unresolved", _("有劳动能力监测对象一年以上未消除")


class Sweep(models.Model):
    """The county's annual 集中排查: its dates, the year's line and the priority groups."""

    class State(models.TextChoices):
        OPEN = "open", _("排查中")
        CLOSED = "closed", _("已结束")

    county = models.ForeignKey(
        Region, verbose_name=_("县"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    name = models.CharField(_("排查名称"), max_length=100)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    line = models.DecimalField(_("当年监测标准"), **MONEY)
    priority_groups = models.JSONField(_("重点群体"), default=list)
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("集中排查")
        verbose_name_plural = _("集中排查")
        ordering = ["-year", "-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="sweep_county_year"),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="sweep_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SweepTeam(models.Model):
    """A two-person team (排查小组) and the villages it covers."""

    sweep = models.ForeignKey(
        Sweep, verbose_name=_("集中排查"), on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(_("小组名称"), max_length=64)
    first_member = models.CharField(_("排查人员一"), max_length=32)
    second_member = models.CharField(_("排查人员二"), max_length=32)
    villages = models.ManyToManyField(Region, verbose_name=_("负责村"), related_name="+")

    class Meta:
        verbose_name = _("排查小组")
        verbose_name_plural = _("排查小组")
        ordering = ["sweep", "name"]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "name"], name="sweep_team_name"),
        ]

    def __str__(self) -> str:
        return self.name


class SweepHousehold(models.Model):
    """A household of the sweep and its 排查表: the priority groups the data put it in, the
    visit (two surveyors' names) or the reason it was not visited, and the finding (a risk found
    becomes a clue)."""

    class State(models.TextChoices):
        PENDING = "pending", _("待排查")
        VISITED = "visited", _("已排查")
        SKIPPED = "skipped", _("未入户（已说明）")

    sweep = models.ForeignKey(
        Sweep, verbose_name=_("集中排查"), on_delete=models.CASCADE, related_name="households"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("村"), on_delete=models.PROTECT, related_name="+"
    )
    groups = models.JSONField(_("重点群体"), default=list, blank=True)
    team = models.ForeignKey(
        SweepTeam,
        verbose_name=_("排查小组"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="households",
    )
    state = models.CharField(
        _("排查状态"), max_length=8, choices=State.choices, default=State.PENDING
    )
    visited_on = models.DateField(_("排查日期"), null=True, blank=True)
    first_surveyor = models.CharField(_("排查人员一"), max_length=32, blank=True)
    second_surveyor = models.CharField(_("排查人员二"), max_length=32, blank=True)
    per_capita_income = models.DecimalField(_("人均纯收入（估）"), **MONEY, null=True, blank=True)
    # The 排查表's answers (两不愁三保障, water, income change, hardship …) as recorded.
    answers = models.JSONField(_("排查表"), default=dict, blank=True)
    risk_found = models.BooleanField(_("发现风险"), default=False)
    risk_types = models.JSONField(_("发现的风险类型"), default=list, blank=True)
    note = models.CharField(_("情况说明"), max_length=500, blank=True)
    skip_reason = models.CharField(_("未入户原因"), max_length=200, blank=True)
    clue = models.ForeignKey(
        Clue,
        verbose_name=_("形成线索"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("排查户")
        verbose_name_plural = _("排查户")
        ordering = ["sweep", "village", "household"]
        indexes = [models.Index(fields=["sweep", "village", "state"], name="sweep_progress_idx")]
        constraints = [
            models.UniqueConstraint(fields=["sweep", "household"], name="sweep_household_once"),
        ]

    def __str__(self) -> str:
        return f"{self.sweep} {self.household}"


# --- exclusion scrutiny (剔除核查) ----------------------------------------------------------------


class CadreRelation(models.Model):
    """A registered relation of a member to a 村干部 or 驻村干部: matches of their households get
    an extra township review."""

    class Post(models.TextChoices):
        VILLAGE_CADRE = "village_cadre", _("村干部")
        RESIDENT_CADRE = "resident_cadre", _("驻村干部")
        TOWNSHIP_OFFICIAL = "township_official", _("乡镇干部")

    member = models.ForeignKey(
        Member, verbose_name=_("成员"), on_delete=models.PROTECT, related_name="cadre_relations"
    )
    cadre_name = models.CharField(_("干部姓名"), max_length=32)
    cadre_post = models.CharField(_("干部类别"), max_length=20, choices=Post.choices)
    relation = models.CharField(_("亲属关系"), max_length=16)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("干部亲属关系")
        verbose_name_plural = _("干部亲属关系")
        ordering = ["member", "cadre_name"]

    def __str__(self) -> str:
        return f"{self.member} {self.cadre_name}"


class ScrutinyTask(models.Model):
    """A match of a department's list (车辆, 商品房/门面, 工商企业, 财政供养人员, 村干部) against a
    member of a registered or monitored household: a task to check, with the evidence. Its
    result may feed a 剔除 proposal of the round; it never changes a status by itself."""

    class State(models.TextChoices):
        OPEN = "open", _("待核查")
        TOWNSHIP_REVIEW = "township_review", _("待乡镇复核")
        CLEARED = "cleared", _("核查无问题")
        CONFIRMED = "confirmed", _("核查属实")

    source_list = models.ForeignKey(
        DepartmentList,
        verbose_name=_("部门名单"),
        on_delete=models.PROTECT,
        related_name="scrutiny_tasks",
    )
    source_row = models.PositiveIntegerField(_("名单行号"))
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("成员"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("村"), on_delete=models.PROTECT, related_name="+"
    )
    evidence = models.JSONField(_("比对证据"), default=dict)
    cadre_relative = models.BooleanField(_("干部亲属"), default=False)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.OPEN)
    finding = models.TextField(_("核查情况"), max_length=2000, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_on = models.DateField(_("核查日期"), null=True, blank=True)
    # What the check found (核查无问题 / 核查属实): final at once, except for a cadre's relative,
    # whose result waits for the township's review (state 待乡镇复核).
    checked_result = models.CharField(
        _("核查结论"),
        max_length=16,
        blank=True,
        choices=[("cleared", _("核查无问题")), ("confirmed", _("核查属实"))],
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("乡镇复核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_on = models.DateField(_("乡镇复核日期"), null=True, blank=True)
    # The 剔除 proposal of the round this finding fed (rounds.RoundChange), when one was made.
    round_change = models.ForeignKey(
        "rounds.RoundChange",
        verbose_name=_("剔除申报"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("剔除核查任务")
        verbose_name_plural = _("剔除核查任务")
        ordering = ["source_list", "source_row"]
        indexes = [models.Index(fields=["state", "village"], name="scrutiny_state_village_idx")]

    def __str__(self) -> str:
        return f"{self.source_list} #{self.source_row}"


# --- local rules ---------------------------------------------------------------------------


class LocalRules(models.Model):
    """The rules a province or county sets for monitoring (clocks, thresholds), as data the
    county office configures; `monitoring.rules.rules_for(region)` takes the nearest area's row
    and falls back to the national defaults (the fields' defaults)."""

    region = models.OneToOneField(
        Region, verbose_name=_("适用区域"), on_delete=models.PROTECT, related_name="+"
    )
    verify_working_days = models.PositiveSmallIntegerField(_("入户核实时限（工作日）"), default=2)
    identify_days = models.PositiveSmallIntegerField(_("识别办结时限"), default=15)
    identify_in_working_days = models.BooleanField(_("识别时限按工作日计算"), default=False)
    notice_days = models.PositiveSmallIntegerField(_("公示天数"), default=5)
    measure_start_days = models.PositiveSmallIntegerField(
        _("识别后落实帮扶措施时限（天）"), default=15
    )
    stable_months = models.PositiveSmallIntegerField(_("风险消除收入稳定月数"), default=6)
    # 医保 large out-of-pocket costs: a share of the province's rural per-capita income.
    rural_income = models.DecimalField(
        _("上年农村居民人均可支配收入"), **MONEY, null=True, blank=True
    )
    medical_share_registered = models.DecimalField(
        _("脱贫人口和监测对象自付费用预警比例（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
    )
    medical_share_others = models.DecimalField(
        _("其他农村人口自付费用预警比例（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
    )
    medical_amount = models.DecimalField(
        _("自付费用预警金额（元）"), **MONEY, null=True, blank=True
    )
    # Exclusion scrutiny: a vehicle list's rows count only above this value (yuan).
    vehicle_value = models.DecimalField(
        _("车辆核查价值标准（元）"), **MONEY, default=Decimal("50000")
    )
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("监测规则")
        verbose_name_plural = _("监测规则")
        ordering = ["region"]

    def __str__(self) -> str:
        return str(self.region)
