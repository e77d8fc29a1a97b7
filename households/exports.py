"""The registry's ledgers: 户台账 (one row per household), 人员台账 (one row per person), and
农户档案（户+人员）, the two sheets in one workbook, which is the layout the household import
reads back (`households/imports/`), so a ledger round-trips.

The column lists below are the single description of both sheets: the exporter writes them and
the importer matches uploaded columns to them by their Chinese header text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.filters import HouseholdFilter
from households.models import Household, HouseholdIncome, Member, ValueList
from households.selectors import household_list
from povertyapp import ledgers
from povertyapp.ledgers.layout import (
    BOOLEAN,
    DATE,
    DECIMAL,
    HEALTH,
    INTEGER,
    MONEY,
    SENSITIVE,
    Column,
    SheetSpec,
)
from povertyapp.models import User

CHUNK = 2000
HOUSEHOLD_SHEET = "户台账"
MEMBER_SHEET = "人员台账"
CONDITIONS = ("生产生活条件",)
ASSURANCE = ("两不愁",)
INCOME = ("收入情况（元）",)
TRANSFER = ("收入情况（元）", "转移性收入")
INSURANCE = ("参保情况",)
SECURITY = ("社会保障",)
HEALTH_GROUP = ("健康情况",)
WORK = ("务工情况",)

# The household sheet. Keys are Household fields, except the derived columns named in
# HOUSEHOLD_DERIVED (exported, never imported).
HOUSEHOLD_COLUMNS: tuple[Column, ...] = (
    Column("number", "户编号", required=True),
    Column("township_name", "乡（镇）"),
    Column("village_name", "行政村", required=True),
    Column("group_name", "村民小组"),
    Column("head_name", "户主姓名"),
    Column("head_id_number", "户主证件号码", SENSITIVE),
    Column("person_count", "家庭人口", INTEGER, total=True),
    Column("status", "户状态", required=True),
    Column("identification_standard", "识别标准", value_list=ValueList.IDENTIFICATION_STANDARD),
    Column("poverty_attribute", "贫困户属性", value_list=ValueList.POVERTY_ATTRIBUTE),
    Column("main_cause", "主要致贫原因", value_list=ValueList.CAUSE),
    Column("other_cause_1", "其他致贫原因一", value_list=ValueList.CAUSE),
    Column("other_cause_2", "其他致贫原因二", value_list=ValueList.CAUSE),
    Column("cause_note", "致贫原因说明", width=24),
    Column("first_identified_year", "首次识别年度", INTEGER),
    Column("planned_exit_year", "计划脱贫年度", INTEGER),
    Column("exit_year", "脱贫年度", INTEGER),
    Column("exit_policy", "脱贫后享受政策"),
    Column("phone", "联系电话"),
    Column("bank_name", "开户银行"),
    Column("bank_account", "银行账号", SENSITIVE),
    Column("is_military_family", "是否军烈属", BOOLEAN),
    Column("in_cooperative", "是否加入农民专业合作社", BOOLEAN),
    Column("cultivated_land", "耕地面积（亩）", DECIMAL, CONDITIONS, total=True),
    Column("irrigated_land", "有效灌溉面积（亩）", DECIMAL, CONDITIONS),
    Column("forest_land", "林地面积（亩）", DECIMAL, CONDITIONS),
    Column("returned_farmland", "退耕还林面积（亩）", DECIMAL, CONDITIONS),
    Column("orchard_land", "林果面积（亩）", DECIMAL, CONDITIONS),
    Column("pasture_land", "牧草地面积（亩）", DECIMAL, CONDITIONS),
    Column("water_surface", "水面面积（亩）", DECIMAL, CONDITIONS),
    Column("has_production_power", "是否通生产用电", BOOLEAN, CONDITIONS),
    Column("has_household_power", "是否通生活用电", BOOLEAN, CONDITIONS),
    Column("has_broadcast_tv", "是否通广播电视", BOOLEAN, CONDITIONS),
    Column("distance_to_road_km", "与村主干路距离（公里）", DECIMAL, CONDITIONS),
    Column("road_type", "入户路类型", group=CONDITIONS, value_list=ValueList.ROAD_TYPE),
    Column("housing_area", "住房面积（平方米）", DECIMAL, CONDITIONS),
    Column("house_grade", "危房等级", group=CONDITIONS, value_list=ValueList.HOUSE_GRADE),
    Column("house_renovated", "是否已完成危房改造", BOOLEAN, CONDITIONS),
    Column("water_safe", "饮水是否安全", BOOLEAN, CONDITIONS),
    Column("water_difficult", "饮水是否困难", BOOLEAN, CONDITIONS),
    Column("fuel_type", "主要燃料类型", group=CONDITIONS, value_list=ValueList.FUEL_TYPE),
    Column("has_sanitary_toilet", "有无卫生厕所", BOOLEAN, CONDITIONS),
    Column("relocated", "是否易地扶贫搬迁", BOOLEAN, CONDITIONS),
    Column("relocation_mode", "安置方式", group=CONDITIONS, value_list=ValueList.RELOCATION_MODE),
    Column("relocation_place", "安置地", group=CONDITIONS),
    Column("food_secure", "不愁吃", BOOLEAN, ASSURANCE),
    Column("clothing_secure", "不愁穿", BOOLEAN, ASSURANCE),
    Column("income_year", "收入年度", INTEGER, INCOME),
    Column("wage", "工资性收入", MONEY, INCOME, total=True),
    Column("production", "生产经营性收入", MONEY, INCOME, total=True),
    Column("property_income", "财产性收入", MONEY, INCOME, total=True),
    Column("family_planning", "计划生育金", MONEY, TRANSFER, total=True),
    Column("dibao", "低保金", MONEY, TRANSFER, total=True),
    Column("tekun", "特困供养金", MONEY, TRANSFER, total=True),
    Column("pension", "养老保险金", MONEY, TRANSFER, total=True),
    Column("eco_compensation", "生态补偿金", MONEY, TRANSFER, total=True),
    Column("other_transfer", "其他转移性收入", MONEY, TRANSFER, total=True),
    Column("transfer", "小计", MONEY, TRANSFER, total=True),
    Column("production_cost", "生产经营性支出", MONEY, INCOME, total=True),
    Column("compliant_out_of_pocket", "合规自付支出", MONEY, INCOME, total=True),
    Column("insurance_claims", "理赔收入", MONEY, INCOME, total=True),
    Column("net", "年纯收入", MONEY, INCOME, total=True),
    Column("per_capita_net", "人均纯收入", MONEY, INCOME),
    Column("national_entered_on", "录入国家系统日期", DATE),
)
HOUSEHOLD_DERIVED = frozenset(
    {
        "national_entered_on",
        "township_name",
        "head_name",
        "head_id_number",
        "person_count",
        "transfer",
        "net",
        "per_capita_net",
    }
)
INCOME_FIELDS = (
    "wage",
    "production",
    "property_income",
    "family_planning",
    "dibao",
    "tekun",
    "pension",
    "eco_compensation",
    "other_transfer",
    "production_cost",
    "compliant_out_of_pocket",
    "insurance_claims",
)
TRANSFER_FIELDS = HouseholdIncome.TRANSFER_FIELDS

MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("household_number", "户编号", required=True),
    Column("township_name", "乡（镇）"),
    Column("village_name", "行政村"),
    Column("name", "姓名", required=True),
    Column("id_type", "证件类型", value_list=ValueList.ID_TYPE),
    Column("id_number", "证件号码", SENSITIVE),
    Column("sex", "性别", required=True),
    Column("birth_date", "出生日期", DATE),
    Column("relation", "与户主关系", required=True, value_list=ValueList.RELATION),
    Column("ethnicity", "民族", value_list=ValueList.ETHNICITY),
    Column("political_status", "政治面貌", value_list=ValueList.POLITICAL_STATUS),
    Column("education", "文化程度", value_list=ValueList.EDUCATION),
    Column("school_status", "在校生状况", value_list=ValueList.SCHOOL_STATUS),
    Column("health", "健康状况", HEALTH, HEALTH_GROUP),
    Column("illness_name", "患病名称", HEALTH, HEALTH_GROUP),
    Column("disability_certificate", "残疾证号", HEALTH, HEALTH_GROUP),
    Column("disability_grade", "残疾等级", HEALTH, HEALTH_GROUP),
    Column("labour_skill", "劳动技能", value_list=ValueList.LABOUR_SKILL),
    Column("work_status", "务工状况", group=WORK, value_list=ValueList.WORK_STATUS),
    Column("work_months", "务工时间（月）", INTEGER, WORK),
    Column("is_active_soldier", "是否现役军人", BOOLEAN),
    Column("has_medical_insurance", "城乡居民基本医疗保险", BOOLEAN, INSURANCE),
    Column("has_critical_illness_insurance", "大病保险", BOOLEAN, INSURANCE),
    Column("has_pension_insurance", "城乡居民基本养老保险", BOOLEAN, INSURANCE),
    Column("receives_dibao", "享受农村低保", BOOLEAN, SECURITY),
    Column("is_tekun", "特困供养人员", BOOLEAN, SECURITY),
    Column("living_status", "生存状态", value_list=ValueList.LIVING_STATUS),
    Column("compulsory_education_exemption", "义务教育保障方式"),
    Column("phone", "联系电话"),
    Column("national_entered_on", "录入国家系统日期", DATE),
)
# The 录入国家系统 mark's date (issue 16, `households.national.marks`): shown, never imported.
MEMBER_DERIVED = frozenset({"township_name", "village_name", "national_entered_on"})


def default_income_year() -> int:
    """户台账 shows 上年度收入: last year's income unless the user picks a year."""
    return timezone.localdate().year - 1


def _income_year(filters: dict[str, Any]) -> int:
    try:
        year = int(filters.get("income_year") or 0)
    except (TypeError, ValueError):
        year = 0
    return year if 2010 <= year <= 2100 else default_income_year()


def _household_filters(filters: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in filters.items()
        if key in HouseholdFilter.base_filters and value not in (None, "")
    }


def scoped_households(*, user: User, filters: dict[str, Any]) -> QuerySet[Household]:
    """The list page's households (scope + HouseholdFilter), as the ledgers export them."""
    return household_list(user=user, filters=_household_filters(filters))


def ledger_households(*, user: User, filters: dict[str, Any]) -> QuerySet[Household]:
    """The same households as `scoped_households` (scope + HouseholdFilter, by 户编号) without
    the list page's annotations: its head and person count are correlated subqueries with the
    member ordering (a join and a sort per household), which the ledgers replace by a join."""
    from povertyapp import roles

    chosen = {key: value for key, value in _household_filters(filters).items() if key != "ordering"}
    base = roles.household_scope(user, Household.objects.all())
    return HouseholdFilter(chosen, queryset=base, user=user).qs.order_by("number")


STATUS_LABELS = dict(Household.Status.choices)


def household_rows(*, user: User, filters: dict[str, Any]) -> Iterator[Sequence[Any]]:
    year = _income_year(filters)
    persons = (
        Member.objects.filter(household=OuterRef("pk"), is_active=True)
        .order_by()
        .values("household")
        .annotate(count=Count("pk"))
        .values("count")
    )
    # One active head per household (constraint member_one_active_head), so the filtered
    # join adds no rows; likewise one income row per household and year.
    queryset = ledger_households(user=user, filters=filters).annotate(
        active_head=FilteredRelation(
            "members", condition=Q(members__is_active=True, members__relation="户主")
        ),
        income_this_year=FilteredRelation("incomes", condition=Q(incomes__year=year)),
        person_count=Coalesce(Subquery(persons, output_field=IntegerField()), 0),
        national_entry=FilteredRelation(
            "national_entries", condition=Q(national_entries__member__isnull=True)
        ),
    )
    plain = [
        column.key
        for column in HOUSEHOLD_COLUMNS[:23]
        if column.key not in HOUSEHOLD_DERIVED | {"village_name", "group_name"}
    ]
    conditions = [column.key for column in HOUSEHOLD_COLUMNS[23:47]]
    values = queryset.values_list(
        *plain,
        *conditions,
        "village__parent__name",
        "village__name",
        "group__name",
        "active_head__name",
        "active_head__id_number",
        "person_count",
        "income_this_year__year",
        *(f"income_this_year__{name}" for name in INCOME_FIELDS),
        "national_entry__entered_on",
    )
    statuses = {value: str(label) for value, label in STATUS_LABELS.items()}
    zero = Decimal("0")
    for row in values.iterator(chunk_size=CHUNK):
        (
            number,
            status,
            standard,
            attribute,
            main,
            other1,
            other2,
            note,
            first_year,
            planned_year,
            exit_year,
            exit_policy,
            phone,
            bank_name,
            bank_account,
            military,
            cooperative,
        ) = row[:17]
        conditions_values = row[17:41]
        township, village, group, head_name, head_id, persons, income_year = row[41:48]
        incomes = row[48:-1]
        national_entered_on = row[-1]
        if income_year is None:
            income_values: tuple[Any, ...] = (None,) * 16
        else:
            (
                wage,
                production,
                property_income,
                family_planning,
                dibao,
                tekun,
                pension,
                eco,
                other,
                cost,
                out_of_pocket,
                claims,
            ) = incomes
            transfer = family_planning + dibao + tekun + pension + eco + other
            net = wage + production + property_income + transfer - cost
            per_capita = (net / persons).quantize(Decimal("0.01")) if persons else zero
            income_values = (
                income_year,
                wage,
                production,
                property_income,
                family_planning,
                dibao,
                tekun,
                pension,
                eco,
                other,
                transfer,
                cost,
                out_of_pocket,
                claims,
                net,
                per_capita,
            )
        yield (
            number,
            township,
            village,
            group,
            head_name,
            head_id,
            persons,
            statuses.get(status, status),
            standard,
            attribute,
            main,
            other1,
            other2,
            note,
            first_year,
            planned_year,
            exit_year,
            exit_policy,
            phone,
            bank_name,
            bank_account,
            military,
            cooperative,
            *conditions_values,
            *income_values,
            national_entered_on,
        )


def member_queryset(*, user: User, filters: dict[str, Any]) -> QuerySet[Member]:
    """Active members of the households the list page would show (same scope and filters;
    the subquery leaves out the list's annotations and ordering, which it does not need)."""
    households = ledger_households(user=user, filters=filters).order_by().values("pk")
    return Member.objects.filter(is_active=True, household__in=households).order_by(
        "household__number", "id"
    )


MEMBER_FIELDS_EXPORTED = tuple(
    column.key
    for column in MEMBER_COLUMNS
    if column.key not in MEMBER_DERIVED and column.key != "household_number"
)


def member_rows(*, user: User, filters: dict[str, Any]) -> Iterator[Sequence[Any]]:
    values = member_queryset(user=user, filters=filters).values_list(
        F("household__number"),
        F("household__village__parent__name"),
        F("household__village__name"),
        *MEMBER_FIELDS_EXPORTED,
        # One mark at most per member (constraint national_entry_one_per_member).
        F("national_entries__entered_on"),
    )
    yield from values.iterator(chunk_size=CHUNK)


def _household_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    year = _income_year(filters)
    return SheetSpec(
        name=HOUSEHOLD_SHEET,
        title=_("建档立卡贫困户户台账（%(year)d年度收入）") % {"year": year},
        columns=HOUSEHOLD_COLUMNS,
        rows=lambda: household_rows(user=user, filters=filters),
        count=lambda: ledger_households(user=user, filters=filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d户"),
    )


def _member_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    return SheetSpec(
        name=MEMBER_SHEET,
        title=_("建档立卡贫困人口人员台账"),
        columns=MEMBER_COLUMNS,
        rows=lambda: member_rows(user=user, filters=filters),
        count=lambda: member_queryset(user=user, filters=filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d人"),
    )


ledgers.register(
    ledgers.Ledger(
        key="households",
        title=gettext_lazy("户台账"),
        order=10,
        filter_form=HouseholdFilter,
        default_filters=lambda: {"income_year": default_income_year()},
        sheets=lambda *, user, filters: [_household_sheet(user, filters)],
        description=gettext_lazy("一户一行：基本信息、生产生活条件、两不愁、收入情况。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="members",
        title=gettext_lazy("人员台账"),
        order=20,
        filter_form=HouseholdFilter,
        default_filters=lambda: {"income_year": default_income_year()},
        sheets=lambda *, user, filters: [_member_sheet(user, filters)],
        description=gettext_lazy("一人一行：在户家庭成员。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="registry",
        title=gettext_lazy("农户档案（户台账+人员台账）"),
        order=30,
        filter_form=HouseholdFilter,
        default_filters=lambda: {"income_year": default_income_year()},
        sheets=lambda *, user, filters: [
            _household_sheet(user, filters),
            _member_sheet(user, filters),
        ],
        description=gettext_lazy("两张表在同一工作簿中，可修改后通过“导入农户”重新导入。"),
    )
)
