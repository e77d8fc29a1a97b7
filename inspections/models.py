"""Assessment campaigns, samples, findings and rectification (第三方评估, 督查整改).

A campaign (考评) belongs to one county. Its protocol says how many townships, villages and
households to draw; the draw is stored (sample villages with their class and weight, sample
households with their kind and weight) together with the seed that reproduces it. Each sampled
household gets one finding; a confirmed error opens a correction task for the owning village and
a rectification item. Every state change writes an `InspectionEvent` in the same transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from households.models import YEAR_VALIDATORS
from inspections.notes import notes_text
from povertyapp.filenames import PrivateUploadTo
from povertyapp.models import Region, VillageYear


class SampleKind(models.TextChoices):
    """The kinds of household the protocol covers (inside and outside the registry)."""

    UNEXITED = "unexited", _("未脱贫户")
    PRE_EXIT = "pre_exit", _("拟脱贫户")
    EXITED = "exited", _("已脱贫户")
    NON_REGISTERED = "non_registered", _("非建档立卡户")


REGISTERED_KINDS = (SampleKind.UNEXITED, SampleKind.PRE_EXIT, SampleKind.EXITED)


def default_registered_kinds() -> list[str]:
    return [kind.value for kind in REGISTERED_KINDS]


def notes_shown(stored: Any) -> list[str]:
    """A draw's stored notes (`inspections.notes`) in the reader's language."""
    return notes_text(stored, kind_labels=dict(SampleKind.choices))


class Campaign(models.Model):
    class Kind(models.TextChoices):
        THIRD_PARTY = "third_party", _("第三方评估")
        PROVINCE_CHECK = "province_check", _("省级核查")
        SELF_CHECK = "self_check", _("县级自查")
        SUPERVISION = "supervision", _("督查暗访")

    class Status(models.TextChoices):
        PLANNED = "planned", _("筹备中")
        DRAWN = "drawn", _("已抽样")
        FINISHED = "finished", _("已完成")

    county = models.ForeignKey(
        Region,
        verbose_name=_("被评估县"),
        on_delete=models.PROTECT,
        related_name="campaigns",
        limit_choices_to={"level": Region.Level.COUNTY},
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("评估年度"), validators=YEAR_VALIDATORS)
    visit_date = models.DateField(
        _("入户日期"), help_text=_("此日期前样本只对评估组和发起人可见。")
    )
    end_date = models.DateField(_("结束日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    assessors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评估人员"),
        related_name="campaigns_assessed",
        blank=True,
    )
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="campaigns_launched",
    )
    # The protocol (抽样方案).
    townships_to_draw = models.PositiveSmallIntegerField(
        _("抽取乡镇数"), default=3, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    villages_per_township = models.PositiveSmallIntegerField(
        _("每乡镇抽取村数"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("按村情分类好/中/差各抽一个；多于3个时依次循环。"),
    )
    households_per_village = models.PositiveSmallIntegerField(
        _("每村抽取户数"), default=43, validators=[MinValueValidator(5), MaxValueValidator(500)]
    )
    inside_share = models.DecimalField(
        _("建档立卡户占比"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0.10")), MaxValueValidator(Decimal("0.90"))],
    )
    registered_kinds = models.JSONField(_("覆盖的建档立卡户类型"), default=default_registered_kinds)
    seed = models.BigIntegerField(_("随机种子"), null=True, blank=True)
    drawn_at = models.DateTimeField(_("抽样时间"), null=True, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("抽样人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # What the fill rule did: msgid and parameters (`inspections.notes`), shown translated.
    draw_notes = models.JSONField(_("抽样说明"), default=list, blank=True)
    frame = models.JSONField(_("抽样框"), default=dict, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("考核评估")
        verbose_name_plural = _("考核评估")
        ordering = ["-visit_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("visit_date")),
                name="campaign_end_after_visit",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def draw_notes_shown(self) -> list[str]:
        """The draw's notes in the reader's language."""
        return notes_shown(self.draw_notes)


def _condition_label(value: str) -> str:
    try:
        return str(VillageYear.Condition(value).label)
    except ValueError:  # a value outside the list: shown as stored
        return value


class SampleVillage(models.Model):
    """A drawn village (cluster) with its stratum and what the frame held at draw time."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("考核评估"), on_delete=models.CASCADE, related_name="villages"
    )
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        Region, verbose_name=_("乡镇"), on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    stratum_class = models.CharField(_("抽样层（村情分类）"), max_length=1)
    actual_class = models.CharField(_("实际村情分类"), max_length=1)
    # P(village drawn | township drawn) within its class cell, and P(township drawn).
    village_probability = models.FloatField(_("村入样概率"))
    township_probability = models.FloatField(_("乡镇入样概率"))
    # Households per kind in the frame at draw time: {"unexited": 12, ...}; persons likewise.
    frame_households = models.JSONField(_("各类户数"), default=dict)
    frame_persons = models.JSONField(_("各类人数"), default=dict)
    # What the fill rule did here: msgid and parameters (`inspections.notes`).
    notes = models.JSONField(_("补足说明"), default=list, blank=True)

    class Meta:
        verbose_name = _("样本村")
        verbose_name_plural = _("样本村")
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "village"], name="sample_village_unique")
        ]

    def __str__(self) -> str:
        return f"{self.township.name}{self.village.name}"

    @property
    def notes_shown(self) -> list[str]:
        """The notes in the reader's language."""
        return notes_shown(self.notes)

    @property
    def stratum_class_label(self) -> str:
        """The stratum (好/中/差, stored as the village-year's value) in the reader's language."""
        return _condition_label(self.stratum_class)

    @property
    def actual_class_label(self) -> str:
        return _condition_label(self.actual_class)


class SampleHousehold(models.Model):
    """A drawn household (or one added on the spot by the assessors)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("考核评估"), on_delete=models.CASCADE, related_name="households"
    )
    sample_village = models.ForeignKey(
        SampleVillage,
        verbose_name=_("样本村"),
        on_delete=models.CASCADE,
        related_name="households",
    )
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("农户"),
        on_delete=models.PROTECT,
        related_name="samples",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("类型"), max_length=16, choices=SampleKind.choices)
    position = models.PositiveSmallIntegerField(_("序号"))
    number = models.CharField(_("户编号"), max_length=32, blank=True)
    head_name = models.CharField(_("户主姓名"), max_length=32)
    persons = models.PositiveSmallIntegerField(_("家庭人口"))
    status_at_draw = models.CharField(_("抽样时状态"), max_length=16, blank=True)
    added_on_site = models.BooleanField(_("现场增补"), default=False)
    address = models.CharField(_("住址"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("样本户")
        verbose_name_plural = _("样本户")
        ordering = ["sample_village__position", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household"],
                condition=models.Q(household__isnull=False),
                name="sample_household_unique",
            ),
            models.UniqueConstraint(
                fields=["sample_village", "position"], name="sample_household_position_unique"
            ),
        ]

    def __str__(self) -> str:
        number = self.number or _("现场增补")
        return f"{self.head_name}（{number}）"

    @property
    def is_registered_kind(self) -> bool:
        return self.kind != SampleKind.NON_REGISTERED


class Finding(models.Model):
    """What the assessors found in one sampled household (入户核查结果)."""

    class Result(models.TextChoices):
        NORMAL = "正常", _("正常")
        WRONG_INCLUSION = "错评", _("错评")
        OMISSION = "漏评", _("漏评")
        WRONG_EXIT = "错退", _("错退")

    class OmissionScope(models.TextChoices):
        HOUSEHOLD = "household", _("整户漏评")
        MEMBER = "member", _("成员漏评")

    class Approval(models.TextChoices):
        APPROVE = "认可", _("认可")
        DISAPPROVE = "不认可", _("不认可")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        CONFIRMED = "confirmed", _("已确认")

    sample = models.OneToOneField(
        SampleHousehold,
        verbose_name=_("样本户"),
        on_delete=models.CASCADE,
        related_name="finding",
    )
    stated_per_capita_income = models.DecimalField(
        _("申报人均纯收入（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    verified_per_capita_income = models.DecimalField(
        _("核实人均纯收入（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    food_secure = models.BooleanField(_("不愁吃"), null=True, blank=True)
    clothing_secure = models.BooleanField(_("不愁穿"), null=True, blank=True)
    education_secure = models.BooleanField(_("义务教育有保障"), null=True, blank=True)
    medical_secure = models.BooleanField(_("基本医疗有保障"), null=True, blank=True)
    housing_secure = models.BooleanField(_("住房安全有保障"), null=True, blank=True)
    water_secure = models.BooleanField(_("饮水安全有保障"), null=True, blank=True)
    eligible = models.BooleanField(_("符合建档立卡标准"), null=True, blank=True)
    result = models.CharField(_("核查结论"), max_length=4, choices=Result.choices, blank=True)
    omission_scope = models.CharField(
        _("漏评范围"), max_length=12, choices=OmissionScope.choices, blank=True
    )
    error_persons = models.PositiveSmallIntegerField(
        _("涉及人数"), default=0, help_text=_("错评、错退为全户人数；成员漏评为漏评人数。")
    )
    approval = models.CharField(_("认可度"), max_length=4, choices=Approval.choices, blank=True)
    disapproval_reason = models.CharField(_("不认可原因"), max_length=200, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核查人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    ERROR_RESULTS = (Result.WRONG_INCLUSION, Result.OMISSION, Result.WRONG_EXIT)

    class Meta:
        verbose_name = _("核查结果")
        verbose_name_plural = _("核查结果")
        ordering = ["sample"]

    def __str__(self) -> str:
        return f"{self.sample} {self.result}"


class CorrectionTask(models.Model):
    """A confirmed error sent back to the owning village.

    It is corrected through the normal registry workflow (剔除 / 新识别纳入 / 返贫); the task is
    resolved once the registry shows the correction."""

    class Kind(models.TextChoices):
        REMOVE = "removed", _("剔除")
        IDENTIFY = "identified", _("新识别纳入")
        RETURN = "returned", _("返贫")

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        RESOLVED = "resolved", _("已处理")

    finding = models.OneToOneField(
        Finding,
        verbose_name=_("核查结果"),
        on_delete=models.PROTECT,
        related_name="correction_task",
    )
    village = models.ForeignKey(
        Region, verbose_name=_("责任村"), on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        "households.Household",
        verbose_name=_("农户"),
        on_delete=models.PROTECT,
        related_name="correction_tasks",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("纠错类型"), max_length=12, choices=Kind.choices)
    persons = models.PositiveSmallIntegerField(_("涉及人数"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("下发时间"), auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolution = models.CharField(_("处理说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("纠错任务")
        verbose_name_plural = _("纠错任务")
        ordering = ["status", "-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household or self.finding.sample}"


class RectificationItem(models.Model):
    """One line of the 督查整改清单."""

    class Source(models.TextChoices):
        FINDING = "finding", _("评估核查发现")
        SUPERVISION = "supervision", _("督查暗访发现")
        COUNTY = "county", _("县级录入")

    class Status(models.TextChoices):
        PENDING = "待整改", _("待整改")
        IN_PROGRESS = "整改中", _("整改中")
        DONE = "已整改", _("已整改")
        CLOSED = "已销号", _("已销号")

    OPEN_STATUSES = (Status.PENDING, Status.IN_PROGRESS)

    region = models.ForeignKey(
        Region, verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("考核评估"),
        on_delete=models.PROTECT,
        related_name="rectification_items",
        null=True,
        blank=True,
    )
    finding = models.OneToOneField(
        Finding,
        verbose_name=_("核查结果"),
        on_delete=models.PROTECT,
        related_name="rectification_item",
        null=True,
        blank=True,
    )
    source = models.CharField(_("问题来源"), max_length=12, choices=Source.choices)
    problem = models.CharField(_("问题描述"), max_length=500)
    category = models.CharField(_("问题类别"), max_length=32)
    responsible_unit = models.CharField(_("责任单位"), max_length=64)
    responsible_person = models.CharField(_("责任人"), max_length=32)
    deadline = models.DateField(_("整改时限"))
    measures = models.TextField(_("整改措施"), blank=True)
    status = models.CharField(
        _("整改状态"), max_length=4, choices=Status.choices, default=Status.PENDING
    )
    done_at = models.DateField(_("整改完成日期"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("销号核验人"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        verbose_name = _("整改事项")
        verbose_name_plural = _("督查整改清单")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["status", "deadline"], name="rectification_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="已销号") | models.Q(verified_by__isnull=False),
                name="rectification_closed_needs_verifier",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region.name}：{self.problem[:30]}"


class RectificationEvidence(models.Model):
    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("整改事项"),
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    file = models.FileField(
        _("佐证材料"), upload_to=PrivateUploadTo("rectification"), max_length=255
    )
    name = models.CharField(_("文件名"), max_length=128)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.name


class InspectionEvent(models.Model):
    """Every state change of campaigns, findings, correction tasks and rectification items."""

    class Kind(models.TextChoices):
        CAMPAIGN_CREATED = "campaign_created", _("创建评估")
        SAMPLE_DRAWN = "sample_drawn", _("抽样")
        SAMPLE_ADDED = "sample_added", _("现场增补样本户")
        SAMPLE_VIEWED = "sample_viewed", _("查看样本")
        FINDING_SAVED = "finding_saved", _("保存核查结果")
        FINDING_CONFIRMED = "finding_confirmed", _("确认核查结果")
        FINDINGS_IMPORTED = "findings_imported", _("导入核查结果")
        CAMPAIGN_FINISHED = "campaign_finished", _("完成评估")
        TASK_CREATED = "task_created", _("下发纠错任务")
        TASK_RESOLVED = "task_resolved", _("纠错任务已处理")
        ITEM_CREATED = "item_created", _("新增整改事项")
        ITEM_CHANGED = "item_changed", _("整改状态变更")
        ITEM_UPDATED = "item_updated", _("修改整改事项")
        ITEM_OVERDUE = "item_overdue", _("整改逾期")
        EVIDENCE_ADDED = "evidence_added", _("上传佐证材料")

    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("考核评估"),
        on_delete=models.CASCADE,
        related_name="events",
        null=True,
        blank=True,
    )
    finding = models.ForeignKey(
        Finding,
        verbose_name=_("核查结果"),
        on_delete=models.CASCADE,
        related_name="events",
        null=True,
        blank=True,
    )
    task = models.ForeignKey(
        CorrectionTask,
        verbose_name=_("纠错任务"),
        on_delete=models.CASCADE,
        related_name="events",
        null=True,
        blank=True,
    )
    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("整改事项"),
        on_delete=models.CASCADE,
        related_name="events",
        null=True,
        blank=True,
    )
    from_status = models.CharField(_("变更前"), max_length=16, blank=True)
    to_status = models.CharField(_("变更后"), max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=500, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("评估整改记录")
        verbose_name_plural = _("评估整改记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
