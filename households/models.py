"""The household registry (建档立卡): households, members, income, value lists, standards, events.

Value lists (致贫原因, 文化程度 ...) are data, versioned by year and optionally by province, and
fields store the Chinese label itself (DOMAIN: key on the labels, not on numeric codes). Which
labels are valid for a year is checked by the services, which every interface calls.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any, Self

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from povertyapp.crypto import BlindIndexField, EncryptedCharField, blind_index
from povertyapp.filenames import PrivateUploadTo
from povertyapp.models import Region
from povertyapp.photos import PhotoBase
from povertyapp.yearguard import YearLockedManager

YEAR_VALIDATORS = [MinValueValidator(2010), MaxValueValidator(2100)]
# Keyword arguments shared by the area and money DecimalFields (splatted into each field).
AREA: dict[str, Any] = {
    "max_digits": 10,
    "decimal_places": 2,
    "default": Decimal("0"),
    "validators": [MinValueValidator(Decimal("0"))],
}
MONEY: dict[str, Any] = {
    "max_digits": 14,
    "decimal_places": 2,
    "default": Decimal("0"),
    "validators": [MinValueValidator(Decimal("0"))],
}


class ValueList(models.TextChoices):
    """The value lists the forms offer. Their items are rows of ValueListItem."""

    IDENTIFICATION_STANDARD = "identification_standard", _("识别标准")
    POVERTY_ATTRIBUTE = "poverty_attribute", _("贫困户属性")
    CAUSE = "cause", _("致贫原因")
    ID_TYPE = "id_type", _("证件类型")
    RELATION = "relation", _("与户主关系")
    ETHNICITY = "ethnicity", _("民族")
    POLITICAL_STATUS = "political_status", _("政治面貌")
    EDUCATION = "education", _("文化程度")
    SCHOOL_STATUS = "school_status", _("在校生状况")
    HEALTH = "health", _("健康状况")
    LABOUR_SKILL = "labour_skill", _("劳动技能")
    WORK_STATUS = "work_status", _("务工状况")
    LIVING_STATUS = "living_status", _("生存状态")
    ROAD_TYPE = "road_type", _("入户路类型")
    HOUSE_GRADE = "house_grade", _("危房等级")
    FUEL_TYPE = "fuel_type", _("主要燃料类型")
    RELOCATION_MODE = "relocation_mode", _("安置方式")
    REMOVAL_GROUND = "removal_ground", _("剔除理由")
    LEAVE_REASON = "leave_reason", _("减员原因")
    JOIN_REASON = "join_reason", _("增员原因")
    MEASURE_CATEGORY = "measure_category", _("帮扶措施类别")


class ValueListItem(models.Model):
    """One label of a value list, valid from one year to another, nationally or in a province."""

    list = models.CharField(_("代码表"), max_length=32, choices=ValueList.choices)
    label = models.CharField(_("名称"), max_length=32)
    year_from = models.PositiveSmallIntegerField(
        _("起始年度"), default=2014, validators=YEAR_VALIDATORS
    )
    year_to = models.PositiveSmallIntegerField(
        _("终止年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    province = models.ForeignKey(
        Region,
        verbose_name=_("适用省份"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("留空为全国通用。"),
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("代码表项")
        verbose_name_plural = _("代码表")
        ordering = ["list", "position", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["list", "label", "year_from", "province"], name="value_list_item_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(year_to__isnull=True)
                | models.Q(year_to__gte=models.F("year_from")),
                name="value_list_item_years_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_list_display()}：{self.label}"


class Standard(models.TextChoices):
    NATIONAL = "国家标准", _("国家标准")
    PROVINCIAL = "省定标准", _("省定标准")
    MUNICIPAL = "市定标准", _("市定标准")


class PovertyLine(models.Model):
    """The poverty line (yuan per person per year, current prices) of a year and standard.

    The national line has no region; a provincial or municipal line names its region. A year
    with no line cannot be evaluated: the standards module says so rather than guess.
    """

    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    standard = models.CharField(
        _("标准"), max_length=8, choices=Standard.choices, default=Standard.NATIONAL
    )
    region = models.ForeignKey(
        Region, verbose_name=_("适用区域"), on_delete=models.PROTECT, null=True, blank=True
    )
    amount = models.DecimalField(
        _("扶贫标准（元/人·年）"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("1"))],
    )
    monitoring_amount = models.DecimalField(
        _("防返贫监测标准（元/人·年）"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1"))],
    )

    class Meta:
        verbose_name = _("扶贫标准")
        verbose_name_plural = _("扶贫标准")
        ordering = ["-year", "standard"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "standard"],
                condition=models.Q(region__isnull=True),
                name="poverty_line_national_unique",
            ),
            models.UniqueConstraint(
                fields=["year", "standard", "region"],
                condition=models.Q(region__isnull=False),
                name="poverty_line_regional_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(standard="国家标准", region__isnull=True)
                | (~models.Q(standard="国家标准") & models.Q(region__isnull=False)),
                name="poverty_line_region_matches_standard",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.standard} {self.amount}"


# --- 信息录入率: the part of each row's required-field count that does not depend on the day ------
# households.quality defines the required fields (DOMAIN §3) and when each applies; the rates job
# (rounds.rates.completeness_by_village) sums them per village. What of a row's count does
# not depend on the day of computation is kept in stored generated columns, computed by the
# database on every write (save, queryset update(), bulk_create, COPY, raw SQL alike), so that
# the job reads them from narrow covering indexes instead of every row's text columns. Which
# fields these expressions cover is checked against households.quality by the tests.

# 文化程度 is required of a member who is not a student (households.quality.NOT_STUDENT).
NOT_STUDENT_STATUSES = ("", "非在校生")
# The member fields required only at some ages (households.quality: 在校生状况 6–23, 劳动技能
# 16–65): their "filled" bits in Member.completeness_mask, in this order (bit 4, bit 5).
MEMBER_AGED_REQUIRED = ("school_status", "labour_skill")
# The member fields required at any age, under a condition on the row (None: always).
MEMBER_STATIC_REQUIRED: dict[str, models.Q | None] = {
    "ethnicity": None,
    "education": models.Q(school_status__in=NOT_STUDENT_STATUSES),
    "health": None,
}


def _filled(name: str) -> models.Q:
    """The column holds a value (not NULL, not the empty string for text)."""
    return models.Q(**{f"{name}__isnull": False}) & ~models.Q(**{name: ""})


def _present(name: str) -> models.Q:
    return models.Q(**{f"{name}__isnull": False})


def _count(*conditions: models.Q | None) -> Any:
    """The number of conditions that hold (None: always), as one SQL integer expression."""
    always = sum(1 for condition in conditions if condition is None)
    total: Any = models.Value(always)
    for condition in conditions:
        if condition is not None:
            total = total + models.Case(
                models.When(condition, then=models.Value(1)), default=models.Value(0)
            )
    return total


def _member_completeness_mask() -> Any:
    """Bits 0–1: how many of the fields required at any age (MEMBER_STATIC_REQUIRED) are
    filled; bits 2–3: how many of them the row requires; bit 4 + i: MEMBER_AGED_REQUIRED[i]
    filled. The rates job adds the aged fields' terms for the age on its day."""
    filled = [
        _filled(name) if condition is None else condition & _filled(name)
        for name, condition in MEMBER_STATIC_REQUIRED.items()
    ]
    mask = _count(*filled) + _count(*MEMBER_STATIC_REQUIRED.values()) * models.Value(4)
    for bit, name in enumerate(MEMBER_AGED_REQUIRED, 4):
        mask = mask + models.Case(
            models.When(_filled(name), then=models.Value(1 << bit)), default=models.Value(0)
        )
    return mask


class Household(models.Model):
    """A household (户) of the registry. Never deleted: removal (剔除) is a status."""

    class Status(models.TextChoices):
        POOR = "poor", _("未脱贫")
        EXITED = "exited", _("已脱贫")
        RETURNED = "returned", _("返贫")
        REMOVED = "removed", _("剔除")
        NON_REGISTERED = "non_registered", _("非建档立卡户")

    class ExitPolicy(models.TextChoices):
        ENJOYS = "享受政策", _("享受政策")
        NO_LONGER = "不再享受政策", _("不再享受政策")

    # Statuses that count as poor (unexited registered) in incidence and the rates.
    POOR_STATUSES = (Status.POOR, Status.RETURNED)
    REGISTERED_STATUSES = (Status.POOR, Status.RETURNED, Status.EXITED)

    number = models.CharField(_("户编号"), max_length=32, unique=True)
    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="households"
    )
    group = models.ForeignKey(
        Region,
        verbose_name=_("村民小组"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="group_households",
    )
    # The county (县) the village lies in: derived, never edited (households.counties keeps it
    # true on every write path). The county office's list is `county = <its county> ORDER BY
    # number` through `household_county_number_idx`, not a walk of the whole number index
    # filtered by the village's path (docs/performance.md, "The county key").
    county = models.ForeignKey(
        Region,
        verbose_name=_("县"),
        on_delete=models.PROTECT,
        editable=False,
        db_index=False,  # led by the (county, …) index below
        related_name="county_households",
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    bank_name = models.CharField(_("开户银行"), max_length=64, blank=True)
    # Encrypted at rest (povertyapp/crypto.py), as are the member's ID number and health details.
    bank_account = EncryptedCharField(_("银行账号"), max_length=32, blank=True)
    identification_standard = models.CharField(
        _("识别标准"), max_length=8, choices=Standard.choices, default=Standard.NATIONAL
    )
    poverty_attribute = models.CharField(_("贫困户属性"), max_length=16, blank=True)
    main_cause = models.CharField(_("主要致贫原因"), max_length=32, blank=True)
    other_cause_1 = models.CharField(_("其他致贫原因一"), max_length=32, blank=True)
    other_cause_2 = models.CharField(_("其他致贫原因二"), max_length=32, blank=True)
    cause_note = models.CharField(_("致贫原因说明"), max_length=500, blank=True)
    first_identified_year = models.PositiveSmallIntegerField(
        _("首次识别年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    planned_exit_year = models.PositiveSmallIntegerField(
        _("计划脱贫年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.POOR)
    exit_year = models.PositiveSmallIntegerField(
        _("脱贫年度"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    exit_policy = models.CharField(
        _("脱贫后享受政策"), max_length=8, choices=ExitPolicy.choices, blank=True
    )
    is_military_family = models.BooleanField(_("是否军烈属"), default=False)
    in_cooperative = models.BooleanField(_("是否加入农民专业合作社"), default=False)

    # Production and living conditions (生产生活条件).
    cultivated_land = models.DecimalField(_("耕地面积（亩）"), **AREA)
    irrigated_land = models.DecimalField(_("有效灌溉面积（亩）"), **AREA)
    forest_land = models.DecimalField(_("林地面积（亩）"), **AREA)
    returned_farmland = models.DecimalField(_("退耕还林面积（亩）"), **AREA)
    orchard_land = models.DecimalField(_("林果面积（亩）"), **AREA)
    pasture_land = models.DecimalField(_("牧草地面积（亩）"), **AREA)
    water_surface = models.DecimalField(_("水面面积（亩）"), **AREA)
    has_production_power = models.BooleanField(_("是否通生产用电"), default=True)
    has_household_power = models.BooleanField(_("是否通生活用电"), default=True)
    has_broadcast_tv = models.BooleanField(_("是否通广播电视"), default=True)
    distance_to_road_km = models.DecimalField(
        _("与村主干路距离（公里）"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    road_type = models.CharField(_("入户路类型"), max_length=8, blank=True)
    housing_area = models.DecimalField(
        _("住房面积（平方米）"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    house_grade = models.CharField(_("危房等级"), max_length=2, blank=True)
    house_renovated = models.BooleanField(_("是否已完成危房改造"), default=False)
    water_safe = models.BooleanField(_("饮水是否安全"), null=True, blank=True)
    water_difficult = models.BooleanField(_("饮水是否困难"), null=True, blank=True)
    fuel_type = models.CharField(_("主要燃料类型"), max_length=8, blank=True)
    has_sanitary_toilet = models.BooleanField(_("有无卫生厕所"), null=True, blank=True)
    relocated = models.BooleanField(_("是否易地扶贫搬迁"), default=False)
    relocation_mode = models.CharField(_("安置方式"), max_length=16, blank=True)
    relocation_place = models.CharField(_("安置地"), max_length=128, blank=True)
    # 两不愁: recorded by the village's check of the household.
    food_secure = models.BooleanField(_("不愁吃"), null=True, blank=True)
    clothing_secure = models.BooleanField(_("不愁穿"), null=True, blank=True)

    # Optimistic locking: every save through the services increments it; a save that carries
    # an older version is refused as a conflict instead of overwriting someone else's edit.
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("建档人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # 信息录入率 (households.quality.HOUSEHOLD_REQUIRED): required fields filled and required,
    # kept by the database (see above).
    completeness_filled = models.GeneratedField(
        expression=_count(
            models.Q(status__in=REGISTERED_STATUSES) & _filled("main_cause"),
            models.Q(status__in=REGISTERED_STATUSES) & _filled("poverty_attribute"),
            _filled("road_type"),
            _present("housing_area"),
            _filled("house_grade"),
            _present("water_safe"),
            _present("water_difficult"),
            _filled("fuel_type"),
            _present("has_sanitary_toilet"),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
        verbose_name=_("已填必填项"),
    )
    completeness_required = models.GeneratedField(
        expression=_count(
            models.Q(status__in=REGISTERED_STATUSES),
            models.Q(status__in=REGISTERED_STATUSES),
            *[None] * 7,
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
        verbose_name=_("必填项"),
    )

    # The county is derived from the village, which the history keeps.
    history = HistoricalRecords(
        excluded_fields=["updated_at", "county", "completeness_filled", "completeness_required"]
    )

    class Meta:
        verbose_name = _("农户")
        verbose_name_plural = _("农户")
        ordering = ["number"]
        indexes = [
            models.Index(fields=["village", "status"], name="household_village_status_idx"),
            # A county's list in 户编号 order (the county office's page): see `county`.
            models.Index(fields=["county", "number"], name="household_county_number_idx"),
            models.Index(fields=["main_cause"], name="household_cause_idx"),
            # The rates job's 信息录入率 pass: index-only (PostgreSQL; a plain index elsewhere).
            models.Index(
                fields=["village"],
                include=["id", "completeness_filled", "completeness_required"],
                name="household_completeness_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(exit_year__isnull=True)
                | models.Q(status__in=["exited", "returned", "removed"]),
                name="household_exit_year_needs_exit",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="exited") | models.Q(exit_year__isnull=False),
                name="household_exited_has_exit_year",
            ),
        ]

    # The village as last read or written (`from_db`, `save`): None for a new instance.
    _stored_village_id: int | None = None

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep the county key true: a new household, or one whose village changed, takes its
        village's county (and its members follow, in the same transaction)."""
        from households import counties

        stored = self._stored_village_id
        moved = self.village_id is not None and (
            self.county_id is None or stored is None or stored != self.village_id
        )
        if moved:
            village: Any = Household.village.field.get_cached_value(self, None)
            county_id = counties.county_id_of_village(self.village_id, village=village)
            moved = county_id != self.county_id
            self.county_id = county_id
            update_fields = kwargs.get("update_fields")
            if moved and update_fields is not None and "county" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "county"]
        adding = self._state.adding
        super().save(*args, **kwargs)
        self._stored_village_id = self.village_id
        if moved and not adding:  # the members follow their household
            Member.objects.filter(household_id=self.pk).exclude(county_id=self.county_id).update(
                county_id=self.county_id
            )

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Collection[str], values: Collection[Any], **kwargs: Any
    ) -> Self:
        """Remember the village as stored: `save()` gives a moved household its new county."""
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._stored_village_id = instance.__dict__.get("village_id")
        return instance

    @property
    def is_registered(self) -> bool:
        return self.status in self.REGISTERED_STATUSES

    @property
    def is_poor(self) -> bool:
        return self.status in self.POOR_STATUSES

    @property
    def other_causes(self) -> list[str]:
        return [cause for cause in (self.other_cause_1, self.other_cause_2) if cause]


class MemberQuerySet(models.QuerySet["Member"]):
    def with_id_number(self, number: str) -> MemberQuerySet:
        """Members holding this ID number (exact, through the blind index: the column is
        encrypted, so no partial match is possible). The caller normalises the number
        (households.identity.normalise_id_number)."""
        return self.filter(id_number_index=blind_index(number)) if number else self.none()

    def with_id_numbers(self, numbers: Any) -> MemberQuerySet:
        return self.filter(id_number_index__in=[blind_index(n) for n in numbers if n])


class Member(models.Model):
    """A member (家庭成员) of a household. Leaving is recorded (is_active=False), never deleted.

    A person (by ID number) may be an active member of only one household in the deployment:
    the partial unique constraint on the ID number's blind index enforces it in the database as
    well as in the services.
    """

    class Sex(models.TextChoices):
        MALE = "男", _("男")
        FEMALE = "女", _("女")

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="members"
    )
    # The household's county (Household.county), kept with it: a county's members without a
    # join, and the key a LIST partitioning of this table by county would need.
    county = models.ForeignKey(
        Region,
        verbose_name=_("县"),
        on_delete=models.PROTECT,
        editable=False,
        db_index=False,  # led by the (county, …) index below
        related_name="county_members",
    )
    name = models.CharField(_("姓名"), max_length=32)
    id_type = models.CharField(_("证件类型"), max_length=16, default="居民身份证")
    # Encrypted at rest; found by its keyed blind index (Member.objects.with_id_number).
    id_number = EncryptedCharField(_("证件号码"), max_length=32, blank=True)
    id_number_index = BlindIndexField(_("证件号码索引"), source="id_number")
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))
    relation = models.CharField(_("与户主关系"), max_length=8)
    ethnicity = models.CharField(_("民族"), max_length=16, blank=True)
    political_status = models.CharField(_("政治面貌"), max_length=16, blank=True)
    education = models.CharField(_("文化程度"), max_length=16, blank=True)
    school_status = models.CharField(_("在校生状况"), max_length=16, blank=True)
    # Several may apply: stored as labels joined by "、" (e.g. "长期慢性病、残疾"), so that a
    # plain substring filter works on SQLite and PostgreSQL alike.
    health = models.CharField(_("健康状况"), max_length=64, blank=True)
    # Health details are encrypted; `health` (the category the figures count in SQL) is not.
    illness_name = EncryptedCharField(_("患病名称"), max_length=64, blank=True)
    disability_certificate = EncryptedCharField(_("残疾证号"), max_length=32, blank=True)
    disability_grade = models.CharField(_("残疾等级"), max_length=8, blank=True)
    labour_skill = models.CharField(_("劳动技能"), max_length=16, blank=True)
    work_status = models.CharField(_("务工状况"), max_length=8, blank=True)
    work_months = models.PositiveSmallIntegerField(
        _("务工时间（月）"), default=0, validators=[MaxValueValidator(12)]
    )
    is_active_soldier = models.BooleanField(_("是否现役军人"), default=False)
    has_medical_insurance = models.BooleanField(_("是否参加城乡居民基本医疗保险"), default=False)
    has_critical_illness_insurance = models.BooleanField(_("是否参加大病保险"), default=False)
    has_pension_insurance = models.BooleanField(_("是否参加城乡居民基本养老保险"), default=False)
    receives_dibao = models.BooleanField(_("是否享受农村低保"), default=False)
    is_tekun = models.BooleanField(_("是否特困供养人员"), default=False)
    living_status = models.CharField(_("生存状态"), max_length=8, default="正常")
    compulsory_education_exemption = models.CharField(
        _("义务教育保障方式"),
        max_length=16,
        blank=True,
        help_text=_("适龄未在校时填写：送教上门、因身体原因不具备学习条件。"),
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    is_active = models.BooleanField(_("在户"), default=True)
    joined_on = models.DateField(_("入户日期"), null=True, blank=True)
    left_on = models.DateField(_("减员日期"), null=True, blank=True)
    left_reason = models.CharField(_("减员原因"), max_length=16, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # 信息录入率 (households.quality.MEMBER_REQUIRED) without the age: see
    # _member_completeness_mask; the rates job adds the terms that depend on the age.
    completeness_mask = models.GeneratedField(
        expression=_member_completeness_mask(),
        output_field=models.SmallIntegerField(),
        db_persist=True,
        verbose_name=_("必填项填写情况"),
    )

    history = HistoricalRecords(excluded_fields=["updated_at", "county", "completeness_mask"])

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household", "-is_active", "id"]
        indexes = [
            models.Index(fields=["household", "is_active"], name="member_household_active_idx"),
            models.Index(fields=["id_number_index"], name="member_id_number_index_idx"),
            # A county's members by household (see `county`).
            models.Index(fields=["county", "household"], name="member_county_household_idx"),
            models.Index(fields=["name"], name="member_name_idx"),
            # The rates job's 信息录入率 pass over active members: index-only (PostgreSQL).
            models.Index(
                fields=["household"],
                include=["birth_date", "completeness_mask"],
                condition=models.Q(is_active=True),
                name="member_completeness_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=models.Q(is_active=True) & ~models.Q(id_number_index=""),
                name="member_id_number_active_unique",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(is_active=True, relation="户主"),
                name="member_one_active_head",
            ),
            models.CheckConstraint(
                condition=models.Q(is_active=True) | ~models.Q(left_reason=""),
                name="member_inactive_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """The member's county is its household's (a new member, or one moved to another
        household, takes it)."""
        if self.household_id is not None:
            cached: Any = Member.household.field.get_cached_value(self, None)
            if cached is not None and cached.pk == self.household_id and cached.county_id:
                county_id = cached.county_id
            else:
                county_id = (
                    Household.objects.filter(pk=self.household_id)
                    .values_list("county_id", flat=True)
                    .first()
                )
            if county_id != self.county_id:
                self.county_id = county_id
                update_fields = kwargs.get("update_fields")
                if update_fields is not None and "county" not in update_fields:
                    kwargs["update_fields"] = [*update_fields, "county"]
        super().save(*args, **kwargs)

    @property
    def health_conditions(self) -> list[str]:
        return [item for item in self.health.split("、") if item]

    def age_on(self, day) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class MemberCompleteness(models.Model):
    """The 信息录入率 terms of a household's active members (households.quality.MEMBER_REQUIRED:
    required fields filled, required fields), as of `valid_from`, and the day `valid_until` on
    which the first of its members reaches an age at which a field starts or stops being
    required: the terms hold for every day in [valid_from, valid_until). The rates job sums these
    rows per village instead of reading every member (rounds.rates.completeness_by_village), and
    reads the members of the households whose row is missing or out of date.

    Written only by SQL: `households.completeness.refresh` (nightly, per county) fills it, and
    database triggers on `households_member` (migration 0023: every INSERT, COPY included, every
    DELETE and every UPDATE of a column the terms depend on) mark the rows of the households they
    touch out of date (`valid_until` empty) and raise `generation`, so that a refresh that read
    the members before such a write does not store what it read. A trigger on
    `households_household` follows a household to another village and drops the row of a
    deleted household. Never written by application code."""

    household = models.OneToOneField(
        Household,
        verbose_name=_("户"),
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the database trigger drops the row with the household
        db_constraint=False,
        related_name="+",
    )
    village = models.ForeignKey(
        Region,
        verbose_name=_("行政村"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    filled = models.IntegerField(_("已填必填项"), default=0)
    required = models.IntegerField(_("必填项"), default=0)
    valid_from = models.DateField(_("起算日期"), null=True)
    valid_until = models.DateField(_("有效期至"), null=True)
    generation = models.IntegerField(_("变更次数"), default=1)

    class Meta:
        verbose_name = _("成员信息录入情况")
        verbose_name_plural = _("成员信息录入情况")
        indexes = [
            # The rates job's pass: index-only on PostgreSQL (a village's rows and their terms).
            models.Index(
                fields=["village"],
                include=["valid_from", "valid_until", "filled", "required"],
                name="member_terms_village_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.filled}/{self.required} {self.valid_until}"


class HouseholdIncome(models.Model):
    """A household's income for one year (上年度收入), in yuan. Net figures are derived."""

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="incomes"
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    wage = models.DecimalField(_("工资性收入"), **MONEY)
    production = models.DecimalField(_("生产经营性收入"), **MONEY)
    property_income = models.DecimalField(_("财产性收入"), **MONEY)
    family_planning = models.DecimalField(_("计划生育金"), **MONEY)
    dibao = models.DecimalField(_("低保金"), **MONEY)
    tekun = models.DecimalField(_("特困供养金"), **MONEY)
    pension = models.DecimalField(_("养老保险金"), **MONEY)
    eco_compensation = models.DecimalField(_("生态补偿金"), **MONEY)
    other_transfer = models.DecimalField(_("其他转移性收入"), **MONEY)
    production_cost = models.DecimalField(_("生产经营性支出"), **MONEY)
    compliant_out_of_pocket = models.DecimalField(_("合规自付支出"), **MONEY)
    insurance_claims = models.DecimalField(_("理赔收入"), **MONEY)
    version = models.PositiveIntegerField(_("版本"), default=1)

    history = HistoricalRecords()

    TRANSFER_FIELDS = (
        "family_planning",
        "dibao",
        "tekun",
        "pension",
        "eco_compensation",
        "other_transfer",
    )

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("家庭收入")
        verbose_name_plural = _("家庭收入")
        ordering = ["household", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="income_household_year"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.year}"

    @property
    def transfer(self) -> Decimal:
        """转移性收入 = the sum of its components."""
        return sum((getattr(self, name) for name in self.TRANSFER_FIELDS), Decimal("0"))

    @property
    def net(self) -> Decimal:
        """年纯收入 = 工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营性支出."""
        return (
            self.wage
            + self.production
            + self.property_income
            + self.transfer
            - self.production_cost
        )


class HouseholdEvent(models.Model):
    """A change of a household's status or membership: the case history, kept for ever."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("建档")
        IDENTIFIED = "identified", _("新识别纳入")
        EXITED = "exited", _("标注脱贫")
        RETURNED = "returned", _("返贫")
        REMOVED = "removed", _("剔除")
        MEMBER_JOINED = "member_joined", _("自然增减（增员）")
        MEMBER_LEFT = "member_left", _("自然增减（减员）")
        MEMBER_MOVED = "member_moved", _("成员迁移")
        CORRECTED = "corrected", _("信息更正")
        # A procedure's case sent back or withdrawn: no change of status, kept in the history.
        CASE_RETURNED = "case_returned", _("程序退回")
        CASE_WITHDRAWN = "case_withdrawn", _("程序撤回")

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("变动类型"), max_length=16, choices=Kind.choices)
    from_status = models.CharField(
        _("变动前状态"), max_length=16, choices=Household.Status.choices, blank=True
    )
    to_status = models.CharField(
        _("变动后状态"), max_length=16, choices=Household.Status.choices, blank=True
    )
    effective_date = models.DateField(_("变动日期"))
    round = models.ForeignKey(
        "rounds.AdjustmentRound",
        verbose_name=_("动态调整批次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    ground = models.CharField(_("剔除理由"), max_length=64, blank=True)
    persons = models.PositiveSmallIntegerField(_("涉及人数"), default=0)
    member = models.ForeignKey(
        Member,
        verbose_name=_("成员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提出人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审定人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("户状态变动")
        verbose_name_plural = _("户状态变动")
        ordering = ["household", "effective_date", "id"]
        indexes = [
            models.Index(fields=["round", "kind"], name="event_round_kind_idx"),
            models.Index(fields=["household", "effective_date"], name="event_household_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.get_kind_display()} {self.effective_date}"


# --- procedures (识别/退出 with 公示), reused later by monitoring and risk elimination ----------


class CaseBatch(models.Model):
    """A village's batch of cases of one procedure (识别, 退出; later 监测, 风险消除): one
    民主评议 meeting decides them all, one 公示 lists them all, and the township and county review
    them in one action with per-household exceptions. Every member keeps its own case, steps and
    events: a batch action calls the per-household services for each member
    (`households.services.case_batch_*`)."""

    class State(models.TextChoices):
        OPEN = "open", _("办理中")
        CLOSED = "closed", _("已完结")

    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="case_batches"
    )
    kind = models.CharField(_("程序"), max_length=24)
    name = models.CharField(_("批次名称"), max_length=64)
    state = models.CharField(
        _("批次状态"), max_length=12, choices=State.choices, default=State.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # The 民主评议 meeting that decided every member (DOMAIN §4).
    meeting_date = models.DateField(_("评议会议日期"), null=True, blank=True)
    attendance = models.PositiveSmallIntegerField(_("参会人数"), null=True, blank=True)
    minutes = models.FileField(
        _("会议记录"), upload_to=PrivateUploadTo("evidence"), max_length=255, blank=True
    )
    # The batch's latest 公示: its step and start date (each member has its own PublicNotice
    # row, so objections stay per household).
    notice_step = models.CharField(_("公示环节"), max_length=32, blank=True)
    notice_start_date = models.DateField(_("公示开始日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("批量办理批次")
        verbose_name_plural = _("批量办理批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class CaseBatchEvent(models.Model):
    """What was done to a batch (who, when, what, which households): the batch's history. Each
    household's own record is in its case (WorkflowStep) and history (HouseholdEvent)."""

    batch = models.ForeignKey(
        CaseBatch, verbose_name=_("批次"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    summary = models.CharField(_("说明"), max_length=500)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("批次记录")
        verbose_name_plural = _("批次记录")
        ordering = ["batch", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.batch} {self.action}"


class CaseWorkflow(models.Model):
    """One run of a procedure for a household (识别, 退出...). Its steps are defined as data in
    `households.workflows`; this row records where the case stands."""

    class Kind(models.TextChoices):
        IDENTIFICATION = "identification", _("贫困户识别")
        EXIT = "exit", _("贫困户退出")
        # Registered by `monitoring` (households.workflows.register).
        MONITORING = "monitoring", _("监测对象识别")
        RISK_ELIMINATION = "risk_elimination", _("风险消除")

    class State(models.TextChoices):
        OPEN = "open", _("办理中")
        DONE = "done", _("已办结")
        CANCELLED = "cancelled", _("已终止")
        WITHDRAWN = "withdrawn", _("已撤回")

    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="workflows"
    )
    kind = models.CharField(_("程序"), max_length=24, choices=Kind.choices)
    state = models.CharField(
        _("办理状态"), max_length=12, choices=State.choices, default=State.OPEN
    )
    step = models.CharField(_("当前环节"), max_length=32)
    round = models.ForeignKey(
        "rounds.AdjustmentRound",
        verbose_name=_("动态调整批次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="workflows",
    )
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    started_at = models.DateTimeField(_("发起时间"))
    # The date the case was opened (the application's date for 识别): no step is dated before
    # it, and the statutory clock runs from it. Recorded separately from `started_at`, the
    # moment it was entered, because a paper application is often entered days later.
    opened_on = models.DateField(_("受理日期"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    step_since = models.DateTimeField(_("进入当前环节时间"))
    deadline = models.DateField(_("办结期限"), null=True, blank=True)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    batch = models.ForeignKey(
        CaseBatch,
        verbose_name=_("批次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("识别退出程序")
        verbose_name_plural = _("识别退出程序")
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["state", "kind", "step"], name="workflow_todo_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(state="open"),
                name="workflow_one_open_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.get_kind_display()}"


class WorkflowStep(models.Model):
    """A step done (or a case sent back): who, when, the opinion and its evidence."""

    class Decision(models.TextChoices):
        DONE = "done", _("通过")
        RETURNED = "returned", _("退回")
        OBJECTION = "objection", _("公示有异议，退回")
        NOTICE_STARTED = "notice_started", _("开始公示")
        CANCELLED = "cancelled", _("终止")
        WITHDRAWN = "withdrawn", _("撤回")

    workflow = models.ForeignKey(
        CaseWorkflow, verbose_name=_("程序"), on_delete=models.PROTECT, related_name="steps"
    )
    step = models.CharField(_("环节"), max_length=32)
    label = models.CharField(_("环节名称"), max_length=64)
    role = models.CharField(_("责任层级"), max_length=16)
    decision = models.CharField(_("结果"), max_length=16, choices=Decision.choices)
    opinion = models.TextField(_("意见"), max_length=2000, blank=True)
    attendance = models.PositiveSmallIntegerField(_("参会人数"), null=True, blank=True)
    evidence = models.FileField(
        _("佐证材料"), upload_to=PrivateUploadTo("evidence"), max_length=255, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    acted_on = models.DateField(_("办理日期"))
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["workflow", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.workflow} {self.label}"


class StepPhoto(PhotoBase):
    """A photo taken at the 入户核实 of a procedure (the steps marked `photos` in
    `households.workflows`; `povertyapp.photos`): through the file door (kind `step_photo`,
    inline), locked with its procedure's year."""

    step = models.ForeignKey(
        WorkflowStep, verbose_name=_("办理环节"), on_delete=models.CASCADE, related_name="photos"
    )

    objects = YearLockedManager()

    class Meta(PhotoBase.Meta):
        verbose_name = _("入户核实照片")
        verbose_name_plural = _("入户核实照片")

    def __str__(self) -> str:
        return f"{self.step} {self.taken_at:%Y-%m-%d %H:%M}"


class PublicNotice(models.Model):
    """A 公示 of one case: start date and length, the phone for objections, its objections."""

    workflow = models.ForeignKey(
        CaseWorkflow, verbose_name=_("程序"), on_delete=models.PROTECT, related_name="notices"
    )
    step = models.CharField(_("环节"), max_length=32)
    start_date = models.DateField(_("公示开始日期"))
    days = models.PositiveSmallIntegerField(
        _("公示天数"), default=7, validators=[MinValueValidator(5), MaxValueValidator(30)]
    )
    phone = models.CharField(_("监督举报电话"), max_length=20)
    place = models.CharField(_("公示地点"), max_length=128, blank=True)
    is_open = models.BooleanField(_("公示中"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-start_date", "id"]

    def __str__(self) -> str:
        return f"{self.workflow} {self.start_date}"

    @property
    def end_date(self):
        import datetime

        return self.start_date + datetime.timedelta(days=self.days - 1)


class NoticeObjection(models.Model):
    """An objection (异议) received during a 公示: it sends the case back."""

    notice = models.ForeignKey(
        PublicNotice, verbose_name=_("公示"), on_delete=models.PROTECT, related_name="objections"
    )
    received_on = models.DateField(_("受理日期"))
    objector = models.CharField(_("反映人"), max_length=32, blank=True)
    content = models.TextField(_("异议内容"), max_length=2000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = YearLockedManager()

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["notice", "received_on", "id"]

    def __str__(self) -> str:
        return f"{self.notice} {self.received_on}"


# --- data quality (问题数据) --------------------------------------------------------------------


class DataProblem(models.Model):
    """A problem found by a data-quality rule (households.quality), owned by the village.

    A run of the check keeps one row per (household, member, rule, field): new problems are
    added, problems no longer found become 已修正, an explained problem waits for the township.
    """

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        EXPLAINED = "explained", _("已说明待审核")
        ACCEPTED = "accepted", _("说明已认可")
        FIXED = "fixed", _("已修正")

    village = models.ForeignKey(
        Region, verbose_name=_("行政村"), on_delete=models.PROTECT, related_name="data_problems"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.PROTECT, related_name="data_problems"
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("成员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="data_problems",
    )
    subject = models.PositiveBigIntegerField(
        _("对象"), default=0, help_text=_("成员编号；户级问题为0。")
    )
    rule = models.CharField(_("规则"), max_length=48)
    field = models.CharField(_("字段"), max_length=48, blank=True)
    message = models.CharField(_("问题说明"), max_length=255)
    # The message's msgid and parameters as the rule gave them (households.quality.RuleMessage):
    # `message` is written in the language of the check (Chinese), this one is shown in the
    # reader's (issue 17). Empty for a message composed of several (shown as stored).
    message_source = models.JSONField(
        _("问题说明原文"), default=dict, blank=True, help_text=_("消息标识与参数，按读者语言显示。")
    )
    state = models.CharField(
        _("处理状态"), max_length=12, choices=State.choices, default=State.OPEN
    )
    first_seen = models.DateTimeField(_("发现时间"))
    last_seen = models.DateTimeField(_("最近检查时间"))
    fixed_at = models.DateTimeField(_("修正时间"), null=True, blank=True)
    explanation = models.CharField(_("情况说明"), max_length=500, blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("说明人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    explained_at = models.DateTimeField(_("说明时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("问题数据")
        verbose_name_plural = _("问题数据")
        ordering = ["village", "household", "rule", "id"]
        indexes = [models.Index(fields=["village", "state"], name="problem_village_state_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "subject", "rule", "field"], name="problem_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.rule} {self.field}"

    @property
    def message_shown(self) -> str:
        """The message in the reader's language when its rule gave a msgid; as stored else."""
        source = self.message_source or {}
        msgid = source.get("msgid")
        if not msgid:
            return self.message
        params = {
            key: gettext(value) if isinstance(value, str) else value
            for key, value in (source.get("params") or {}).items()
        }
        try:
            return gettext(msgid) % params if "%" in msgid else gettext(msgid)
        except (KeyError, TypeError, ValueError):  # a catalog out of step: the stored text
            return self.message


class StatusCountBase(models.Model):
    """Households per status of one region, kept by database triggers (never written by
    application code): the village's and the county's rows below. `REGION` names the region's
    field."""

    REGION = ""

    status = models.CharField(_("状态"), max_length=16, choices=Household.Status.choices)
    households = models.IntegerField(_("户数"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{getattr(self, f'{self.REGION}_id')} {self.status} {self.households}"


class VillageStatusCount(StatusCountBase):
    """How many households of a village have each status: the counts on top of the household
    list, read in one small query instead of counting a county's 100k households per view.

    Kept by database triggers on `households_household` (migration 0007): every INSERT
    (COPY included), UPDATE of status or village and DELETE, whichever code path writes it,
    changes the counts in the same transaction, so they are always exact. Never written by
    application code."""

    REGION = "village"
    village = models.ForeignKey(
        Region,
        verbose_name=_("行政村"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("行政村分状态户数")
        verbose_name_plural = _("行政村分状态户数")
        constraints = [
            models.UniqueConstraint(fields=["village", "status"], name="village_status_count_key")
        ]


class NationalEntry(models.Model):
    """录入国家系统: a household's record (member None) or a person's record (member set) has
    been entered into the national system, on `entered_on`, marked by `marked_by`. One current
    mark per record; every set and clear is kept in `NationalEntryEvent`."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="national_entries",
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("家庭成员"),
        on_delete=models.PROTECT,
        related_name="national_entries",
        null=True,
        blank=True,
    )
    entered_on = models.DateField(_("录入国家系统日期"))
    layout_version = models.CharField(_("国家系统格式版本"), max_length=16, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("标记人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    marked_at = models.DateTimeField(_("标记时间"))

    class Meta:
        verbose_name = _("录入国家系统标记")
        verbose_name_plural = _("录入国家系统标记")
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=models.Q(member__isnull=True),
                name="national_entry_one_per_household",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(member__isnull=False),
                name="national_entry_one_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.member_id or ''} {self.entered_on}"


class NationalEntryEvent(models.Model):
    """A change of a household's 录入国家系统 marks (its own and its members'): who, when, set or
    cleared, the date entered, how many person records it covered, from where (one household's
    page, or the bulk mark after a national export)."""

    class Action(models.TextChoices):
        MARKED = "marked", _("标记已录入")
        CLEARED = "cleared", _("取消标记")

    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        on_delete=models.PROTECT,
        related_name="national_entry_events",
    )
    action = models.CharField(_("操作"), max_length=8, choices=Action.choices)
    entered_on = models.DateField(_("录入国家系统日期"), null=True, blank=True)
    persons = models.PositiveSmallIntegerField(_("涉及人数"), default=0)
    bulk = models.BooleanField(_("批量标记"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("操作时间"))

    class Meta:
        verbose_name = _("录入国家系统标记记录")
        verbose_name_plural = _("录入国家系统标记记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.household_id} {self.action} {self.entered_on}"


class CountyStatusCount(StatusCountBase):
    """How many households of a county have each status: the village counts
    (`VillageStatusCount`) summed per county, so that the household list of a province or a
    city reads its 88 counties' rows instead of 26,000 villages' (issue 19).

    Kept by database triggers on `households_villagestatuscount` (migration 0020): every change
    of a village's count adds its difference to the village's county in the same statement, so
    the two tables change together whatever wrote the household; a region whose parent or level
    changes (a township moved to another county) recounts them all. The row's `county` is the
    village's county: its parent, grandparent or great-grandparent of level 县; a village with
    no county above it is its own row. Never written by application code."""

    REGION = "county"
    county = models.ForeignKey(
        Region,
        verbose_name=_("县"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("县分状态户数")
        verbose_name_plural = _("县分状态户数")
        constraints = [
            models.UniqueConstraint(fields=["county", "status"], name="county_status_count_key")
        ]
