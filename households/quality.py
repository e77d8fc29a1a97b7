"""Data quality (问题数据, DOMAIN §3): every consistency rule, as data, in one module.

A rule is a row of `RULES`: a code, the name users see, whether it looks at the household or
at each member, the field it flags and a predicate that returns what is wrong (or None). The
same table serves three callers:

* `check_household` on save and on the household page (warnings beside the record);
* the region job `data_quality` (Celery, through `povertyapp.jobs`), which keeps one
  `DataProblem` row per (household, member, rule, field) for the owning village: new problems
  appear, problems no longer found become 已修正, explained ones wait for the township;
* `completeness` (信息录入率 = filled required fields ÷ required fields), whose required-field
  table is the one the "required field empty" rules are generated from.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from households import detail_tabs, identity, standards
from households.models import DataProblem, Household, HouseholdIncome, Member
from households.services import FEMALE_RELATIONS, HEAD, MALE_RELATIONS, SPOUSE
from povertyapp import jobs, roles
from povertyapp.crypto import blind_index
from povertyapp.models import Job, Region

JOB_KIND = "data_quality"


class RuleMessage(str):
    """A rule's message: its text in the language of the check, which the job stores, and its
    msgid with the parameters, which `DataProblem.message_source` keeps so that the problem
    list shows it in the reader's language (issue 17). The source language is Chinese, so a
    parameter that is itself a label (a field's name) is stored as its msgid and translated
    again when shown."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any] | None = None) -> RuleMessage:
        text = gettext(msgid) % params if params is not None else gettext(msgid)
        message = super().__new__(cls, text)
        message.msgid = msgid
        message.params = dict(params or {})
        return message

    def __mod__(self, params: Any) -> RuleMessage:
        return RuleMessage(
            self.msgid,
            {
                key: value if isinstance(value, (int, float)) else str(value)
                for key, value in params.items()
            },
        )

    @property
    def source(self) -> dict[str, Any]:
        return {"msgid": self.msgid, "params": self.params}


def _(msgid: str) -> RuleMessage:
    """gettext for this module: the message remembers its msgid (`makemessages` reads `_`)."""
    return RuleMessage(msgid)


def message_source(message: str) -> dict[str, Any]:
    """What `DataProblem.message_source` stores for a finding's message."""
    return message.source if isinstance(message, RuleMessage) else {}


NOT_STUDENT = {"", "非在校生"}
NO_LABOUR = {"丧失劳动力", "无劳动力"}
LABOURER = {"普通劳动力", "技能劳动力"}
NOT_WORKING = {"", "无"}
HIGH_EDUCATION = {"高中", "大专及以上"}
MAX_PER_CAPITA_INCOME = Decimal("100000")
MAX_LAND_PER_PERSON = Decimal("50")
REQUIRED_MEASURES = 4
WORKING_AGE = (16, 60)


@dataclass
class Context:
    """Everything the rules look at for one household, loaded once."""

    household: Household
    members: list[Member]  # active members
    today: datetime.date
    income: HouseholdIncome | None  # the latest year's
    has_helper: bool | None  # None: no app registered who has a helper
    measures: int | None  # None: no app registered the measures
    line_for: Callable[[int, str, Region], Decimal | None]
    duplicates: set[str] = field(default_factory=set)

    @property
    def registered(self) -> bool:
        return self.household.is_registered

    @property
    def persons(self) -> int:
        return len(standards.living_members(self.members))

    def age(self, member: Member) -> int:
        return member.age_on(self.today)


@dataclass(frozen=True)
class Requirement:
    """A field that must be filled, and when (DOMAIN §3's first list)."""

    field: str
    label: Any
    applies: Callable[[Context, Any], bool]


def _always(context: Context, subject: Any) -> bool:
    return True


def _registered(context: Context, subject: Any) -> bool:
    return context.registered


HOUSEHOLD_REQUIRED = (
    Requirement("main_cause", gettext_lazy("主要致贫原因"), _registered),
    Requirement("poverty_attribute", gettext_lazy("贫困户属性"), _registered),
    Requirement("road_type", gettext_lazy("入户路类型"), _always),
    Requirement("housing_area", gettext_lazy("住房面积"), _always),
    Requirement("house_grade", gettext_lazy("危房等级"), _always),
    Requirement("water_safe", gettext_lazy("饮水是否安全"), _always),
    Requirement("water_difficult", gettext_lazy("饮水是否困难"), _always),
    Requirement("fuel_type", gettext_lazy("主要燃料类型"), _always),
    Requirement("has_sanitary_toilet", gettext_lazy("有无卫生厕所"), _always),
)
# The member fields required only at some ages: the first and the last age (households.completeness
# keeps the members' sums until the next of these bounds; the rates job counts them in SQL).
MEMBER_AGE_RANGES: dict[str, tuple[int, int]] = {
    "school_status": (6, 23),
    "labour_skill": (16, 65),
}


def _aged(name: str) -> Callable[[Context, Any], bool]:
    low, high = MEMBER_AGE_RANGES[name]
    return lambda context, member: low <= context.age(member) <= high


MEMBER_REQUIRED = (
    Requirement("ethnicity", gettext_lazy("民族"), _always),
    Requirement(
        "education", gettext_lazy("文化程度"), lambda c, m: (m.school_status or "") in NOT_STUDENT
    ),
    Requirement("school_status", gettext_lazy("在校生状况"), _aged("school_status")),
    Requirement("health", gettext_lazy("健康状况"), _always),
    Requirement("labour_skill", gettext_lazy("劳动技能"), _aged("labour_skill")),
)


def _empty(value: Any) -> bool:
    return value is None or value == ""


@dataclass(frozen=True)
class Rule:
    code: str
    label: Any
    target: str  # "household" or "member"
    field: str
    check: Callable[..., str | None]


HOUSEHOLD = "household"
MEMBER = "member"


def _required_rule(requirement: Requirement, target: str) -> Rule:
    def check(context: Context, subject: Any = None) -> str | None:
        record = subject if target == MEMBER else context.household
        if requirement.applies(context, record) and _empty(getattr(record, requirement.field)):
            return _("%(field)s未填写") % {"field": requirement.label}
        return None

    return Rule(
        f"required_{requirement.field}",
        gettext_lazy("必填项为空"),
        target,
        requirement.field,
        check,
    )


# --- household rules ------------------------------------------------------------------------


def _no_members(c: Context) -> str | None:
    return _("该户没有在户成员") if not c.members else None


def _no_head(c: Context) -> str | None:
    if c.members and not any(m.relation == HEAD for m in c.members):
        return _("该户没有户主")
    return None


def _cause_illness(c: Context) -> str | None:
    if (
        c.registered
        and c.members
        and c.household.main_cause == "因病"
        and all(m.health_conditions == ["健康"] for m in c.members)
    ):
        return _("主要致贫原因为因病，但成员健康状况均为健康")
    return None


def _cause_study(c: Context) -> str | None:
    if (
        c.registered
        and c.members
        and c.household.main_cause == "因学"
        and all((m.school_status or "") in NOT_STUDENT for m in c.members)
    ):
        return _("主要致贫原因为因学，但没有在校生")
    return None


def _cause_disability(c: Context) -> str | None:
    if (
        c.registered
        and c.members
        and c.household.main_cause == "因残"
        and not any("残疾" in m.health_conditions for m in c.members)
    ):
        return _("主要致贫原因为因残，但没有残疾成员")
    return None


def _other_cause_repeats(c: Context) -> str | None:
    if c.household.main_cause and c.household.main_cause in c.household.other_causes:
        return _("其他致贫原因与主要致贫原因重复（%(cause)s）") % {"cause": c.household.main_cause}
    return None


def _dibao_without_recipient(c: Context) -> str | None:
    if (
        c.registered
        and c.household.poverty_attribute == "低保贫困户"
        and not any(m.receives_dibao for m in c.members)
    ):
        return _("低保贫困户中没有享受低保的成员")
    return None


def _tekun_with_labourer(c: Context) -> str | None:
    if c.registered and c.household.poverty_attribute == "特困供养贫困户":
        workers = [
            m.name
            for m in c.members
            if WORKING_AGE[0] <= c.age(m) <= WORKING_AGE[1] and m.labour_skill in LABOURER
        ]
        if workers:
            return _("特困供养贫困户中有劳动年龄内的劳动力：%(names)s") % {
                "names": "、".join(workers)
            }
    return None


def _dibao_money_zero(c: Context) -> str | None:
    if (
        c.registered
        and c.household.poverty_attribute == "低保贫困户"
        and c.income is not None
        and c.income.dibao == 0
    ):
        return _("低保贫困户%(year)s年低保金为0") % {"year": c.income.year}
    return None


def _wage_without_worker(c: Context) -> str | None:
    if (
        c.income is not None
        and c.income.wage > 0
        and not any((m.work_status or "") not in NOT_WORKING for m in c.members)
    ):
        return _("%(year)s年有工资性收入%(amount)s元，但没有务工成员") % {
            "year": c.income.year,
            "amount": c.income.wage,
        }
    return None


def _head_spouse_same_sex(c: Context) -> str | None:
    heads = [m for m in c.members if m.relation == HEAD]
    spouses = [m for m in c.members if m.relation == SPOUSE]
    if heads and spouses and heads[0].sex == spouses[0].sex:
        return _("户主与配偶性别相同")
    return None


def _per_capita_income(c: Context) -> str | None:
    if c.income is None or not c.registered:
        return None
    figure = standards.per_capita_net(c.income, persons=c.persons)
    if figure is None:
        return None
    if figure <= 0:
        return _("%(year)s年人均纯收入为%(figure)s元（≤0）") % {
            "year": c.income.year,
            "figure": figure,
        }
    if figure > MAX_PER_CAPITA_INCOME:
        return _("%(year)s年人均纯收入为%(figure)s元（超过10万元）") % {
            "year": c.income.year,
            "figure": figure,
        }
    return None


def _production_without_cost(c: Context) -> str | None:
    if c.income is not None and c.income.production > 0 and c.income.production_cost == 0:
        return _("%(year)s年有生产经营性收入但生产经营性支出为0") % {"year": c.income.year}
    return None


def _land_per_person(c: Context) -> str | None:
    persons = len(c.members)
    if persons and c.household.cultivated_land / persons > MAX_LAND_PER_PERSON:
        return _("人均耕地%(land)s亩，超过50亩") % {
            "land": (c.household.cultivated_land / persons).quantize(Decimal("0.01"))
        }
    return None


def _no_helper(c: Context) -> str | None:
    if c.household.is_poor and c.has_helper is False:
        return _("没有帮扶责任人")
    return None


def _too_few_measures(c: Context) -> str | None:
    if c.household.is_poor and c.measures is not None and c.measures < REQUIRED_MEASURES:
        return _("帮扶措施%(count)d项，少于%(required)d项") % {
            "count": c.measures,
            "required": REQUIRED_MEASURES,
        }
    return None


def _exited_fails_exit_test(c: Context) -> str | None:
    household = c.household
    if household.status != Household.Status.EXITED or not c.members:
        return None
    problems = [
        f"{check.label}：{check.reason}"
        for check in standards.evaluate_two_assurances(household, c.members, on=c.today)
        if check.met is False
    ]
    if c.income is not None:
        line = c.line_for(c.income.year, household.identification_standard, household.village)
        figure = standards.per_capita_net(c.income, persons=c.persons)
        if line is not None and figure is not None and figure <= line:
            problems.append(
                _("人均纯收入%(figure)s元未超过%(year)s年标准%(line)s元")
                % {"figure": figure, "year": c.income.year, "line": line}
            )
    if problems:
        return _("已脱贫户不符合退出标准：%(items)s") % {"items": "；".join(problems)}
    return None


# --- member rules ---------------------------------------------------------------------------


def _id_invalid(c: Context, m: Member) -> str | None:
    if m.id_type != identity.RESIDENT_ID:
        return None
    if not m.id_number:
        return _("身份证号码未填写")
    try:
        identity.check_id_number(m.id_number, today=c.today)
    except Exception as error:  # ValidationError: its message is the finding
        return _("身份证号码有误：%(error)s") % {"error": "；".join(getattr(error, "messages", []))}
    return None


def _id_disagrees(c: Context, m: Member) -> str | None:
    if m.id_type != identity.RESIDENT_ID or not m.id_number:
        return None
    try:
        facts = identity.check_id_number(m.id_number, today=c.today)
    except Exception:
        return None  # reported by _id_invalid
    wrong = []
    if facts.birth_date != m.birth_date:
        wrong.append(_("出生日期"))
    if facts.sex != m.sex:
        wrong.append(_("性别"))
    if wrong:
        return _("%(fields)s与身份证号码不一致") % {"fields": "、".join(wrong)}
    return None


def _active_twice(c: Context, m: Member) -> str | None:
    if m.id_number and m.id_number in c.duplicates:
        return _("同一身份证号码在两户中均为在户成员")
    return None


def _work_months(c: Context, m: Member) -> str | None:
    if not 0 <= (m.work_months or 0) <= 12:
        return _("务工时间%(months)s个月，超出0–12") % {"months": m.work_months}
    return None


def _no_labour_working(c: Context, m: Member) -> str | None:
    if m.labour_skill in NO_LABOUR and (m.work_status or "") not in NOT_WORKING:
        return _("劳动技能为%(skill)s，但务工状况为%(work)s") % {
            "skill": m.labour_skill,
            "work": m.work_status,
        }
    return None


def _child_high_education(c: Context, m: Member) -> str | None:
    if c.age(m) <= 14 and m.education in HIGH_EDUCATION:
        return _("%(age)d岁，文化程度为%(education)s") % {"age": c.age(m), "education": m.education}
    return None


def _relation_sex(c: Context, m: Member) -> str | None:
    if (m.relation in MALE_RELATIONS and m.sex != Member.Sex.MALE) or (
        m.relation in FEMALE_RELATIONS and m.sex != Member.Sex.FEMALE
    ):
        return _("与户主关系“%(relation)s”与性别“%(sex)s”不符") % {
            "relation": m.relation,
            "sex": m.sex,
        }
    return None


RULES: tuple[Rule, ...] = (
    *(_required_rule(requirement, HOUSEHOLD) for requirement in HOUSEHOLD_REQUIRED),
    *(_required_rule(requirement, MEMBER) for requirement in MEMBER_REQUIRED),
    Rule("no_members", gettext_lazy("无在户成员"), HOUSEHOLD, "members", _no_members),
    Rule("no_head", gettext_lazy("无户主"), HOUSEHOLD, "members", _no_head),
    Rule("id_invalid", gettext_lazy("身份证号码校验错误"), MEMBER, "id_number", _id_invalid),
    Rule(
        "id_disagrees",
        gettext_lazy("出生日期或性别与身份证不符"),
        MEMBER,
        "birth_date",
        _id_disagrees,
    ),
    Rule("active_twice", gettext_lazy("一人多户"), MEMBER, "id_number", _active_twice),
    Rule(
        "cause_illness", gettext_lazy("因病致贫但全员健康"), HOUSEHOLD, "main_cause", _cause_illness
    ),
    Rule("cause_study", gettext_lazy("因学致贫但无在校生"), HOUSEHOLD, "main_cause", _cause_study),
    Rule(
        "cause_disability",
        gettext_lazy("因残致贫但无残疾成员"),
        HOUSEHOLD,
        "main_cause",
        _cause_disability,
    ),
    Rule(
        "other_cause_repeats",
        gettext_lazy("其他致贫原因重复"),
        HOUSEHOLD,
        "other_cause_1",
        _other_cause_repeats,
    ),
    Rule(
        "dibao_without_recipient",
        gettext_lazy("低保户无低保成员"),
        HOUSEHOLD,
        "poverty_attribute",
        _dibao_without_recipient,
    ),
    Rule(
        "tekun_with_labourer",
        gettext_lazy("特困供养户有劳动力"),
        HOUSEHOLD,
        "poverty_attribute",
        _tekun_with_labourer,
    ),
    Rule(
        "dibao_money_zero",
        gettext_lazy("低保户低保金为0"),
        HOUSEHOLD,
        "income.dibao",
        _dibao_money_zero,
    ),
    Rule("work_months", gettext_lazy("务工时间超出范围"), MEMBER, "work_months", _work_months),
    Rule(
        "no_labour_working",
        gettext_lazy("无劳动能力却外出务工"),
        MEMBER,
        "work_status",
        _no_labour_working,
    ),
    Rule(
        "wage_without_worker",
        gettext_lazy("有工资性收入但无务工人员"),
        HOUSEHOLD,
        "income.wage",
        _wage_without_worker,
    ),
    Rule(
        "child_high_education",
        gettext_lazy("14岁及以下文化程度为高中及以上"),
        MEMBER,
        "education",
        _child_high_education,
    ),
    Rule("relation_sex", gettext_lazy("与户主关系与性别矛盾"), MEMBER, "relation", _relation_sex),
    Rule(
        "head_spouse_same_sex",
        gettext_lazy("户主与配偶同性别"),
        HOUSEHOLD,
        "members",
        _head_spouse_same_sex,
    ),
    Rule(
        "per_capita_income", gettext_lazy("人均纯收入异常"), HOUSEHOLD, "income", _per_capita_income
    ),
    Rule(
        "production_without_cost",
        gettext_lazy("有生产经营收入无生产经营支出"),
        HOUSEHOLD,
        "income.production_cost",
        _production_without_cost,
    ),
    Rule(
        "land_per_person",
        gettext_lazy("人均耕地超过50亩"),
        HOUSEHOLD,
        "cultivated_land",
        _land_per_person,
    ),
    Rule("no_helper", gettext_lazy("无帮扶责任人"), HOUSEHOLD, "pairings", _no_helper),
    Rule(
        "too_few_measures", gettext_lazy("帮扶措施不足"), HOUSEHOLD, "measures", _too_few_measures
    ),
    Rule(
        "exited_fails_exit_test",
        gettext_lazy("已脱贫户不符合退出标准"),
        HOUSEHOLD,
        "status",
        _exited_fails_exit_test,
    ),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}


def field_label(rule_code: str, field: str) -> str:
    """What a problem's field is called on a page, in the reader's language: the verbose name
    of the household's or the member's field (the rule's target), or of the year's income
    (`income.production_cost` → 生产经营性支出), the related records' name for a relation
    (`members` → 家庭成员); the stored path only for a field no model has any more."""
    rule = RULES_BY_CODE.get(rule_code)
    model: Any = Member if rule is not None and rule.target == MEMBER else Household
    name = field
    if field == "income":  # the year's income as a whole
        return str(HouseholdIncome._meta.verbose_name)
    if field.startswith("income."):
        model, name = HouseholdIncome, field.removeprefix("income.")
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return field
    if found.auto_created and not found.concrete:  # a reverse relation: the records' name
        return str(found.related_model._meta.verbose_name_plural)
    return str(found.verbose_name)


@dataclass(frozen=True)
class Finding:
    rule: str
    label: str
    field: str
    message: str
    member_id: int | None = None
    member_name: str = ""

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.member_id or 0, self.rule, self.field)


def evaluate(context: Context) -> list[Finding]:
    """Run every rule on one household (removed households are not checked)."""
    if context.household.status == Household.Status.REMOVED:
        return []
    findings = []
    for rule in RULES:
        if rule.target == HOUSEHOLD:
            message = rule.check(context)
            if message:
                findings.append(Finding(rule.code, str(rule.label), rule.field, message))
        else:
            for member in context.members:
                message = rule.check(context, member)
                if message:
                    findings.append(
                        Finding(
                            rule.code, str(rule.label), rule.field, message, member.pk, member.name
                        )
                    )
    return findings


def completeness(context: Context) -> tuple[int, int]:
    """(filled, required) fields of the household and its members: 信息录入率's terms."""
    filled = required = 0
    for requirement in HOUSEHOLD_REQUIRED:
        if requirement.applies(context, context.household):
            required += 1
            filled += not _empty(getattr(context.household, requirement.field))
    for member in context.members:
        for requirement in MEMBER_REQUIRED:
            if requirement.applies(context, member):
                required += 1
                filled += not _empty(getattr(member, requirement.field))
    return filled, required


def rate(filled: int, required: int) -> Decimal:
    """信息录入率 in percent, to one decimal (100 when nothing is required)."""
    if not required:
        return Decimal("100.0")
    return (Decimal(filled) * 100 / Decimal(required)).quantize(Decimal("0.1"))


# --- loading ------------------------------------------------------------------------------


# What other apps know about a household that the rules read: who has a helper (帮扶责任人,
# an open pairing) and how many effective measures it has. `assistance` owns both and registers
# them from its `AppConfig.ready()`; the registry imports no app above it. Each takes the ids of
# a batch of households and answers in one query.
HelpedHouseholds = Callable[[list[int]], set[int]]
MeasureCounts = Callable[[list[int]], dict[int, int]]
_helped_households: HelpedHouseholds | None = None
_measure_counts: MeasureCounts | None = None


# The household page reads both with the household (`detail_tabs.page_reads`), when the app
# gives them as expressions over the household's row too.
HELPED_READ = "quality_has_helper"
MEASURES_READ = "quality_measures"


def register_helped_households(
    lookup: HelpedHouseholds, *, condition: Callable[[], Any] | None = None
) -> None:
    """`lookup(household_ids)`: the ones with a current helper. Until one is registered, the
    rule 无帮扶责任人 is not checked (`Context.has_helper` is None). `condition()`: the same
    as a boolean expression over `OuterRef("pk")`, which the household page reads with the
    household."""
    global _helped_households
    _helped_households = lookup
    if condition is not None:
        detail_tabs.register_page_reads("quality.helped", lambda: {HELPED_READ: condition()})


def register_measure_counts(
    counts: MeasureCounts, *, count: Callable[[], Any] | None = None
) -> None:
    """`counts(household_ids)`: effective measures per household, every id a key. Until one is
    registered, the rule 帮扶措施不足 is not checked (`Context.measures` is None). `count()`:
    the same as an integer expression over `OuterRef("pk")`, read with the household page."""
    global _measure_counts
    _measure_counts = counts
    if count is not None:
        detail_tabs.register_page_reads("quality.measures", lambda: {MEASURES_READ: count()})


class _Lines:
    """Poverty lines cached per (year, standard, region) for a run."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, str, int], Decimal | None] = {}

    @staticmethod
    def _key(year: int, standard: str, region: Region) -> tuple[int, str, int]:
        return (year, standard, region.pk if standard != "国家标准" else 0)

    def know(self, year: int, standard: str, region: Region, amount: Decimal | None) -> None:
        """A line already read (the household page reads each income year's with the incomes:
        `standards.poverty_line_expression`)."""
        self.cache[self._key(year, standard, region)] = amount

    def __call__(self, year: int, standard: str, region: Region) -> Decimal | None:
        key = self._key(year, standard, region)
        if key not in self.cache:
            try:
                self.cache[key] = standards.poverty_line(
                    year=year, standard=standard, region=region
                )
            except standards.PovertyLineMissing:
                self.cache[key] = None
        return self.cache[key]


def _related_facts(
    household_ids: list[int], members: Iterable[Member], *, page: Household | None = None
) -> tuple[set[int] | None, dict[int, int] | None, set[str]]:
    """What the rules need beyond the households and their members, in at most three queries:
    the households with a helper (an open pairing), their effective measures (both None when
    no app registered them), and which of the members' ID numbers are active members of more
    than one household. `page`: the one household, as the household page loaded it: what it
    read with it (`HELPED_READ`, `MEASURES_READ`, and each member's `id_elsewhere`) is not
    queried again, so the page's check runs none."""
    helped = (
        None
        if _helped_households is None
        else _helped_read(_helped_households, household_ids, page)
    )
    measures = (
        None if _measure_counts is None else _measures_read(_measure_counts, household_ids, page)
    )
    members = list(members)
    if members and all(hasattr(m, "id_elsewhere") for m in members):
        # Loaded with the answer (`selectors.household_page_get_for_user`: an EXISTS per
        # member in the members' own query): no query here.
        return (
            helped,
            measures,
            {m.id_number for m in members if m.id_number and getattr(m, "id_elsewhere", False)},
        )
    # The ID numbers are encrypted: they are matched by their blind index.
    by_index = {blind_index(m.id_number): m.id_number for m in members if m.id_number}
    # (index, household) pairs counted here: a GROUP BY ... HAVING costs more to build than
    # the few rows it would spare.
    pairs = (
        Member.objects.filter(is_active=True, id_number_index__in=by_index)
        .order_by()  # the default ordering joins the household
        .values_list("id_number_index", "household_id")
        .distinct()
        if by_index
        else []
    )
    holders = Counter(index for index, _household in pairs)
    return (
        helped,
        measures,
        {by_index[index] for index, households in holders.items() if households > 1},
    )


def _helped_read(
    lookup: HelpedHouseholds, household_ids: list[int], page: Household | None
) -> set[int]:
    if page is not None:
        read = detail_tabs.read_with_page(page, HELPED_READ)
        if read is not detail_tabs.MISSING:
            return {page.pk} if read else set()
    return lookup(household_ids)


def _measures_read(
    counts: MeasureCounts, household_ids: list[int], page: Household | None
) -> dict[int, int]:
    if page is not None:
        read = detail_tabs.read_with_page(page, MEASURES_READ)
        if read is not detail_tabs.MISSING:
            return {page.pk: read}
    return counts(household_ids)


def contexts_for(
    households: Iterable[Household],
    *,
    today: datetime.date | None = None,
    lines: _Lines | None = None,
) -> list[Context]:
    """Build the rule contexts of many households with a fixed number of queries."""
    today = today or timezone.localdate()
    lines = lines or _Lines()
    household_ids = [household.pk for household in households]
    loaded = list(
        Household.objects.filter(pk__in=household_ids)
        .select_related("village")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=Member.objects.filter(is_active=True).order_by("id"),
                to_attr="active_members",
            ),
            Prefetch(
                "incomes", queryset=HouseholdIncome.objects.order_by("-year"), to_attr="income_rows"
            ),
        )
        .order_by("number")
    )
    helped, measures, duplicates = _related_facts(
        household_ids, [m for h in loaded for m in h.active_members]
    )
    return [
        Context(
            household=household,
            members=household.active_members,
            today=today,
            income=household.income_rows[0] if household.income_rows else None,
            has_helper=None if helped is None else household.pk in helped,
            measures=None if measures is None else measures[household.pk],
            line_for=lines,
            duplicates=duplicates,
        )
        for household in loaded
    ]


def check_household(
    household: Household, *, members: Iterable[Member] | None = None
) -> tuple[list[Finding], Decimal]:
    """The warnings shown with a household on its page and after a save, and its 信息录入率.

    `members`: every member of the household (inactive ones included, any order), when the
    caller has just loaded them with the household (its `village` selected): the household
    page. Then neither is loaded again; without them both are read afresh (after a save)."""
    if members is None:
        (context,) = contexts_for([household])
    else:
        active = sorted((m for m in members if m.is_active), key=lambda m: m.pk)
        helped, measures, duplicates = _related_facts([household.pk], active, page=household)
        # The page's loader may have read the incomes (latest first) with the household.
        incomes = getattr(household, "income_rows", None)
        lines = _Lines()
        for income in incomes or ():
            if hasattr(income, "line_amount"):
                lines.know(
                    income.year,
                    household.identification_standard,
                    household.village,
                    income.line_amount,
                )
        context = Context(
            household=household,
            members=active,
            today=timezone.localdate(),
            income=(incomes[0] if incomes else None)
            if incomes is not None
            else household.incomes.order_by("-year").first(),
            has_helper=None if helped is None else household.pk in helped,
            measures=None if measures is None else measures[household.pk],
            line_for=lines,
            duplicates=duplicates,
        )
    return evaluate(context), rate(*completeness(context))


# --- the region job -----------------------------------------------------------------------

BATCH = 500


def _store(
    village: Region, households: list[Household], findings: dict[int, list[Finding]], now: Any
) -> dict[str, int]:
    """Reconcile the village's problem rows with what this run found."""
    household_ids = [household.pk for household in households]
    existing = {
        (row.household_id, row.subject, row.rule, row.field): row
        for row in DataProblem.objects.filter(household_id__in=household_ids)
    }
    new_rows, reopened, seen_rows = [], [], []
    found_keys = set()
    for household in households:
        for finding in findings.get(household.pk, []):
            key = (household.pk, *finding.key)
            found_keys.add(key)
            row = existing.get(key)
            if row is None:
                new_rows.append(
                    DataProblem(
                        village=village,
                        household_id=household.pk,
                        member_id=finding.member_id,
                        subject=finding.member_id or 0,
                        rule=finding.rule,
                        field=finding.field,
                        message=finding.message[:255],
                        message_source=message_source(finding.message),
                        first_seen=now,
                        last_seen=now,
                    )
                )
            elif row.state == DataProblem.State.FIXED:
                row.state = DataProblem.State.OPEN
                row.first_seen = now
                row.last_seen = now
                row.fixed_at = None
                row.explanation = ""
                row.review_note = ""
                row.message = finding.message[:255]
                row.message_source = message_source(finding.message)
                row.village = village
                reopened.append(row)
            else:
                row.last_seen = now
                row.message = finding.message[:255]
                row.message_source = message_source(finding.message)
                row.village = village
                seen_rows.append(row)
    fixed = [
        row
        for key, row in existing.items()
        if key not in found_keys and row.state != DataProblem.State.FIXED
    ]
    for row in fixed:
        row.state = DataProblem.State.FIXED
        row.fixed_at = now
    with transaction.atomic():
        DataProblem.objects.bulk_create(new_rows, batch_size=1000)
        DataProblem.objects.bulk_update(
            reopened,
            [
                "state",
                "first_seen",
                "last_seen",
                "fixed_at",
                "explanation",
                "review_note",
                "message",
                "message_source",
                "village",
            ],
            batch_size=1000,
        )
        DataProblem.objects.bulk_update(
            seen_rows, ["last_seen", "message", "message_source", "village"], batch_size=1000
        )
        DataProblem.objects.bulk_update(fixed, ["state", "fixed_at"], batch_size=1000)
    return {"new": len(new_rows) + len(reopened), "fixed": len(fixed)}


def check_region(region: Region, progress: jobs.Progress | None = None) -> dict[str, Any]:
    """Check every household of a region subtree, village by village; returns the figures."""
    villages = list(
        Region.objects.filter(path__startswith=region.path, level=Region.Level.VILLAGE).order_by(
            "code"
        )
    )
    if progress is not None:
        progress.set_total(Household.objects.filter(village__path__startswith=region.path).count())
    today = timezone.localdate()
    now = timezone.now()
    lines = _Lines()
    result_villages = []
    totals = {"households": 0, "problems": 0, "new": 0, "fixed": 0, "filled": 0, "required": 0}
    for village in villages:
        ids = list(
            Household.objects.filter(village=village).order_by("pk").values_list("pk", flat=True)
        )
        filled = required = problems = new = fixed = 0
        for start in range(0, len(ids), BATCH):
            batch = [Household(pk=pk) for pk in ids[start : start + BATCH]]
            contexts = contexts_for(batch, today=today, lines=lines)
            findings = {}
            for context in contexts:
                found = evaluate(context)
                findings[context.household.pk] = found
                problems += len(found)
                f, r = completeness(context)
                filled += f
                required += r
            counts = _store(village, [c.household for c in contexts], findings, now)
            new += counts["new"]
            fixed += counts["fixed"]
            if progress is not None:
                progress.advance(len(batch))
        open_count = DataProblem.objects.filter(
            village=village, state__in=[DataProblem.State.OPEN, DataProblem.State.EXPLAINED]
        ).count()
        result_villages.append(
            {
                "code": village.code,
                "name": village.name,
                "households": len(ids),
                "problems": problems,
                "open": open_count,
                "new": new,
                "fixed": fixed,
                "completeness": str(rate(filled, required)),
                # Kept so that a county's (or township's) rate adds up its villages'.
                "filled": filled,
                "required": required,
            }
        )
        for key, value in (
            ("households", len(ids)),
            ("problems", problems),
            ("new", new),
            ("fixed", fixed),
            ("filled", filled),
            ("required", required),
        ):
            totals[key] += value
    return {
        "region": region.code,
        "region_name": region.name,
        "checked_at": now.isoformat(),
        "villages": result_villages,
        **totals,
        "completeness": str(rate(totals["filled"], totals["required"])),
    }


@jobs.register(JOB_KIND, gettext_lazy("问题数据检查"), may_start=roles.can_run_checks)
def data_quality_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    if job.region is None:
        raise jobs.JobFailed(_("请选择要检查的区划。"))
    if job.region.level == Region.Level.GROUP:
        raise jobs.JobFailed(_("请选择行政村或以上区划。"))
    return check_region(job.region, progress)


def latest_result(region: Region) -> Job | None:
    """The last finished check covering the region (its own or an ancestor's run)."""
    ancestors = [node.pk for node in region.ancestors(include_self=True)]
    return (
        Job.objects.filter(kind=JOB_KIND, status=Job.Status.SUCCEEDED, region__in=ancestors)
        .order_by("-finished_at")
        .first()
    )


# The digits of a region code that name it, by level: 52 (province), 5226 (city), 522622
# (county), 522622101 (township), 522622101200 (village).
CODE_DIGITS: dict[str, int] = {
    Region.Level.PROVINCE: 2,
    Region.Level.CITY: 4,
    Region.Level.COUNTY: 6,
    Region.Level.TOWNSHIP: 9,
    Region.Level.VILLAGE: 12,
}
SUMMED = ("households", "problems", "new", "fixed")


def summary_rows(result: dict[str, Any], region: Region) -> tuple[str, list[dict[str, Any]]]:
    """A check's summary table for `region` and the level of its rows: the villages of the
    region at the county and below, its counties above (a province has 26,000 villages, more
    than a page can list: issue 19), their figures added up from the villages'. A rate is
    only added up from results that kept each village's counts (checks since issue 19)."""
    digits = CODE_DIGITS.get(region.level, 12)
    prefix = region.code[:digits]
    rows = [row for row in result.get("villages", []) if str(row["code"]).startswith(prefix)]
    if region.level not in (Region.Level.PROVINCE, Region.Level.CITY):
        return Region.Level.VILLAGE, rows
    by_county: dict[str, dict[str, Any]] = {}
    for row in rows:
        county = by_county.setdefault(
            str(row["code"])[:6], dict.fromkeys((*SUMMED, "filled", "required"), 0)
        )
        for key in SUMMED:
            county[key] += row.get(key, 0)
        if "filled" in row and county["required"] is not None:
            county["filled"] += row["filled"]
            county["required"] += row["required"]
        else:
            county["required"] = None  # an older result: no rate to add up
    names = dict(
        Region.objects.filter(
            level=Region.Level.COUNTY, code__in=[f"{key}000000" for key in by_county]
        ).values_list("code", "name")
    )
    summary = []
    for key in sorted(by_county):
        county = by_county[key]
        summary.append(
            {
                "code": f"{key}000000",
                "name": names.get(f"{key}000000", key),
                **{name: county[name] for name in SUMMED},
                "completeness": None
                if county["required"] is None
                else str(rate(county["filled"], county["required"])),
            }
        )
    return Region.Level.COUNTY, summary


def open_problem_counts(village_ids: list[int]) -> dict[int, int]:
    rows = (
        DataProblem.objects.filter(
            village_id__in=village_ids,
            state__in=[DataProblem.State.OPEN, DataProblem.State.EXPLAINED],
        )
        .values("village_id")
        .annotate(n=Count("id"))
    )
    return {row["village_id"]: row["n"] for row in rows}


# The quality page's villages carry their open problems: "凤场村（12）" (the page and the
# region cascade's options endpoint: povertyapp.regions.register_village_labels).
VILLAGE_LABELS = "quality"


def village_labels(villages: list[tuple[int, str]]) -> list[tuple[int, str]]:
    counts = open_problem_counts([pk for pk, _name in villages])
    opening, closing = gettext("（"), gettext("）")
    return [
        (pk, f"{name}{opening}{counts[pk]}{closing}" if pk in counts else name)
        for pk, name in villages
    ]


# --- reads ------------------------------------------------------------------------------------

# One entry per rule code for the filter (the required-field rules carry the field's name).
RULES_UNIQUE = [
    (
        rule.code,
        format_lazy(gettext_lazy("{rule}：{field}"), rule=rule.label, field=req.label)
        if req is not None and rule.code.startswith("required_")
        else rule.label,
    )
    for rule, req in zip(
        RULES,
        [
            *HOUSEHOLD_REQUIRED,
            *MEMBER_REQUIRED,
            *([None] * (len(RULES) - len(HOUSEHOLD_REQUIRED) - len(MEMBER_REQUIRED))),
        ],
        strict=True,
    )
]


def problem_list(user: Any) -> Any:
    """The problems a user may see (the households' scope), oldest first per village."""
    from povertyapp import roles

    return (
        DataProblem.objects.filter(roles.household_scope_q(user))
        .select_related("village", "household", "member", "explained_by", "reviewed_by")
        .order_by("village__code", "first_seen", "household__number", "id")
    )


def open_problem_counts_by_rule(user: Any, *, limit: int = 8) -> list[tuple[str, int]]:
    """The rules with the most 待处理 (open) problems in the user's scope, most first: (rule
    code, count), the same count the list filtered by that rule and state shows. The scoped
    list is ordered, and an ordered queryset groups by its ordering columns too (one row per
    problem, each counted 1): the ordering is cleared before grouping."""
    rows = (
        problem_list(user)
        .filter(state=DataProblem.State.OPEN)
        .order_by()
        .values_list("rule")
        .annotate(n=Count("id"))
    )
    return sorted(rows, key=lambda row: (-row[1], row[0]))[:limit]


def problem_get_for_user(user: Any, problem_id: int) -> DataProblem:
    from django.http import Http404

    problem = problem_list(user).filter(pk=problem_id).first()
    if problem is None:
        raise Http404(_("未找到该问题，或您无权查看。"))
    return problem
