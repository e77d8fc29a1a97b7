"""The matching rules of DOMAIN §6, evaluated: the one module that owns them.

A `MatchingRule` row says who qualifies (a condition over the household or each member) and
what answers it (effective measures of some categories, or an enrolment/benefit flag). The
rows are data; this module gives them their meaning in two equivalent forms:

- ORM expressions (`condition_q`, `fulfilled_q`, `received_q`, `gap_expression`) for
  `coverage_rows` (the demo, small regions);
- SQL over facts gathered once per row (`_FactsSql`) for the coverage job (`coverage_insert`:
  one INSERT … SELECT per level over a whole region, nothing pulled into Python) — at 100k
  households one correlated EXISTS per rule was 4.75× a hand-written query, this is 1.33× — and
  for one household's assessment (`assess_household`, through `_facts_flags`: one plain
  statement per level, where building the ORM form cost more than the rest of the household
  page on every request).

`tests/assistance/test_coverage.py` checks that the two forms give identical gaps, and
`tests/assistance/test_matching.py` that `_facts_flags` and the ORM form (`_flags`) give the
same truth values for one household.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from assistance.models import AssistanceStandard, MatchingRule, Measure
from households.models import Household, Member
from households.selectors import province_of
from households.standards import years_before

WORKER_SKILLS = ("普通劳动力", "技能劳动力")
NOT_STUDENT = ("", "非在校生")
WORKING_AGE = (16, 60)
LIVING = "正常"
# Households the rules apply to: registered and not exited without policy.
COVERED_STATUSES = (Household.Status.POOR, Household.Status.RETURNED, Household.Status.EXITED)
MISSING = "missing"
WRONGFUL = "wrongful"


def covered_households(queryset: QuerySet[Household]) -> QuerySet[Household]:
    """Registered households still enjoying policies (exited ones with 不再享受政策 excluded)."""
    return queryset.filter(status__in=COVERED_STATUSES).exclude(
        exit_policy=Household.ExitPolicy.NO_LONGER
    )


def rules_for(year: int) -> list[MatchingRule]:
    return list(
        MatchingRule.objects.filter(is_active=True, year_from__lte=year)
        .filter(Q(year_to__isnull=True) | Q(year_to__gte=year))
        .order_by("position", "code")
    )


def standard_for(*, year: int, village: Any = None) -> AssistanceStandard:
    """The thresholds valid in a year (the province's own first, else the national ones)."""
    province = province_of(village) if village is not None else None
    candidates = (
        AssistanceStandard.objects.filter(year_from__lte=year)
        .filter(Q(province__isnull=True) | Q(province=province))
        .order_by("-year_from")
    )
    chosen = None
    for standard in candidates:
        if standard.province_id is not None:
            return standard
        chosen = chosen or standard
    return chosen or AssistanceStandard(year_from=year)


# --- conditions and fulfilment as ORM expressions -------------------------------------------


def _age_q(prefix: str, on: datetime.date, minimum: int | None, maximum: int | None) -> Q:
    condition = Q()
    if minimum is not None:
        condition &= Q(**{f"{prefix}birth_date__lte": years_before(on, minimum)})
    if maximum is not None:
        condition &= Q(**{f"{prefix}birth_date__gt": years_before(on, maximum + 1)})
    return condition


def _living_members(household_ref: Any) -> QuerySet[Member]:
    return Member.objects.filter(household=household_ref, is_active=True, living_status=LIVING)


def _effective_measures(**lookups: Any) -> QuerySet[Measure]:
    return Measure.objects.filter(**lookups).exclude(status=Measure.Status.CANCELLED)


def condition_q(rule: MatchingRule, *, on: datetime.date) -> Q | None:
    """Who qualifies, over Household (household rules) or Member (member rules). None: all."""
    values = rule.value_list
    kind = MatchingRule.Condition
    if rule.level == MatchingRule.Level.HOUSEHOLD:
        if rule.condition == kind.CAUSE:
            condition = (
                Q(main_cause__in=values) | Q(other_cause_1__in=values) | Q(other_cause_2__in=values)
            )
        elif rule.condition == kind.HOUSE_GRADE:
            condition = Q(house_grade__in=values)
        elif rule.condition == kind.WATER_UNSAFE:
            condition = Q(water_safe=False) | Q(water_difficult=True)
        elif rule.condition == kind.NO_LABOUR:
            condition = ~Q(
                Exists(_living_members(OuterRef("pk")).filter(labour_skill__in=WORKER_SKILLS))
            )
        elif rule.condition == kind.ATTRIBUTE:
            condition = Q(poverty_attribute__in=values)
        else:
            raise ValueError(f"{rule.condition} is not a household condition")
        if rule.needs_working_age_labour:
            condition &= Q(
                Exists(
                    _living_members(OuterRef("pk")).filter(
                        _age_q("", on, *WORKING_AGE), labour_skill__in=WORKER_SKILLS
                    )
                )
            )
        return condition
    if rule.condition == kind.HEALTH:
        condition = reduce(or_, [Q(health__contains=value) for value in values])
    elif rule.condition == kind.SCHOOL:
        condition = Q(school_status__in=values)
    elif rule.condition == kind.EVERYONE:
        condition = Q()
    else:
        raise ValueError(f"{rule.condition} is not a member condition")
    condition &= _age_q("", on, rule.min_age, rule.max_age)
    if rule.exclude_students:
        condition &= Q(school_status__in=NOT_STUDENT)
    return condition if condition else None


def fulfilled_q(rule: MatchingRule) -> Q:
    """What answers the rule: an effective measure of a listed category, or a listed flag."""
    parts: list[Q] = []
    categories = rule.category_list
    flag = MatchingRule.Flag
    if rule.level == MatchingRule.Level.MEMBER:
        if categories:
            parts.append(
                Q(Exists(_effective_measures(member=OuterRef("pk"), category__in=categories)))
            )
        for name in rule.flag_list:
            if name == flag.DISABILITY_CERTIFICATE:
                parts.append(~Q(disability_certificate=""))
            else:
                parts.append(Q(**{name: True}))
    else:
        if categories:
            parts.append(
                Q(Exists(_effective_measures(household=OuterRef("pk"), category__in=categories)))
            )
        for name in rule.flag_list:
            if name == flag.ANY_DIBAO:
                parts.append(Q(Exists(_living_members(OuterRef("pk")).filter(receives_dibao=True))))
            elif name == flag.ANY_TEKUN:
                parts.append(Q(Exists(_living_members(OuterRef("pk")).filter(is_tekun=True))))
            else:
                parts.append(Q(**{name: True}))
    return reduce(or_, parts)


def received_q(rule: MatchingRule) -> Q:
    """What counts as receiving the benefit when judging 违规享受: the rule's measures when it
    has categories (a renovated or relocated house is not "receiving" a 危房改造 measure),
    else its flags (低保, 特困)."""
    if rule.category_list:
        relation = "member" if rule.level == MatchingRule.Level.MEMBER else "household"
        return Q(
            Exists(
                _effective_measures(
                    **{relation: OuterRef("pk"), "category__in": rule.category_list}
                )
            )
        )
    return fulfilled_q(rule)


def gap_expression(rule: MatchingRule, *, on: datetime.date) -> Case:
    """'missing' when the row qualifies and is not answered; 'wrongful' when it receives the
    benefit without qualifying (only for rules that check it); NULL otherwise."""
    condition = condition_q(rule, on=on)
    fulfilled = fulfilled_q(rule)
    whens = [
        When((condition & ~fulfilled) if condition is not None else ~fulfilled, then=Value(MISSING))
    ]
    if rule.check_wrongful and condition is not None:
        whens.append(When(~condition & received_q(rule), then=Value(WRONGFUL)))
    return Case(*whens, default=Value(None), output_field=CharField())


def _level_queryset(level: str, households: QuerySet[Household]) -> QuerySet[Any]:
    covered = covered_households(households)
    if level == MatchingRule.Level.HOUSEHOLD:
        return covered.model.objects.filter(pk__in=covered.values("pk")).annotate(
            v_household=F("pk"),
            v_village=F("village_id"),
            v_member=Value(None, output_field=IntegerField()),
        )
    return Member.objects.filter(
        household__in=covered.values("pk"), is_active=True, living_status=LIVING
    ).annotate(
        v_household=F("household_id"), v_village=F("household__village_id"), v_member=F("pk")
    )


def gap_queryset(
    level: str,
    households: QuerySet[Household],
    rules: Iterable[MatchingRule],
    *,
    on: datetime.date,
    only_gaps: bool = True,
) -> tuple[QuerySet[Any], list[MatchingRule]]:
    """One row per household (or member); one column g<rule id> per rule ('missing',
    'wrongful' or NULL). `only_gaps` keeps the rows with at least one gap — in SQL that repeats
    every rule expression in the WHERE clause, so the coverage job filters afterwards instead."""
    level_rules = [rule for rule in rules if rule.level == level]
    queryset = _level_queryset(level, households).order_by()
    if not level_rules:
        return queryset.none(), []
    columns = {f"g{rule.pk}": gap_expression(rule, on=on) for rule in level_rules}
    queryset = queryset.annotate(**columns)
    if only_gaps:
        queryset = queryset.filter(
            reduce(or_, [Q(**{f"{name}__isnull": False}) for name in columns])
        )
    return queryset.values("v_household", "v_village", "v_member", *columns), level_rules


@dataclass(frozen=True)
class Gap:
    household_id: int
    village_id: int
    member_id: int | None
    rule_id: int
    kind: str


def coverage_rows(
    households: QuerySet[Household], rules: Iterable[MatchingRule], *, on: datetime.date
) -> Iterator[Gap]:
    """Every gap of the households, as Python rows (for the demo and small regions)."""
    rules = list(rules)
    for level in MatchingRule.Level.values:
        queryset, level_rules = gap_queryset(level, households, rules, on=on)
        for row in queryset.iterator(chunk_size=5000):
            for rule in level_rules:
                kind = row[f"g{rule.pk}"]
                if kind:
                    member = row["v_member"] if level == MatchingRule.Level.MEMBER else None
                    yield Gap(row["v_household"], row["v_village"], member, rule.pk, kind)


def coverage_insert(
    *,
    run_id: int,
    households: QuerySet[Household],
    rules: Iterable[MatchingRule],
    on: datetime.date,
) -> None:
    """Write the gaps of a coverage run in the database: per level, one statement that
    evaluates every rule in a single pass over facts gathered once (each household's and
    member's measure categories aggregated into one string, the household's member facts
    aggregated once), materialised in a CTE and unpivoted into CoverageGap rows. Nothing
    passes through Python but the SQL.

    The rule semantics are those of `condition_q` / `fulfilled_q` / `received_q` (the ORM
    form used for one household and by `coverage_rows`), compiled here to SQL over the facts
    instead of one correlated EXISTS per rule; tests check that both forms agree."""
    from assistance.models import CoverageGap

    table = connection.ops.quote_name(CoverageGap._meta.db_table)
    rules = list(rules)
    covered_sql, covered_params = (
        covered_households(households).order_by().values("pk").query.sql_with_params()
    )
    for level in MatchingRule.Level.values:
        level_rules = [rule for rule in rules if rule.level == level]
        if not level_rules:
            continue
        compiler = _FactsSql(level=level, on=on)
        cases = [compiler.gap(rule) for rule in level_rules]
        facts_sql, facts_params = compiler.facts(covered_sql, list(covered_params))
        columns = ", ".join(
            f"{sql} AS g{rule.pk}" for rule, (sql, _p) in zip(level_rules, cases, strict=True)
        )
        params: list[Any] = [p for _sql, case_params in cases for p in case_params]
        params += facts_params
        member = "g.v_member" if level == MatchingRule.Level.MEMBER else "CAST(NULL AS BIGINT)"
        selects = [
            f"SELECT %s, g.v_village, g.v_household, {member}, %s, g.g{rule.pk} "
            f"FROM g WHERE g.g{rule.pk} IS NOT NULL"
            for rule in level_rules
        ]
        for rule in level_rules:
            params += [run_id, rule.pk]
        sql = (
            f"WITH g AS MATERIALIZED (SELECT f.v_household, f.v_village, f.v_member, {columns} "
            f"FROM ({facts_sql}) f) "
            f"INSERT INTO {table} (run_id, village_id, household_id, member_id, rule_id, kind) "
            + " UNION ALL ".join(selects)
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


class _FactsSql:
    """The rule vocabulary compiled to SQL over one row of facts `f` (PostgreSQL and SQLite)."""

    HOUSEHOLD_FLAGS = {
        "house_renovated": "f.house_renovated = TRUE",
        "relocated": "f.relocated = TRUE",
        "any_dibao": "f.any_dibao = 1",
        "any_tekun": "f.any_tekun = 1",
    }

    def __init__(self, *, level: str, on: datetime.date) -> None:
        self.level = level
        self.on = on
        self.agg = (
            "STRING_AGG(category, '|')"
            if connection.vendor == "postgresql"
            else "GROUP_CONCAT(category, '|')"
        )

    def facts(self, covered_sql: str, covered_params: list[Any]) -> tuple[str, list[Any]]:
        not_cancelled = f"status <> '{Measure.Status.CANCELLED}'"
        workers = "labour_skill IN ('普通劳动力', '技能劳动力')"
        if self.level == MatchingRule.Level.HOUSEHOLD:
            sql = (
                "SELECT h.id AS v_household, h.village_id AS v_village, NULL AS v_member, "
                "h.main_cause, h.other_cause_1, h.other_cause_2, h.house_grade, "
                "h.house_renovated, h.relocated, h.water_safe, h.water_difficult, "
                "h.poverty_attribute, COALESCE(mc.cats, '') AS cats, "
                "COALESCE(mf.any_worker, 0) AS any_worker, "
                "COALESCE(mf.working_worker, 0) AS working_worker, "
                "COALESCE(mf.any_dibao, 0) AS any_dibao, COALESCE(mf.any_tekun, 0) AS any_tekun "
                "FROM households_household h "
                f"LEFT JOIN (SELECT household_id, '|' || {self.agg} || '|' AS cats "
                f"FROM assistance_measure WHERE {not_cancelled} AND household_id IN "
                f"({covered_sql}) GROUP BY household_id) mc ON mc.household_id = h.id "
                "LEFT JOIN (SELECT household_id, "
                f"MAX(CASE WHEN {workers} THEN 1 ELSE 0 END) AS any_worker, "
                f"MAX(CASE WHEN {workers} AND birth_date <= %s AND birth_date > %s "
                "THEN 1 ELSE 0 END) AS working_worker, "
                "MAX(CASE WHEN receives_dibao = TRUE THEN 1 ELSE 0 END) AS any_dibao, "
                "MAX(CASE WHEN is_tekun = TRUE THEN 1 ELSE 0 END) AS any_tekun "
                f"FROM households_member WHERE is_active = TRUE AND living_status = '{LIVING}' "
                f"AND household_id IN ({covered_sql}) GROUP BY household_id) mf "
                "ON mf.household_id = h.id "
                f"WHERE h.id IN ({covered_sql})"
            )
            low, high = WORKING_AGE
            params = [
                *covered_params,
                years_before(self.on, low),
                years_before(self.on, high + 1),
                *covered_params,
                *covered_params,
            ]
            return sql, params
        sql = (
            "SELECT m.household_id AS v_household, h.village_id AS v_village, m.id AS v_member, "
            "m.health, m.school_status, m.birth_date, m.has_medical_insurance, "
            "m.has_critical_illness_insurance, m.has_pension_insurance, "
            "m.disability_certificate, m.receives_dibao, m.is_tekun, "
            "COALESCE(mc.cats, '') AS cats "
            "FROM households_member m JOIN households_household h ON h.id = m.household_id "
            f"LEFT JOIN (SELECT member_id, '|' || {self.agg} || '|' AS cats "
            f"FROM assistance_measure WHERE {not_cancelled} AND member_id IS NOT NULL "
            f"AND household_id IN ({covered_sql}) GROUP BY member_id) mc "
            "ON mc.member_id = m.id "
            f"WHERE m.is_active = TRUE AND m.living_status = '{LIVING}' "
            f"AND m.household_id IN ({covered_sql})"
        )
        return sql, [*covered_params, *covered_params]

    @staticmethod
    def _in(column: str, values: list[str]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)

    def condition(self, rule: MatchingRule) -> tuple[str | None, list[Any]]:
        values = rule.value_list
        kind = MatchingRule.Condition
        parts: list[str] = []
        params: list[Any] = []
        if rule.level == MatchingRule.Level.HOUSEHOLD:
            if rule.condition == kind.CAUSE:
                pieces = [
                    self._in(f"f.{c}", values)
                    for c in ("main_cause", "other_cause_1", "other_cause_2")
                ]
                parts.append("(" + " OR ".join(sql for sql, _p in pieces) + ")")
                params += [p for _sql, piece in pieces for p in piece]
            elif rule.condition == kind.HOUSE_GRADE:
                sql, piece = self._in("f.house_grade", values)
                parts.append(sql)
                params += piece
            elif rule.condition == kind.WATER_UNSAFE:
                parts.append("(f.water_safe = FALSE OR f.water_difficult = TRUE)")
            elif rule.condition == kind.NO_LABOUR:
                parts.append("f.any_worker = 0")
            elif rule.condition == kind.ATTRIBUTE:
                sql, piece = self._in("f.poverty_attribute", values)
                parts.append(sql)
                params += piece
            if rule.needs_working_age_labour:
                parts.append("f.working_worker = 1")
        else:
            if rule.condition == kind.HEALTH:
                parts.append("(" + " OR ".join(["f.health LIKE %s"] * len(values)) + ")")
                params += [f"%{value}%" for value in values]
            elif rule.condition == kind.SCHOOL:
                sql, piece = self._in("f.school_status", values)
                parts.append(sql)
                params += piece
            if rule.min_age is not None:
                parts.append("f.birth_date <= %s")
                params.append(years_before(self.on, rule.min_age))
            if rule.max_age is not None:
                parts.append("f.birth_date > %s")
                params.append(years_before(self.on, rule.max_age + 1))
            if rule.exclude_students:
                sql, piece = self._in("f.school_status", list(NOT_STUDENT))
                parts.append(sql)
                params += piece
        if not parts:
            return None, []
        return "(" + " AND ".join(parts) + ")", params

    def _categories(self, rule: MatchingRule) -> tuple[list[str], list[Any]]:
        return (
            ["f.cats LIKE %s"] * len(rule.category_list),
            [f"%|{category}|%" for category in rule.category_list],
        )

    def fulfilled(self, rule: MatchingRule) -> tuple[str, list[Any]]:
        parts, params = self._categories(rule)
        for name in rule.flag_list:
            if rule.level == MatchingRule.Level.MEMBER:
                parts.append(
                    "f.disability_certificate <> ''"
                    if name == MatchingRule.Flag.DISABILITY_CERTIFICATE
                    else f"f.{name} = TRUE"
                )
            else:
                parts.append(self.HOUSEHOLD_FLAGS[name])
        return "(" + " OR ".join(parts) + ")", params

    def received(self, rule: MatchingRule) -> tuple[str, list[Any]]:
        if rule.category_list:
            parts, params = self._categories(rule)
            return "(" + " OR ".join(parts) + ")", params
        return self.fulfilled(rule)

    def gap(self, rule: MatchingRule) -> tuple[str, list[Any]]:
        condition, condition_params = self.condition(rule)
        fulfilled, fulfilled_params = self.fulfilled(rule)
        if condition is None:
            sql = f"CASE WHEN NOT {fulfilled} THEN '{MISSING}'"
            params = list(fulfilled_params)
        else:
            sql = f"CASE WHEN {condition} AND NOT {fulfilled} THEN '{MISSING}'"
            params = [*condition_params, *fulfilled_params]
            if rule.check_wrongful:
                received, received_params = self.received(rule)
                # A condition that is NULL (an unrecorded fact) does not qualify: as in the ORM.
                sql += f" WHEN NOT COALESCE({condition}, FALSE) AND {received} THEN '{WRONGFUL}'"
                params += [*condition_params, *received_params]
        return sql + " ELSE NULL END", params


# --- one household ---------------------------------------------------------------------------


@dataclass
class Need:
    rule: MatchingRule
    member: Member | None
    fulfilled: bool


@dataclass
class Assessment:
    """What the rules say about one household."""

    needs: list[Need] = field(default_factory=list)
    wrongful: list[Need] = field(default_factory=list)
    measure_count: int = 0
    min_measures: int = 4
    mismatched: bool = False
    cause_categories: list[str] = field(default_factory=list)

    @property
    def missing_measures(self) -> list[Need]:
        return [n for n in self.needs if not n.fulfilled and n.rule.kind == "measure"]

    @property
    def missing_benefits(self) -> list[Need]:
        return [n for n in self.needs if not n.fulfilled and n.rule.kind == "benefit"]

    @property
    def too_few(self) -> bool:
        return self.measure_count < self.min_measures

    @property
    def warning_count(self) -> int:
        return (
            len(self.missing_measures)
            + len(self.missing_benefits)
            + len(self.wrongful)
            + int(self.too_few)
            + int(self.mismatched)
        )


def _flags(
    queryset: QuerySet[Any], rules: list[MatchingRule], on: datetime.date
) -> list[dict[str, Any]]:
    """Per row: q<rule id> (qualifies), f<rule id> (fulfilled), r<rule id> (receives, for the
    rules that check 违规享受), in the ORM form. `_facts_flags` computes the same through the SQL
    form for one household's page; the tests check that both agree."""
    annotations: dict[str, Any] = {}
    for rule in rules:
        condition = condition_q(rule, on=on)
        annotations[f"q{rule.pk}"] = (
            ExpressionWrapper(condition, output_field=BooleanField())
            if condition is not None
            else Value(True)
        )
        annotations[f"f{rule.pk}"] = ExpressionWrapper(
            fulfilled_q(rule), output_field=BooleanField()
        )
        if rule.check_wrongful:
            annotations[f"r{rule.pk}"] = ExpressionWrapper(
                received_q(rule), output_field=BooleanField()
            )
    return list(queryset.annotate(**annotations).values("pk", *annotations))


def _facts_flags(
    level: str, household_id: int, rules: list[MatchingRule], on: datetime.date
) -> list[dict[str, Any]]:
    """`_flags` of one household (level "household": its row; "member": its active living
    members, by id) in one statement of SQL over its facts (`_FactsSql`, the coverage job's
    form): the ORM form builds a correlated EXISTS per rule, more work than the rest of the
    household page. Values are SQL booleans (NULL when a fact is unrecorded), as in `_flags`."""
    if not rules:
        return []
    compiler = _FactsSql(level=level, on=on)
    table = connection.ops.quote_name(Household._meta.db_table)
    facts_sql, facts_params = compiler.facts(
        f"SELECT id FROM {table} WHERE id = %s", [household_id]
    )
    names, columns, params = ["pk"], [], []
    for rule in rules:
        condition, condition_params = compiler.condition(rule)
        parts = [("q", condition or "1 = 1", condition_params), ("f", *compiler.fulfilled(rule))]
        if rule.check_wrongful:
            parts.append(("r", *compiler.received(rule)))
        for prefix, expression, expression_params in parts:
            names.append(f"{prefix}{rule.pk}")
            columns.append(f"{expression} AS {prefix}{rule.pk}")
            params += expression_params
    key = "f.v_member" if level == MatchingRule.Level.MEMBER else "f.v_household"
    sql = f"SELECT {key}, {', '.join(columns)} FROM ({facts_sql}) f ORDER BY {key}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *facts_params])
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def assess_household(
    household: Household,
    *,
    on: datetime.date,
    rules: list[MatchingRule] | None = None,
    members: Iterable[Member] | None = None,
) -> Assessment:
    """The household's needs under the rules, each met or not, and the warnings of DOMAIN §6:
    fewer than the required measures; measures that answer none of its causes.

    `members`: the household's members (any, in any order) when the caller has loaded them
    (the household page); else they are read here."""
    rules = rules if rules is not None else rules_for(on.year)
    standard = standard_for(year=on.year, village=household.village)
    measures = list(
        _effective_measures(household=household).order_by().values_list("category", flat=True)
    )
    assessment = Assessment(measure_count=len(measures), min_measures=standard.min_measures)
    if household.status not in COVERED_STATUSES:
        return assessment
    household_rules = [r for r in rules if r.level == MatchingRule.Level.HOUSEHOLD]
    member_rules = [r for r in rules if r.level == MatchingRule.Level.MEMBER]
    rows = _facts_flags(MatchingRule.Level.HOUSEHOLD, household.pk, household_rules, on)
    if members is None:
        members = household.members.filter(is_active=True, living_status=LIVING)
    living = {m.pk: m for m in members if m.is_active and m.living_status == LIVING}
    member_rows = _facts_flags(MatchingRule.Level.MEMBER, household.pk, member_rules, on)
    for rule in household_rules:
        for row in rows:
            qualifies, fulfilled = row[f"q{rule.pk}"], row[f"f{rule.pk}"]
            if qualifies:
                assessment.needs.append(Need(rule, None, bool(fulfilled)))
            elif rule.check_wrongful and row[f"r{rule.pk}"]:
                assessment.wrongful.append(Need(rule, None, True))
    for rule in member_rules:
        for row in member_rows:
            qualifies, fulfilled = row[f"q{rule.pk}"], row[f"f{rule.pk}"]
            if qualifies:
                assessment.needs.append(Need(rule, living[row["pk"]], bool(fulfilled)))
            elif rule.check_wrongful and row[f"r{rule.pk}"]:
                assessment.wrongful.append(Need(rule, living[row["pk"]], True))
    cause_rules = {
        n.rule.pk: n.rule
        for n in assessment.needs
        if n.rule.condition == MatchingRule.Condition.CAUSE
    }
    categories = sorted({c for rule in cause_rules.values() for c in rule.category_list})
    assessment.cause_categories = categories
    assessment.mismatched = bool(measures and categories and not set(measures) & set(categories))
    return assessment
