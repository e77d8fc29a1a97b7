"""Reads with rules: area scope first, then filters, ordering and the related rows a page needs."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat, NullIf
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.constants import EMPTY_VALUES

from households import detail_tabs, standards
from households.models import (
    CaseBatch,
    CaseWorkflow,
    CountyStatusCount,
    DataProblem,
    Household,
    HouseholdEvent,
    HouseholdIncome,
    Member,
    NationalEntry,
    StepPhoto,
    VillageStatusCount,
    WorkflowStep,
)
from povertyapp import roles, statements
from povertyapp.models import Region, User, path_prefixes


def province_of(region: Region) -> Region | None:
    for node in region.ancestors(include_self=True):
        if node.level == Region.Level.PROVINCE:
            return node
    return None


def household_queryset() -> QuerySet[Household]:
    """Households with the head's name and ID and the person count as correlated subqueries:
    evaluated for the rows a page shows only, where a joined COUNT ... GROUP BY would aggregate
    every household in scope before the page is cut (seconds for a county of 100k)."""
    return Household.objects.select_related("village", "village__parent", "group").annotate(
        **_member_figures()
    )


# What `household_queryset` computes from the household's active members.
MEMBER_FIGURES = ("head_name", "head_id_number", "person_count")


def _member_figures(*names: str) -> dict[str, Any]:
    """`household_queryset`'s expressions over the household's active members, by name (all
    of `MEMBER_FIGURES` when none is named)."""
    # order_by(): Member's default ordering sorts by the household's number, a join per row.
    head = Member.objects.filter(
        household=OuterRef("pk"), is_active=True, relation="户主"
    ).order_by()
    figures: dict[str, Callable[[], Any]] = {
        "head_name": lambda: Subquery(head.values("name")[:1]),
        "head_id_number": lambda: Subquery(head.values("id_number")[:1]),
        "person_count": lambda: Coalesce(
            Subquery(
                Member.objects.filter(household=OuterRef("pk"), is_active=True)
                .order_by()
                .values("household")
                .annotate(count=Count("pk"))
                .values("count"),
                output_field=IntegerField(),
            ),
            0,
        ),
    }
    return {name: figures[name]() for name in names or MEMBER_FIGURES}


def household_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Household]:
    """The households a user may see, filtered (HouseholdFilter) and ordered."""
    from households.filters import HouseholdFilter

    queryset = roles.household_scope(user, household_queryset())
    if filters is not None:
        queryset = HouseholdFilter(filters, queryset=queryset, user=user).qs
    return queryset.order_by("number")


def household_list_page_scope(*, user: User, ordering: str = "") -> QuerySet[Household]:
    """The household list page's scope: `household_list` without the select list, for a page
    that cuts its ids from it and reads its rows by id (`household_list_rows`). The head's
    name and the person count are aliased only for an ordering on them (`ordering`, the
    list's parameter, read through `HouseholdFilter.ordering`'s own names): building their
    subqueries cost about 1 ms of Python on every request of a page that otherwise never
    reads them."""
    from households.filters import HouseholdFilter

    names = HouseholdFilter.base_filters["ordering"].param_map  # parameter -> expression
    wanted = {
        names[name]
        for name in (part.strip().lstrip("-") for part in ordering.split(","))
        if name in names
    } & set(MEMBER_FIGURES)
    queryset = Household.objects.all()
    if wanted:
        queryset = queryset.alias(**_member_figures(*sorted(wanted)))
    return roles.household_scope(user, queryset).order_by("number")


def household_list_rows(
    ids: list[int], *, warnings: list[tuple[str, Any]] | tuple[()] = ()
) -> list[dict[str, Any]]:
    """The household list's rows for one page, in the order of `ids` (the page's households,
    cut from the scoped, filtered and ordered list on their ids alone): plain values, the head
    joined through the one-active-head index, the persons counted for these rows only, and
    each row's `warnings`: the labels of the `warnings` conditions it meets (the apps' line of
    warnings, `detail_tabs.list_warnings`), evaluated in the same statement."""
    flags = [f"warning_{index}" for index in range(len(warnings))]
    by_id: dict[int, dict[str, Any]] = {}
    statement = _list_rows_statement(warnings)
    for row in statements.fetch(statement.filter(pk__in=ids), statement=statement):
        row["warnings"] = [
            label
            for flag, (label, _condition) in zip(flags, warnings, strict=True)
            if row.pop(flag)
        ]
        by_id[row["pk"]] = row
    return [by_id[pk] for pk in ids if pk in by_id]


# The rows' statement without its ids, built once for a list of warnings: `detail_tabs` keeps
# one list a day and language, so the page builds it once a day. A filter on it clones it, and
# it is never evaluated itself.
_list_rows_built: dict[int, tuple[Any, QuerySet[Household, dict[str, Any]]]] = {}


def _list_rows_statement(warnings: Any) -> QuerySet[Household, dict[str, Any]]:
    kept = _list_rows_built.get(id(warnings))
    if kept is not None and kept[0] is warnings:
        return kept[1]
    flags = {
        f"warning_{index}": ExpressionWrapper(condition, output_field=BooleanField())
        for index, (_label, condition) in enumerate(warnings)
    }
    # The one line of warnings a phone's card shows: the household's unsettled problem data
    # (待处理 or 已说明待审核), counted and the first message, in the same query (the key of
    # `problem_unique_key` starts with the household: an index probe per row of the page).
    problems = DataProblem.objects.filter(
        household=OuterRef("pk"),
        state__in=(DataProblem.State.OPEN, DataProblem.State.EXPLAINED),
    ).order_by()
    rows = (
        Household.objects.annotate(
            head=FilteredRelation(
                "members", condition=Q(members__is_active=True, members__relation="户主")
            ),
            **_member_figures("person_count"),
            problem_count=Coalesce(
                Subquery(
                    problems.values("household").annotate(count=Count("pk")).values("count"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            first_problem=Subquery(problems.order_by("rule", "pk").values("message")[:1]),
            first_problem_source=Subquery(
                problems.order_by("rule", "pk").values("message_source")[:1]
            ),
            **flags,
        )
        .order_by()
        .values(
            *flags,
            "pk",
            "number",
            "status",
            "main_cause",
            "poverty_attribute",
            "first_identified_year",
            "person_count",
            "problem_count",
            "first_problem",
            "first_problem_source",
            head_name=F("head__name"),
            head_id_number=F("head__id_number"),
            village_name=F("village__name"),
            group_name=F("group__name"),
        )
    )
    if len(_list_rows_built) >= 8:
        _list_rows_built.clear()
    _list_rows_built[id(warnings)] = (warnings, rows)
    return rows


# Filters the kept per-village counts can answer; any other filter counts the households live.
COUNTED_FILTERS = frozenset({"status", "county", "township", "village", "ordering"})
# The levels whose users read the per-county counts (`CountyStatusCount`): their scope is whole
# counties. Below the county a scope is part of one, read from the per-village counts.
COUNTY_OR_ABOVE = frozenset({Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY})


@dataclass(frozen=True)
class ListCounts:
    """The household list's figures: households by status, their total, and whether the total
    was capped (`capped`: more than `total` households match, counted no further, and
    `by_status` is empty: the statuses of the first matches found say nothing of the rest).
    `ids`: the matching households' ids in the list's default order (户编号, id), when the
    count read them anyway (a name search): the page is cut from them. Under the cap they are
    every match; past it the `total` first found (a page of the first by 户编号 would read
    every match again), and the page says to narrow the search."""

    by_status: dict[str, int]
    total: int
    capped: bool = False
    ids: list[int] | None = None


def household_status_counts(
    *, user: User, data: Any = None, household_filter: Any = None
) -> dict[str, int]:
    """Households by status in the user's scope under the list's filters, exact (uncapped):
    `household_list_counts`' figures."""
    return household_list_counts(user=user, data=data, household_filter=household_filter).by_status


def household_list_counts(
    *, user: User, data: Any = None, household_filter: Any = None, cap: int | None = None
) -> ListCounts:
    """Households by status in the user's scope under the list's filters (`data`: the GET, or
    `household_filter`: the list's own bound HouseholdFilter over the user's scope, which spares
    building and validating a second one).

    Without a filter, or with only 状态 and 行政村, the counts are summed from the counts the
    database triggers keep, exact and in step with every write: per county
    (`CountyStatusCount`) for a county, city or province user, 88 rows for a province; per
    village (`VillageStatusCount`) below the county or for one 行政村. A helper's scope is the
    paired households, and every other filter needs the households themselves: those count the
    matching households in one GROUP BY, and with `cap` count at most `cap` + 1 of them: past
    `cap` the result is `capped` (a surname searched across a province matches 80,000 members
    at a tenth of its size, and counting them all took 2.4 s). A name search stops at the
    smaller `SEARCH_COUNT_CAP`: its count reads the matching members one by one."""
    from households.filters import HouseholdFilter

    if household_filter is not None:
        counted = household_filter
        plain = household_filter.queryset
    else:
        plain = roles.household_scope(user, Household.objects.all())
        counted = HouseholdFilter(data or None, queryset=plain, user=user)
    if not counted.is_bound:
        used: set[str] = set()
    elif counted.is_valid():
        used = {
            name
            for name, value in counted.form.cleaned_data.items()
            if value not in EMPTY_VALUES  # what django-filter applies
        }
    else:
        used = {"invalid"}
    if user.role != roles.Role.HELPER and used <= COUNTED_FILTERS:
        from households.filters import level_region

        chosen = counted.form.cleaned_data if used else {}
        kept: QuerySet[Any]
        if (
            used & {"village", "township"}
            or user.region is None
            or user.region.level not in COUNTY_OR_ABOVE
        ):
            kept = VillageStatusCount.objects.filter(village__in=roles.region_scope(user))
            if "village" in used:
                kept = kept.filter(village_id=chosen["village"])
            for level in ("county", "township"):
                if level in used:  # the villages below it, as the list's filter reads them
                    region = level_region(chosen[level], level)
                    kept = (
                        kept.none()
                        if region is None
                        else kept.filter(village__path__startswith=region.path)
                    )
        else:
            kept = CountyStatusCount.objects.filter(county__in=roles.region_scope(user))
            if "county" in used:
                kept = kept.filter(county_id=chosen["county"], county__level=Region.Level.COUNTY)
        if "status" in used:
            kept = kept.filter(status=chosen["status"])
        totals: Iterable[tuple[str, int]] = (
            kept.order_by()
            .values("status")
            .annotate(n=Sum("households"))
            .values_list("status", "n")
        )
    else:
        name = (
            counted.name_searched()
            if cap is not None and counted.is_bound and counted.is_valid()
            else ""
        )
        if cap is not None and name:
            # Counted from the matching members, the filter's own queryset never built.
            cap = min(cap, settings.SEARCH_COUNT_CAP)
            matches = _name_matches(counted, user, name, cap)
            if len(matches) > cap:
                # The page comes from the first `cap` matches found, in the list's order:
                # reading the first by 户编号 in SQL would take every match again (a
                # county's 18,720 members for one surname: 721 ms, more than the count).
                return ListCounts(
                    by_status={}, total=cap, capped=True, ids=_in_list_order(matches[:cap])
                )
            return ListCounts(
                by_status=dict(Counter(status for _pk, status, _number in matches)),
                total=len(matches),
                ids=_in_list_order(matches),
            )
        queryset = counted.qs if counted.is_bound else plain
        if cap is None:
            totals = (
                queryset.order_by()
                .values("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
        else:
            totals = _capped_status_counts(queryset, cap)
            if sum(n for _status, n in totals) > cap:
                return ListCounts(by_status={}, total=cap, capped=True)
    by_status = {status: n for status, n in totals if n}
    return ListCounts(by_status=by_status, total=sum(by_status.values()))


def _in_list_order(matches: list[tuple[int, str, str]]) -> list[int] | None:
    """The ids of `matches` in the list's default order (户编号, then id), or None when a
    户编号 holds anything but ASCII digits (whose order Python and the database's collation
    could disagree on; the list then cuts its page in SQL)."""
    if not all(number.isascii() and number.isdigit() for _pk, _status, number in matches):
        return None
    return [pk for pk, _status, _number in sorted(matches, key=lambda row: (row[2], row[0]))]


def _capped_status_counts(queryset: QuerySet[Household], cap: int) -> list[tuple[str, int]]:
    """The statuses of at most `cap` + 1 households of `queryset`, counted, in one statement:
    `SELECT status, count(*) FROM (... LIMIT cap + 1) GROUP BY status`. The database stops at
    the (cap + 1)th match; a sum above `cap` means more match than are counted."""
    limited = queryset.order_by().values_list("status")[: cap + 1]
    sql, params = limited.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            f"SELECT matches.status, COUNT(*) FROM ({sql}) AS matches GROUP BY matches.status",
            params,
        )
        return [(status, n) for status, n in cursor.fetchall()]


def search_count_cap() -> int:
    """The most households a name search counts (page and API): `SEARCH_COUNT_CAP`, never
    more than `LIST_COUNT_CAP`."""
    return min(settings.SEARCH_COUNT_CAP, settings.LIST_COUNT_CAP)


def name_search_counter(household_filter: Any, user: User) -> Callable[[int], int] | None:
    """For a valid name search, a function counting at most `limit` of its households from
    the matching members (`_name_matches`: the API's paginator stops there too, at
    `SEARCH_COUNT_CAP`); None for any other filter."""
    if not (household_filter.is_valid() and household_filter.name_searched()):
        return None
    name = household_filter.name_searched()

    def count_rows(limit: int) -> int:
        return len(_name_matches(household_filter, user, name, limit - 1))

    return count_rows


def _name_matches(
    household_filter: Any, user: User, name: str, cap: int
) -> list[tuple[int, str, str]]:
    """At most `cap` + 1 households of a name search, as (id, status, 户编号), driven from the
    matching members so that the database stops at the (cap + 1)th household: the count of
    the search (`_capped_status_counts` for any other filter), and under the cap the list's
    page too (`ListCounts.ids`), with no second read of the same matches.

    Counted from the households, the search is a semi-join: PostgreSQL makes the members'
    matches unique (a hash over every one of them: 83,332 for 杨 at a tenth of a province)
    before it probes the first household, so a LIMIT stops nothing. Here each matching member
    in scope counts its household when it is the household's first match (the smallest id:
    one household, one count, by an index probe), and the household is probed
    by its key under every other filter of the list: the statement streams, and stops at the
    LIMIT."""
    from households.filters import (
        CountyNameKeys,
        NameCharacters,
        county_name_contains,
        name_contains,
    )

    households = (
        household_filter.queryset_without_search().order_by().filter(pk=OuterRef("household_id"))
    )
    # The household's first match, as a scalar subquery probed row by row: NOT EXISTS (an
    # earlier match) would become an anti-join, which may hash every match of the province
    # (251,252 members for 杨 at half the full size) before it returns a row. The probe reads
    # the household's few members by their household's index and tests them with LIKE; neither
    # the name index (its condition scans the name's whole posting list at every probe) nor the
    # primary key (walked in order until a match of this household turns up) may serve it,
    # whatever the statistics say: the order is an expression no index holds.
    first_match = (
        Member.objects.filter(name__contains=name, household=OuterRef("household_id"))
        .order_by(ExpressionWrapper(F("pk") + 0, output_field=BigIntegerField()).asc())
        .values("pk")[:1]
    )

    # The household's status and 户编号 in one probe: as two subqueries PostgreSQL probed the
    # household three times per match (the status in the condition, then the status and the
    # 户编号 in the select list). A status holds no space (`Household.Status`), so the first
    # space ends it, whatever the 户编号 holds.
    household_row = Subquery(
        households.annotate(row=Concat("status", Value(" "), "number")).values("row")[:1]
    )

    def found(members: QuerySet[Member], limit: int) -> list[tuple[int, str, str]]:
        rows = (
            members.filter(pk=Subquery(first_match))
            .annotate(household_row=household_row)
            .filter(household_row__isnull=False)
            .order_by()
            .values_list("household_id", "household_row")[:limit]
        )
        return [(pk, *row.split(" ", 1)) for pk, row in rows]

    counties = _searched_counties(household_filter, user)
    if counties is None:
        members = Member.objects.alias(name_characters=NameCharacters("name")).filter(
            name_contains(name)
        )
        return found(members.filter(roles.member_scope_q(user, Member)), cap + 1)
    # Through the county-keyed name index, a county at a time: one county, then the next two,
    # four, ... until `cap` + 1 households are found, so that a common name (杨: a county
    # holds more than the cap) reads the entries of one or two counties, not the province's,
    # and a rare one every county's few, in at most 7 statements for 88 counties.
    below_county = user.region is not None and user.region.level not in COUNTY_OR_ABOVE
    matches: list[tuple[int, str, str]] = []
    start, size = 0, 1
    while start < len(counties) and len(matches) <= cap:
        keyed = Member.objects.alias(county_name_keys=CountyNameKeys("county", "name")).filter(
            county_name_contains(name, counties[start : start + size])
        )
        if below_county:  # a township's or a village's members, by their village's path
            keyed = keyed.filter(roles.member_scope_q(user, Member))
        matches += found(keyed, cap + 1 - len(matches))
        start, size = start + size, size * 2
    return matches


def _searched_counties(household_filter: Any, user: User) -> list[int] | None:
    """The counties a name search reads, in id order: the 县 chosen in the list's filter, else
    those of the user's region (its own county, the county above a township or village, or the
    counties below a city or province). None for a user whose scope is not a region (a
    helper's paired households; a user with no region), whose search reads the matches of the
    province-wide name index under their scope."""
    from households.filters import level_region

    if user.role == roles.Role.HELPER or user.region is None:
        return None
    chosen = household_filter.form.cleaned_data.get("county")
    if chosen not in EMPTY_VALUES:
        county = level_region(chosen, Region.Level.COUNTY)
        return [] if county is None else [county.pk]
    region = user.region
    if region.level == Region.Level.COUNTY:
        return [region.pk]
    counties = Region.objects.filter(level=Region.Level.COUNTY)
    if region.level in (Region.Level.CITY, Region.Level.PROVINCE):
        counties = counties.filter(path__startswith=region.path)
    else:
        counties = counties.filter(path__in=path_prefixes(region.path))
    return list(counties.order_by("pk").values_list("pk", flat=True))


def name_heads(households: Iterable[Household | None]) -> None:
    """Give each household its head's name as `head_name` (None when it has no active 户主),
    in one statement for all: a list names a household by its 户编号 and its head, as the
    page walk holds (`tests/povertyapp/test_page_links.py`). A household already named (the
    lists' annotation) is left alone."""
    unnamed: dict[int, list[Household]] = {}
    for household in households:
        if household is not None and not hasattr(household, "head_name"):
            unnamed.setdefault(household.pk, []).append(household)
    if not unnamed:
        return
    # A household has at most one active 户主 (the constraint `member_one_active_head`).
    names = dict(
        Member.objects.filter(household_id__in=unnamed, is_active=True, relation="户主")
        .order_by()
        .values_list("household_id", "name")
    )
    for pk, copies in unnamed.items():
        for household in copies:
            household.head_name = names.get(pk)  # type: ignore[attr-defined]  # for the page, not a field


def household_label(household: Household) -> str:
    """A household as lists and choices name it: its 户编号 and its head's name
    ("5226221002000058 江斌成"), or the number alone when it has no active 户主. `name_heads`
    runs first; the templates' `{% household_named %}` prints the same."""
    head = getattr(household, "head_name", None)
    return f"{household.number} {head}" if head else household.number


def household_get_for_user(*, user: User, household_id: int, for_write: bool = False) -> Household:
    """The one access path to a household: 404 outside the scope, 403 for a read-only role."""
    household = _scoped_household(_household_statement(), user=user, household_id=household_id)
    if for_write and not roles.can_write_households(user):
        raise PermissionDenied(_("您的角色只能查看，不能修改农户信息。"))
    return household


def _scoped_household(
    statement: QuerySet[Household], *, user: User, household_id: int
) -> Household:
    """`statement`'s household `household_id` in the user's scope, or 404. The statement's
    compilation is kept per scope (`statements.fetch`): only its WHERE clause is compiled per
    request."""
    try:
        found = statements.fetch(
            roles.household_scope(user, statement).filter(pk=household_id), statement=statement
        )
    except (ValueError, TypeError):
        found = []
    if not found:
        raise Http404(_("未找到该农户，或您无权查看。"))
    return found[0]


@functools.cache
def _household_statement() -> QuerySet[Household]:
    """`household_queryset`, built once for `household_get_for_user`."""
    return household_queryset()


def household_get_by_number_for_user(*, user: User, number: str) -> Household:
    household_id = (
        roles.household_scope(user, Household.objects.all())
        .filter(number=number)
        .values_list("pk", flat=True)
        .first()
    )
    if household_id is None:
        raise Http404(_("未找到该农户，或您无权查看。"))
    return household_get_for_user(user=user, household_id=household_id)


def member_list(*, user: User, include_inactive: bool = False) -> QuerySet[Member]:
    queryset = Member.objects.filter(roles.member_scope_q(user, Member)).select_related(
        "household", "household__village"
    )
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.distinct().order_by("household__number", "id")


def member_get_for_user(*, user: User, member_id: int, for_write: bool = False) -> Member:
    try:
        member = member_list(user=user, include_inactive=True).get(pk=member_id)
    except (Member.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该成员，或您无权查看。")) from None
    if for_write and not roles.can_write_households(user):
        raise PermissionDenied(_("您的角色只能查看，不能修改农户信息。"))
    return member


def workflow_step_get_for_user(*, user: User, record_id: int) -> WorkflowStep:
    """A recorded step of an identification or exit case (and its evidence, 公示 photos
    included), through its household's scope: 404 outside it."""
    visible = CaseWorkflow.objects.filter(roles.household_scope_q(user)).values("pk")
    record = (
        WorkflowStep.objects.filter(pk=record_id, workflow__in=visible)
        .select_related("workflow")
        .first()
    )
    if record is None:
        raise Http404(_("未找到该材料，或您无权查看。"))
    return record


def step_photo_get_for_user(*, user: User, photo_id: int) -> StepPhoto:
    """A photo of an 入户核实 step through its household's scope (the file door's
    `step_photo`): 404 outside it."""
    visible = CaseWorkflow.objects.filter(roles.household_scope_q(user)).values("pk")
    photo = (
        StepPhoto.objects.filter(pk=photo_id, step__workflow__in=visible)
        .select_related("step")
        .first()
    )
    if photo is None:
        raise Http404(_("未找到该照片，或您无权查看。"))
    return photo


def household_step_photos(household: Household) -> list[StepPhoto]:
    """The photos of the household's 入户核实 steps (the household page's 照片)."""
    return list(
        StepPhoto.objects.filter(step__workflow__household=household)
        .select_related("step", "step__workflow")
        .order_by("-step__acted_on", "-step_id", "taken_at", "id")
    )


def household_members(household: Household, *, include_inactive: bool = True) -> list[Member]:
    members = household.members.all()
    if not include_inactive:
        members = members.filter(is_active=True)
    return list(members.order_by("-is_active", "id"))


def household_events(household: Household) -> QuerySet[HouseholdEvent]:
    return household.events.select_related(
        "round", "member", "proposed_by", "approved_by", "created_by"
    ).order_by("-effective_date", "-id")


def _label(labels: dict[Any, Any], value: Any) -> Any:
    """A stored choice value's label; any other value as stored."""
    return labels.get(value, value) if isinstance(value, (str, int)) else value


def household_change_history(household: Household, *, limit: int = 200) -> list[dict[str, Any]]:
    """Who changed what and when, before → after, for the household, its members and income."""
    entries: list[dict[str, Any]] = []
    sources = [
        (_("户信息"), household.history.select_related("history_user").order_by("history_id")),
        (
            _("成员"),
            Member.history.filter(household_id=household.pk)
            .select_related("history_user")
            .order_by("id", "history_id"),
        ),
        (
            _("收入"),
            household.incomes.model.history.filter(household_id=household.pk)
            .select_related("history_user")
            .order_by("id", "history_id"),
        ),
    ]
    for section, records in sources:
        previous_by_object: dict[int, Any] = {}
        for record in records:
            previous = previous_by_object.get(record.id)
            changes = []
            if previous is not None:
                delta = record.diff_against(previous)
                for change in delta.changes:
                    if change.field in {"version"}:
                        continue
                    field = record.instance._meta.get_field(change.field)
                    # A fixed list is stored as its value: shown through its label (issue 17).
                    labels = dict(field.flatchoices) if getattr(field, "choices", None) else {}
                    changes.append(
                        {
                            "field": change.field,
                            "label": str(field.verbose_name),
                            "old": _label(labels, change.old),
                            "new": _label(labels, change.new),
                        }
                    )
                if not changes:
                    previous_by_object[record.id] = record
                    continue
            entries.append(
                {
                    "section": section,
                    "object": str(record.instance),
                    "type": record.get_history_type_display(),
                    "when": record.history_date,
                    "who": record.history_user.display_name if record.history_user else "",
                    # A reason the code wrote is a msgid (`_()` or `gettext_noop`): shown in the
                    # reader's language; a reason a user typed is not in the catalog, so as typed.
                    "reason": _(record.history_change_reason)
                    if record.history_change_reason
                    else "",
                    "changes": changes,
                }
            )
            previous_by_object[record.id] = record
    entries.sort(key=lambda entry: entry["when"], reverse=True)
    return entries[:limit]


def region_list(*, user: User) -> QuerySet[Region]:
    return roles.region_scope(user).select_related("parent")


def region_get_for_user(*, user: User, code: str) -> Region:
    try:
        return region_list(user=user).get(code=code)
    except Region.DoesNotExist:
        raise Http404(_("未找到该区划，或您无权查看。")) from None


def household_page_get_for_user(
    *, user: User, household_id: int, page_reads: bool = True
) -> tuple[Household, list[Member]]:
    """The household page's access path: `household_get_for_user`'s scope and 404, and every
    member (`household_members`' order). The page reads the members anyway, so the head's name
    and ID number and the person count that `household_queryset` computes in correlated
    subqueries are taken from them here, sparing the page that query's construction.

    What the page would otherwise read again comes with these reads: the household's open
    procedure (its id, `open_workflow_id`: the page reads the procedure only when there is
    one), its own 录入国家系统 mark (`national_entered_on`, `national_marked_by`), its incomes
    latest first, each with its year's poverty line (`income_rows`, `line_amount`: the quality
    warnings and the 收入 tab), with each member whether another household has an active
    member of the same ID number (`id_elsewhere`: the quality warning of a duplicate) and its
    mark's date (`national_entered_on`), and what the apps registered to read about it
    (`detail_tabs.page_reads`). Without `page_reads` (the 帮扶 badge), the household
    and its members only."""
    household = _scoped_household(
        _household_page_statement() if page_reads else _household_badge_statement(),
        user=user,
        household_id=household_id,
    )
    members: list[Member]
    if page_reads:
        household.income_rows = statements.fetch(  # type: ignore[attr-defined]  # for the page, not a field
            _page_incomes_statement().filter(household_id=household.pk),
            statement=_page_incomes_statement(),
        )
        members = statements.fetch(
            _page_members_statement().filter(household_id=household.pk),
            statement=_page_members_statement(),
        )
        for member in members:
            member.household = household  # as `household.members` would give them
    else:
        members = household_members(household)
    active = [member for member in members if member.is_active]
    head = next((member for member in active if member.relation == "户主"), None)
    household.head_name = head.name if head else None  # type: ignore[attr-defined]  # for the household page, not a field
    household.head_id_number = head.id_number if head else None  # type: ignore[attr-defined]  # for the household page, not a field
    household.person_count = len(active)  # type: ignore[attr-defined]  # for the household page, not a field
    return household, members


# The household page's statement without its scope and key, built once for the apps' reads
# (`detail_tabs.page_reads` keeps one dict until an app registers more): every page filters a
# copy of it, and the statement kept is never read itself.
_page_statement_built: list[tuple[dict[str, Any], QuerySet[Household]]] = []


@functools.cache
def _household_badge_statement() -> QuerySet[Household]:
    return Household.objects.select_related("village", "village__parent", "group")


@functools.cache
def _page_incomes_statement() -> QuerySet[HouseholdIncome]:
    """A household's incomes for its page, latest first, each with its year's poverty line
    for the household (`line_amount`, None where none is set): the 收入 tab and the exit
    test's quality warning read no line of their own."""
    return HouseholdIncome.objects.annotate(
        line_amount=standards.poverty_line_expression(
            year=OuterRef("year"),
            standard=OuterRef("household__identification_standard"),
            village_path=OuterRef("household__village__path"),
        )
    ).order_by("-year")


@functools.cache
def _page_members_statement() -> QuerySet[Member]:
    """A household's members for its page, with whether another household has an active
    member of the same ID number (`id_elsewhere`), in `household_members`' order."""
    elsewhere = Member.objects.filter(
        is_active=True, id_number_index=OuterRef("id_number_index")
    ).exclude(household_id=OuterRef("household_id"))
    return Member.objects.annotate(
        id_elsewhere=Exists(elsewhere),
        # The member's 录入国家系统 mark (one at most: `national_entry_one_per_member`).
        national_entered_on=Subquery(
            NationalEntry.objects.filter(member=OuterRef("pk")).values("entered_on")[:1]
        ),
    ).order_by("-is_active", "id")


def _household_page_statement() -> QuerySet[Household]:
    reads = detail_tabs.page_reads()
    if _page_statement_built and _page_statement_built[0][0] is reads:
        return _page_statement_built[0][1]
    own_mark = NationalEntry.objects.filter(household=OuterRef("pk"), member__isnull=True)
    statement = Household.objects.select_related("village", "village__parent", "group").annotate(
        open_workflow_id=Subquery(
            CaseWorkflow.objects.filter(
                household=OuterRef("pk"), state=CaseWorkflow.State.OPEN
            ).values("pk")[:1]
        ),
        # The household's own 录入国家系统 mark (one at most: `national_entry_one_per_household`):
        # its date and who marked it (`User.display_name`), NULL without one.
        national_entered_on=Subquery(own_mark.values("entered_on")[:1]),
        national_marked_by=Subquery(
            own_mark.values(
                name=Coalesce(NullIf("marked_by__full_name", Value("")), "marked_by__username")
            )[:1]
        ),
        # What the apps above read about the household for the page (its quality rules'
        # helper and measures, its links' monitoring object and assets): in this statement.
        **reads,
    )
    _page_statement_built[:] = [(reads, statement)]
    return statement


# --- batches (households.services.case_batch_*) ----------------------------------------------


def case_batch_list(*, user: User) -> QuerySet[CaseBatch]:
    """The batches of the villages in the user's area (none for roles without case access, and
    none for helpers: a batch lists a whole village's households)."""
    if not roles.has_case_access(user) or user.role == User.Role.HELPER or user.region is None:
        return CaseBatch.objects.none()
    return (
        CaseBatch.objects.filter(village__path__startswith=user.region.path)
        .select_related("village", "village__parent", "created_by")
        .annotate(members=Count("cases"))
        .order_by("-created_at", "-id")
    )


def case_batch_get_for_user(*, user: User, batch_id: int) -> CaseBatch:
    """One batch through the user's area scope: 404 outside it."""
    batch = case_batch_list(user=user).filter(pk=batch_id).first()
    if batch is None:
        raise Http404(_("未找到该批次，或您无权查看。"))
    return batch
