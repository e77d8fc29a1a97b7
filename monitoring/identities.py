"""农村低收入人口的身份 (DOMAIN §7: from 2025–2026 monitoring and 民政's low-income monitoring
share data; a person can hold several identities at once, each with its source and dates).

Two kinds of identity, read together:

- **Certified by another department** (`PersonIdentity`): 农村低保对象, 农村特困人员,
  低保边缘家庭成员, 刚性支出困难家庭成员, sent by 民政 as a 身份共享 list (`monitoring.layouts`,
  purpose IDENTITY) through the departments' list machinery (`monitoring.lists`: hostile-file
  checks, every row checked, all or nothing). Each row is one person's one identity from its
  认定日期 (to its 终止日期, if ended). Sent again, the same identity (person, kind, 认定日期) is
  updated, not repeated; a later 认定日期 for the same kind is a new row and ends the earlier
  one the day before, so a person's history of one kind never overlaps.
- **The registry's own**, read where they live and never stored twice, for a household's present
  members: by its status, 脱贫人口 (已脱贫, since its 脱贫年度), 建档立卡未脱贫人口 and 返贫人口;
  and 防止返贫监测对象 while the household is a monitoring object (from its 识别纳入日期 to its
  风险消除日期).

The 低收入人口 page lays both side by side and finds where the registry and the department
disagree: a person 民政 certifies as 低保 (特困) whom the registry does not mark as receiving it,
and one the registry marks whom 民政 does not certify (`CHECKS`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Case, Count, Exists, Min, OuterRef, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Household, Member
from households.selectors import name_heads
from monitoring.clues import match_many
from monitoring.models import (
    DepartmentList,
    IdentityKind,
    IdentityRow,
    MonitoringObject,
    PersonIdentity,
)
from povertyapp import roles
from povertyapp.crypto import blind_index
from povertyapp.models import Region, User


class Row(Protocol):
    """A checked row of a department's list (`monitoring.lists.Row`)."""

    number: int
    values: dict[str, Any]


class Outcome(Protocol):
    """A list's counts (`monitoring.lists.Outcome`), which applying a list adds to."""

    matched: int
    unmatched: int
    duplicate: int


WRITE_BATCH = 2000
CHUNK = 5000

# The words a department writes for each identity (its label first). Compared without spaces.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    IdentityKind.DIBAO: (
        "农村低保对象",
        "低保对象",
        "农村低保",
        "低保",
        "低保户",
        "最低生活保障对象",
    ),
    IdentityKind.TEKUN: (
        "农村特困人员",
        "特困人员",
        "特困供养人员",
        "特困供养",
        "特困",
        "分散供养特困人员",
        "集中供养特困人员",
    ),
    IdentityKind.DIBAO_EDGE: (
        "低保边缘家庭成员",
        "低保边缘家庭",
        "低保边缘人口",
        "低保边缘",
        "低保边缘户",
    ),
    IdentityKind.RIGID_COSTS: (
        "刚性支出困难家庭成员",
        "刚性支出困难家庭",
        "刚性支出困难",
        "支出型困难家庭成员",
        "支出型困难家庭",
        "支出型困难",
    ),
}
_BY_WORD = {word: kind for kind, words in KIND_WORDS.items() for word in words}

# The registry's own identities (not stored here): a member of a registered household by its
# status, and of a household that is a monitoring object.
BY_STATUS: dict[str, Any] = {
    Household.Status.EXITED: gettext_lazy("脱贫人口"),
    Household.Status.POOR: gettext_lazy("建档立卡未脱贫人口"),
    Household.Status.RETURNED: gettext_lazy("返贫人口"),
}
MONITORED_LABEL = gettext_lazy("防止返贫监测对象")


def parse_kind(text: str) -> str | None:
    """The identity a department's 身份类别 names, or None."""
    return _BY_WORD.get("".join((text or "").split()))


# --- applying a 身份共享 list -----------------------------------------------------------------


def identities_apply(
    department_list: DepartmentList, rows: Sequence[Row], *, outcome: Outcome
) -> None:
    """Write a 身份共享 list's identities (inside `lists.list_apply`'s transaction, its rows
    checked already, their dates by `layouts.identity_dates`): rows repeating a (person,
    identity, 认定日期) counted 重复, each person matched by ID number, an identity sent before
    updated in place, then each touched person's history of each kind put in order (an earlier
    one ends the day before the next begins)."""
    county = department_list.county
    # One 身份共享 list of a county at a time: a second one waits here, then finds the first's
    # identities and updates them, where both would insert the same identity and one fail.
    Region.objects.select_for_update().filter(pk=county.pk).first()
    seen: set[tuple[str, str, datetime.date]] = set()
    unique: list[Row] = []
    for row in rows:
        key = (row.values["id_number"], row.values["identity"], row.values["start"])
        if key in seen:
            outcome.duplicate += 1
            continue
        seen.add(key)
        unique.append(row)
    matches = match_many(row.values["id_number"] for row in unique)
    indexes = {row.values["id_number"]: blind_index(row.values["id_number"]) for row in unique}
    existing: dict[tuple[str, str, datetime.date], PersonIdentity] = {}
    index_values = sorted(set(indexes.values()))
    for start in range(0, len(index_values), CHUNK):
        for identity in PersonIdentity.objects.filter(
            county=county, id_number_index__in=index_values[start : start + CHUNK]
        ):
            existing[(identity.id_number_index, identity.kind, identity.start)] = identity
    now = timezone.now()
    created: list[PersonIdentity] = []
    changed: list[PersonIdentity] = []
    # (row number, the identity, its outcome), written once the new identities have their keys
    outcomes: list[tuple[int, PersonIdentity, str]] = []
    for row in unique:
        number = row.values["id_number"]
        found = matches[number]
        if found.member is None:
            outcome.unmatched += 1
        else:
            outcome.matched += 1
        kind = row.values["identity"]
        start = row.values["start"]
        values = {
            "name": row.values["name"],
            "end": row.values.get("end") or None,
            "member_id": found.member.pk if found.member is not None else None,
            "household_id": found.household.pk if found.household is not None else None,
        }
        before = existing.get((indexes[number], kind, start))
        if before is None:
            identity = PersonIdentity(
                county=county,
                kind=kind,
                id_number=number,
                id_number_index=indexes[number],
                department=department_list.department,
                start=start,
                source_list=department_list,
                source_row=row.number,
                **values,
            )
            created.append(identity)
            outcomes.append((row.number, identity, IdentityRow.Outcome.CREATED))
            continue
        if all(getattr(before, field) == value for field, value in values.items()):
            outcomes.append((row.number, before, IdentityRow.Outcome.UNCHANGED))
            continue
        for field, value in values.items():
            setattr(before, field, value)
        before.updated_at = now  # bulk_update does not stamp auto_now fields
        changed.append(before)
        outcomes.append((row.number, before, IdentityRow.Outcome.UPDATED))
    PersonIdentity.objects.bulk_update(
        changed,
        ["name", "end", "member", "household", "updated_at"],
        batch_size=WRITE_BATCH,
    )
    PersonIdentity.objects.bulk_create(created, batch_size=WRITE_BATCH)
    IdentityRow.objects.bulk_create(
        [
            IdentityRow(
                department_list=department_list, row=number, identity=identity, outcome=kind
            )
            for number, identity, kind in outcomes
        ],
        batch_size=WRITE_BATCH,
    )
    _ordered(county, {(indexes[row.values["id_number"]], row.values["identity"]) for row in unique})


def _ordered(county: Region, touched: set[tuple[str, str]]) -> None:
    """Each touched person's identities of one kind in order of their 认定日期: one that has no
    end, or ends on or after the next one's start, ends the day before the next begins."""
    if not touched:
        return
    indexes = sorted({index for index, _kind in touched})
    histories: dict[tuple[str, str], list[PersonIdentity]] = defaultdict(list)
    for start in range(0, len(indexes), CHUNK):
        for identity in PersonIdentity.objects.filter(
            county=county, id_number_index__in=indexes[start : start + CHUNK]
        ).order_by("start", "id"):
            if (identity.id_number_index, identity.kind) in touched:
                histories[(identity.id_number_index, identity.kind)].append(identity)
    ended: list[PersonIdentity] = []
    for history in histories.values():
        for earlier, later in zip(history, history[1:], strict=False):
            if earlier.end is None or earlier.end >= later.start:
                earlier.end = later.start - datetime.timedelta(days=1)
                earlier.updated_at = timezone.now()
                ended.append(earlier)
    PersonIdentity.objects.bulk_update(ended, ["end", "updated_at"], batch_size=WRITE_BATCH)


# --- what a person holds --------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """One identity as a page shows it."""

    label: str
    source: str
    start: datetime.date | None
    end: datetime.date | None
    since: str = ""  # the start in words when no day is recorded (2019年脱贫)

    def current_on(self, on: datetime.date) -> bool:
        return in_force(self.start, self.end, on)


def in_force(start: datetime.date | None, end: datetime.date | None, on: datetime.date) -> bool:
    """Whether an identity from `start` (None: no day recorded) to `end` (None: not ended)
    holds on `on`; `is_current` is the same rule as a filter."""
    return (start is None or start <= on) and (end is None or end >= on)


def is_current(on: datetime.date) -> Q:
    """The certified identities in force on `on` (`in_force`, in the database)."""
    return Q(start__lte=on) & (Q(end__isnull=True) | Q(end__gte=on))


def registry_source() -> str:
    return str(User.Department.AGRICULTURE.label) + _("（本系统）")


def held_by_members(
    household: Household, members: Sequence[Member], *, on: datetime.date
) -> dict[int, list[Held]]:
    """Every identity of each of `members` (of `household`), current and past, the registry's
    first: two queries (the certified ones, the household's monitoring objects)."""
    held: dict[int, list[Held]] = {member.pk: [] for member in members}
    source = registry_source()
    # The registry's identities are its present members': one who left holds them no more.
    present = [member for member in members if member.is_active]
    label = BY_STATUS.get(household.status)
    if label is not None:
        since = ""
        if household.status == Household.Status.EXITED and household.exit_year:
            since = _("%(year)s年脱贫") % {"year": household.exit_year}
        elif household.first_identified_year:
            since = _("%(year)s年识别") % {"year": household.first_identified_year}
        for member in present:
            held[member.pk].append(Held(str(label), source, None, None, since=since))
    objects = MonitoringObject.objects.filter(
        household=household, identified_on__isnull=False
    ).exclude(state=MonitoringObject.State.NOT_INCLUDED)
    for item in objects.order_by("identified_on", "id"):
        label = f"{MONITORED_LABEL}（{item.get_object_type_display()}）"
        for member in present:
            held[member.pk].append(Held(label, source, item.identified_on, item.eliminated_on))
    for identity in PersonIdentity.objects.filter(member__in=[m.pk for m in members]).order_by(
        "kind", "start", "id"
    ):
        member_id = identity.member_id
        assert member_id is not None  # filtered on member__in
        held[member_id].append(
            Held(
                identity.get_kind_display(),
                identity.get_department_display(),
                identity.start,
                identity.end,
            )
        )
    return held


def monitored_households(households: Iterable[int]) -> set[int]:
    """Which of `households` are monitoring objects now (监测中): one query."""
    return set(
        MonitoringObject.objects.filter(
            household__in=list(households), state=MonitoringObject.State.MONITORED
        ).values_list("household_id", flat=True)
    )


def registry_labels(status: str | None, *, monitored: bool) -> list[str]:
    """The registry's own identities of a member of a household of `status`: 脱贫人口 (已脱贫)
    and 防止返贫监测对象 (a current monitoring object)."""
    held = []
    label = BY_STATUS.get(status or "")
    if label is not None:
        held.append(str(label))
    if monitored:
        held.append(str(MONITORED_LABEL))
    return held


# --- the 低收入人口 page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """Where the registry and the certifying department disagree about one identity."""

    key: str
    label: Any
    kind: str
    flag: str  # the member's field that says it in the registry


CHECKS: tuple[Check, ...] = (
    Check(
        "dibao_not_marked",
        gettext_lazy("民政认定低保、登记未标注享受低保"),
        IdentityKind.DIBAO,
        "receives_dibao",
    ),
    Check(
        "dibao_not_certified",
        gettext_lazy("登记享受低保、民政无低保身份"),
        IdentityKind.DIBAO,
        "receives_dibao",
    ),
    Check(
        "tekun_not_marked",
        gettext_lazy("民政认定特困、登记未标注特困供养"),
        IdentityKind.TEKUN,
        "is_tekun",
    ),
    Check(
        "tekun_not_certified",
        gettext_lazy("登记特困供养、民政无特困身份"),
        IdentityKind.TEKUN,
        "is_tekun",
    ),
)
CHECKS_BY_KEY = {check.key: check for check in CHECKS}


def may_read(user: User) -> bool:
    """The 低收入人口 page: the village, township and county offices and the auditors (case
    roles with a region; a helper reads a household's identities on its page only)."""
    return roles.has_case_access(user) and user.role != User.Role.HELPER and user.region is not None


def sees_unregistered(user: User) -> bool:
    """A person the registry does not hold has no village: the county office and above read
    them."""
    region = user.region
    return region is not None and region.level in (
        Region.Level.COUNTY,
        Region.Level.CITY,
        Region.Level.PROVINCE,
    )


def identities_for(user: User) -> QuerySet[PersonIdentity]:
    """The certified identities the user may read: those of households in the user's area,
    and for the county office and above those of persons the registry does not hold."""
    if not may_read(user):
        return PersonIdentity.objects.none()
    assert user.region is not None
    scoped = Q(household__isnull=False) & roles.household_scope_q(user)
    if sees_unregistered(user):
        scoped |= Q(household__isnull=True, county__path__startswith=user.region.path)
    return PersonIdentity.objects.filter(scoped)


def members_for(user: User) -> QuerySet[Member]:
    return Member.objects.filter(roles.member_scope_q(user, Member), is_active=True)


def has_lists(user: User) -> bool:
    """Whether a 身份共享 list has been taken in the user's county, or in a county below the
    user's city or province (the checks that read "民政 does not certify" mean nothing before
    one)."""
    region = user.region
    if region is None:
        return False
    above = [node.pk for node in region.ancestors(include_self=True)]
    return DepartmentList.objects.filter(
        Q(county__in=above) | Q(county__path__startswith=region.path),
        purpose=DepartmentList.Purpose.IDENTITY,
        state=DepartmentList.State.DONE,
    ).exists()


@dataclass
class Person:
    """One row of the 低收入人口 page."""

    name: str
    id_number: str  # raw: the page masks it
    household: Household | None
    certified: list[PersonIdentity]
    registry: list[str]


def people(
    user: User, *, on: datetime.date, kind: str = "", check: str = ""
) -> tuple[QuerySet[Any], str]:
    """The persons the page lists, as a queryset of their keys (for the paginator), and what a
    key is ("identity": an ID number's blind index among the certified identities; "member": a
    member's id, for the checks that find a registry mark 民政 does not certify)."""
    found = CHECKS_BY_KEY.get(check)
    current = identities_for(user).filter(is_current(on))
    if found is not None and found.key.endswith("_not_certified"):
        certified = current.filter(kind=found.kind, member=OuterRef("pk"))
        members = (
            members_for(user)
            .filter(**{found.flag: True})
            .exclude(Exists(certified))
            .order_by("household__number", "id")
            .values_list("pk", flat=True)
        )
        return members, "member"
    if kind in IdentityKind.values:
        current = current.filter(kind=kind)
    if found is not None:
        current = current.filter(kind=found.kind, member__isnull=False).exclude(
            **{f"member__{found.flag}": True}
        )
    keys = (
        current.values("id_number_index")
        .annotate(
            unregistered=Min(Case(When(household__isnull=True, then=1), default=0)),
            first_name=Min("name"),
        )
        .order_by("unregistered", "first_name", "id_number_index")
        .values_list("id_number_index", flat=True)
    )
    return keys, "identity"


def rows_for(user: User, keys: Iterable[Any], key_kind: str, *, on: datetime.date) -> list[Person]:
    """The page's rows for one page of keys: each person with every current certified
    identity and the registry's (脱贫人口, 监测对象), in a fixed number of queries."""
    keys = list(keys)
    persons: list[Person] = []
    current = identities_for(user).filter(is_current(on)).select_related("household__village")
    if key_kind == "member":
        members = (
            Member.objects.filter(pk__in=keys)
            .select_related("household__village")
            .order_by("household__number", "id")
        )
        by_member: dict[int, list[PersonIdentity]] = defaultdict(list)
        for identity in current.filter(member__in=keys):
            if identity.member_id is not None:  # filtered on member__in
                by_member[identity.member_id].append(identity)
        for member in members:
            persons.append(
                Person(
                    member.name,
                    member.id_number,
                    member.household,
                    by_member.get(member.pk, []),
                    [],
                )
            )
    else:
        by_key: dict[str, list[PersonIdentity]] = defaultdict(list)
        for identity in current.filter(id_number_index__in=keys).order_by("kind", "start"):
            by_key[identity.id_number_index].append(identity)
        for key in keys:
            held = by_key.get(key)
            if not held:
                continue
            first = held[0]
            persons.append(Person(first.name, first.id_number, first.household, held, []))
    name_heads(person.household for person in persons)
    monitored = monitored_households(
        person.household.pk for person in persons if person.household is not None
    )
    for person in persons:
        household = person.household
        if household is not None:
            person.registry = registry_labels(household.status, monitored=household.pk in monitored)
    return persons


def counts(user: User, *, on: datetime.date) -> dict[str, Any]:
    """The page's figures, over the user's area: persons holding each certified identity now,
    persons holding two or more (the registry's counted too), and each check's count."""
    current = identities_for(user).filter(is_current(on))
    by_kind = dict(
        current.values("kind")
        .annotate(persons=Count("id_number_index", distinct=True))
        .values_list("kind", "persons")
    )
    persons = current.values("id_number_index").distinct().count()
    unregistered = current.filter(member__isnull=True).values("id_number_index").distinct().count()
    several_certified = (
        current.values("id_number_index")
        .annotate(kinds=Count("kind", distinct=True))
        .filter(kinds__gte=2)
        .count()
    )
    monitored = MonitoringObject.objects.filter(
        household=OuterRef("household"), state=MonitoringObject.State.MONITORED
    )
    with_registry = (
        current.filter(member__isnull=False)
        .filter(Q(household__status__in=list(BY_STATUS)) | Q(Exists(monitored)))
        .values("id_number_index")
        .distinct()
        .count()
    )
    checks = {}
    for check in CHECKS:
        keys, _kind = people(user, on=on, check=check.key)
        checks[check.key] = keys.count()
    return {
        "by_kind": [(kind, label, by_kind.get(kind, 0)) for kind, label in IdentityKind.choices],
        "persons": persons,
        "unregistered": unregistered,
        "several_certified": several_certified,
        "with_registry": with_registry,
        "checks": [(check.key, check.label, checks[check.key]) for check in CHECKS],
    }


# --- what a 身份共享 list gives back --------------------------------------------------------


def list_rows(department_list: DepartmentList) -> QuerySet[IdentityRow]:
    return (
        IdentityRow.objects.filter(department_list=department_list)
        .select_related("identity__household__village")
        .order_by("row", "id")
    )


def registry_words(household: Household | None, *, monitored: set[int]) -> str:
    """What the registry holds of a person's household, in words for the department: 脱贫人口,
    防止返贫监测对象, or nothing."""
    if household is None:
        return ""
    held = registry_labels(household.status, monitored=household.pk in monitored)
    if not held:
        return ""
    return _("本系统：%(held)s") % {"held": "、".join(held)}


def list_results(department_list: DepartmentList) -> list[dict[str, Any]]:
    """A 身份共享 list's rows as the department reads them back (the shape of
    `inbox.department_results`): each row's identity as recorded, whether the person is in the
    registry, what the row did (新增, 已更新, 无变化) and what the registry holds of the person
    (脱贫人口, 防止返贫监测对象): the data going back the other way."""
    rows = list(list_rows(department_list))
    monitored = monitored_households(
        row.identity.household_id for row in rows if row.identity.household_id
    )
    day = timezone.localtime(department_list.uploaded_at).date()
    results = []
    for row in rows:
        identity = row.identity
        household = identity.household
        results.append(
            {
                "row": row.row,
                "name": identity.name,
                "id_number": identity.id_number,
                "village": household.village.name if household is not None else "",
                "match": _("已匹配") if identity.member_id else _("未在本系统登记"),
                "result": row.outcome,
                "result_label": row.get_outcome_display(),
                "reason": registry_words(household, monitored=monitored),
                "date": day,
                "details": {
                    "_columns": [_("身份类别"), _("认定日期"), _("终止日期")],
                    _("身份类别"): identity.get_kind_display(),
                    _("认定日期"): identity.start.isoformat(),
                    _("终止日期"): identity.end.isoformat() if identity.end else "",
                },
            }
        )
    return results


def list_counts(lists: Iterable[DepartmentList]) -> dict[int, dict[str, int]]:
    """Per 身份共享 list: its rows recorded, matched, not in the registry, and by outcome."""
    wanted = [item.pk for item in lists if item.purpose == DepartmentList.Purpose.IDENTITY]
    counts: dict[int, dict[str, int]] = {}
    for row in (
        IdentityRow.objects.filter(department_list__in=wanted)
        .values("department_list")
        .annotate(
            total=Count("id"),
            unmatched=Count("id", filter=Q(identity__member__isnull=True)),
            created=Count("id", filter=Q(outcome=IdentityRow.Outcome.CREATED)),
            updated=Count("id", filter=Q(outcome=IdentityRow.Outcome.UPDATED)),
            unchanged=Count("id", filter=Q(outcome=IdentityRow.Outcome.UNCHANGED)),
        )
    ):
        counts[row["department_list"]] = {
            "total": row["total"],
            "matched": row["total"] - row["unmatched"],
            "unmatched": row["unmatched"],
            "created": row["created"],
            "updated": row["updated"],
            "unchanged": row["unchanged"],
        }
    return counts
