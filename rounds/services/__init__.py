"""Dynamic-adjustment rounds (动态调整): open (freeze the baseline), propose, review, approve,
close.

The county office opens a round for a year; opening freezes the registry as it stood into
`RoundBaseline` (one row per household: status, persons, village, main cause; their sums per
village, status and cause into `RoundBaselineGroup`) and each village's 户籍农业人口 into
`RoundVillage`, all written set-based (INSERT ... SELECT). Villages propose the
四类名单 (新识别纳入, 剔除, 返贫, 标注脱贫) one by one or as a workbook; townships review; the
county approves, which applies the change as an event tagged with the round (through
`household_change_status`, or, for 新识别纳入 and 标注脱贫, through the identification/exit
procedure of `households.workflows`, whose last step records the event in the open round).
Closing locks the round: `household_change_status` refuses a closed round, and the figures read
only the baseline and the round's events (`rounds.figures`).

While a village has changes waiting for the county's decision, its households may not be edited
(`household_edit_check`), so the county decides on the data the township reviewed.
"""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Household, HouseholdEvent, Member, ValueList
from households.selectors import province_of, value_lists
from povertyapp import jobs, roles, uploads
from povertyapp.models import Job, Region, User, VillageYear, path_prefixes
from rounds.models import (
    AdjustmentRound,
    RoundBaseline,
    RoundBaselineGroup,
    RoundChange,
    RoundVillage,
    default_round_name,
)

Kind = RoundChange.Kind
State = RoundChange.State
# Which registry change each list makes: (event kind, statuses it applies to, status after).
TRANSITIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    Kind.IDENTIFIED: (
        HouseholdEvent.Kind.IDENTIFIED,
        (Household.Status.NON_REGISTERED, Household.Status.REMOVED),
        Household.Status.POOR,
    ),
    Kind.REMOVED: (
        HouseholdEvent.Kind.REMOVED,
        Household.REGISTERED_STATUSES,
        Household.Status.REMOVED,
    ),
    Kind.RETURNED: (
        HouseholdEvent.Kind.RETURNED,
        (Household.Status.EXITED,),
        Household.Status.RETURNED,
    ),
    Kind.EXITED: (HouseholdEvent.Kind.EXITED, Household.POOR_STATUSES, Household.Status.EXITED),
}
# The lists that go through a procedure of `households.workflows` (两公示一公告, exit procedure).
WORKFLOW_KINDS: dict[str, str] = {Kind.IDENTIFIED: "identification", Kind.EXITED: "exit"}
WORKBOOK_COLUMNS = ("户编号", "户主姓名", "人数", "理由")
HEAD = "户主"


# --- reads ------------------------------------------------------------------------------------


def round_list(*, user: User) -> QuerySet[AdjustmentRound]:
    """Rounds of the counties the user works in (above or below the user's region)."""
    if not roles.has_case_access(user) or user.region is None:
        return AdjustmentRound.objects.none()
    prefixes = [node.path for node in user.region.ancestors(include_self=True)]
    return (
        AdjustmentRound.objects.filter(
            Q(county__path__in=prefixes) | Q(county__path__startswith=user.region.path)
        )
        .select_related("county", "opened_by", "closed_by")
        .order_by("county__code", "-year")
    )


def round_get_for_user(*, user: User, round_id: int) -> AdjustmentRound:
    try:
        return round_list(user=user).get(pk=round_id)
    except (AdjustmentRound.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该动态调整批次，或您无权查看。")) from None


def round_open_for(region: Region) -> AdjustmentRound | None:
    """The open round of the county a region belongs to (one query, by the region's path)."""
    return AdjustmentRound.objects.filter(
        county__path__in=path_prefixes(region.path), status=AdjustmentRound.Status.OPEN
    ).first()


def change_list(*, user: User, round: AdjustmentRound) -> QuerySet[RoundChange]:
    """The round's changes in the user's area scope."""
    if not roles.has_case_access(user) or user.region is None:
        return RoundChange.objects.none()
    return (
        RoundChange.objects.filter(round=round, village__path__startswith=user.region.path)
        .select_related(
            "household", "village", "village__parent", "proposed_by", "reviewed_by", "decided_by"
        )
        .order_by("village__code", "kind", "id")
    )


def change_get_for_user(*, user: User, change_id: int) -> RoundChange:
    change = (
        RoundChange.objects.filter(pk=change_id).select_related("round", "village").first()
        if str(change_id).isdigit()
        else None
    )
    if change is None or not roles.region_in_scope(user, change.village):
        raise Http404(_("未找到该名单记录，或您无权查看。"))
    return change


# The annotation of `round_list_events` naming the village a list event counts in.
LIST_VILLAGE = "list_village_id"


def round_list_events(
    *, round: AdjustmentRound, path_prefix: str | None = None
) -> QuerySet[HouseholdEvent]:
    """What changed in the round's 四类名单, as the registry recorded it: for each household and
    list (新识别纳入, 剔除, 返贫, 标注脱贫), its last event of that list's kind tagged with the
    round, whatever path made it (a list line approved by the county, a procedure completed
    during the round, the API). The one source of "what changed in this round": the figures
    count the same events (`rounds.figures`, in SQL: `MAX` per household and kind), the
    round page's summary and the 四类名单 ledger list these, and the consistency check compares
    them. Each event carries `list_village_id`, the region it counts in: the household's village
    at baseline, or its village for a household registered after opening (as the figures)."""
    later = (
        HouseholdEvent.objects.filter(
            round_id=OuterRef("round_id"),
            household_id=OuterRef("household_id"),
            kind=OuterRef("kind"),
            id__gt=OuterRef("id"),
        )
        .exclude(to_status="")
        .values("id")
    )
    baseline_village = RoundBaseline.objects.filter(
        round_id=OuterRef("round_id"), household_id=OuterRef("household_id")
    ).values("village_id")[:1]
    events = (
        HouseholdEvent.objects.filter(round=round, kind__in=RoundChange.STATUS_KINDS)
        .exclude(to_status="")
        .filter(~Exists(later))
        .annotate(
            list_village_id=Coalesce(
                Subquery(baseline_village),
                F("household__village_id"),
                output_field=BigIntegerField(),
            )
        )
    )
    if path_prefix is not None:
        events = events.filter(
            Q(
                list_village_id__in=Region.objects.filter(
                    path__startswith=path_prefix, level=Region.Level.VILLAGE
                ).values("id")
            )
        )
    return events


def _statuses_after_round(round_id: int, wanted: set[int]) -> dict[int, dict[str, list[int]]]:
    """Households and persons per village and status after the round, from the baseline's own
    rows (not their sums) and each household's last status-bearing event of the round: every
    baseline household under its last event's status and persons, or its baseline ones;
    households registered after opening with an event in the round in their village."""
    result: dict[int, dict[str, list[int]]] = defaultdict(dict)

    def add(village_id: int, status: str, households: int, persons: int) -> None:
        if village_id in wanted:
            slot = result[village_id].setdefault(status, [0, 0])
            slot[0] += households
            slot[1] += persons

    for row in (
        RoundBaseline.objects.filter(round_id=round_id)
        .values("village_id", "status")
        .annotate(households=Count("id"), persons=Sum("persons"))
        .order_by()
    ):
        add(row["village_id"], row["status"], row["households"], row["persons"] or 0)
    later = HouseholdEvent.objects.filter(
        round_id=round_id, household_id=OuterRef("household_id"), id__gt=OuterRef("id")
    ).exclude(to_status="")
    after = {
        household_id: (status, persons)
        for household_id, status, persons in HouseholdEvent.objects.filter(round_id=round_id)
        .exclude(to_status="")
        .filter(~Exists(later))
        .values_list("household_id", "to_status", "persons")
    }
    before = {
        household_id: (village_id, status, persons)
        for household_id, village_id, status, persons in RoundBaseline.objects.filter(
            round_id=round_id, household_id__in=list(after)
        ).values_list("household_id", "village_id", "status", "persons")
    }
    villages = dict(
        Household.objects.filter(pk__in=[key for key in after if key not in before]).values_list(
            "pk", "village_id"
        )
    )
    for household_id, (status, persons) in after.items():
        if household_id in before:
            village_id, baseline_status, baseline_persons = before[household_id]
            add(village_id, baseline_status, -1, -baseline_persons)
        else:
            village_id = villages[household_id]
        add(village_id, status, 1, persons)
    return result


def round_lists_by_village(*, round_id: int, village_ids: Iterable[int]) -> dict[int, Any]:
    """Households and persons of each list of the round per village, counted from the lists
    themselves (not from the figures' aggregates), for the consistency check of the rates job
    (`rounds.figures.consistency_differences`, registered in `HouseholdsConfig.ready`):

    * ``removed``, ``identified``, ``returned``, ``exited``: the round's list events
      (`round_list_events`), persons as recorded on each event;
    * ``poor``: the households 未脱贫 or 返贫 after the round (`_statuses_after_round`: each
      baseline household's own row under its last event of the round).

    Returns ``{village_id: {list: [households, persons]}}``."""
    wanted = set(village_ids)
    result: dict[int, dict[str, list[int]]] = defaultdict(
        lambda: {key: [0, 0] for key in ("removed", "identified", "returned", "exited", "poor")}
    )
    listed = (
        round_list_events(round=AdjustmentRound(pk=round_id))
        .values(LIST_VILLAGE, "kind")
        .annotate(households=Count("household", distinct=True), persons=Sum("persons"))
        .order_by()
    )
    for row in listed:
        if row[LIST_VILLAGE] in wanted:
            slot = result[row[LIST_VILLAGE]][row["kind"]]
            slot[0] += row["households"]
            slot[1] += row["persons"] or 0
    for village_id, statuses in _statuses_after_round(round_id, wanted).items():
        slot = result[village_id]["poor"]
        for status in Household.POOR_STATUSES:
            households, persons = statuses.get(status, [0, 0])
            slot[0] += households
            slot[1] += persons
    return dict(result)


def round_figures_rederive(*, round: AdjustmentRound) -> dict[int, dict[str, Any]]:
    """A round's figures re-derived per village from its frozen baseline (the households' own
    rows), its frozen population and its events, independently of the rates job's SQL: for
    `check_round_figures`, which compares them with the stored snapshots. Per village:
    ``rural_population``, ``registered_persons``, ``exited_persons``, ``poor_persons_baseline``,
    the lists (``removed``, ``identified``, ``returned``, ``exited``, ``poor``: [households,
    persons]) and ``status_counts`` after the round ({status: [households, persons]})."""
    villages = dict(
        RoundVillage.objects.filter(round=round).values_list("village_id", "rural_population")
    )
    wanted = set(
        Region.objects.filter(
            path__startswith=round.county.path, level=Region.Level.VILLAGE
        ).values_list("id", flat=True)
    )
    result: dict[int, dict[str, Any]] = {}

    def village(village_id: int) -> dict[str, Any]:
        return result.setdefault(
            village_id,
            {
                "rural_population": villages.get(village_id, 0),
                "registered_persons": 0,
                "exited_persons": 0,
                "poor_persons_baseline": 0,
                "lists": {},
                "status_counts": {},
            },
        )

    for village_id in villages:
        if village_id in wanted:
            village(village_id)
    for village_id, status, persons in (
        RoundBaseline.objects.filter(round=round)
        .values("village_id", "status")
        .annotate(persons=Sum("persons"))
        .order_by()
        .values_list("village_id", "status", "persons")
    ):
        entry = village(village_id)
        if status in Household.REGISTERED_STATUSES:
            entry["registered_persons"] += persons or 0
        if status == Household.Status.EXITED:
            entry["exited_persons"] += persons or 0
        if status in Household.POOR_STATUSES:
            entry["poor_persons_baseline"] += persons or 0
    for village_id, lists in round_lists_by_village(round_id=round.pk, village_ids=wanted).items():
        village(village_id)["lists"] = lists
    for village_id, statuses in _statuses_after_round(round.pk, wanted).items():
        village(village_id)["status_counts"] = {
            status: counts for status, counts in statuses.items() if counts[0]
        }
    return result


def round_list_events_for_user(
    *, user: User, round: AdjustmentRound, region: Region | None = None
) -> QuerySet[HouseholdEvent]:
    """`round_list_events` in the user's area scope (and within `region` when given)."""
    if not roles.has_case_access(user) or user.region is None:
        return HouseholdEvent.objects.none()
    path = user.region.path
    if region is not None and region.path.startswith(path):
        path = region.path
    elif region is not None and not path.startswith(region.path):
        return HouseholdEvent.objects.none()
    return round_list_events(round=round, path_prefix=path)


def list_counts(*, user: User, round: AdjustmentRound) -> dict[str, Any]:
    """The 四类名单 with households and persons per list, per village and per township, in the
    user's scope. Pending lines are counted apart. Done: for the four status lists, the round's
    list events (`round_list_events`: approved lines and procedures completed in the round
    alike, persons as the figures count them); for 自然增减 and 信息更正, the approved lines."""
    change_rows = (
        change_list(user=user, round=round)
        .exclude(state__in=[State.REJECTED, State.WITHDRAWN])
        .exclude(state=State.APPROVED, kind__in=RoundChange.STATUS_KINDS)
        .values("village_id", "kind", "state")
        .annotate(households=Count("household", distinct=True), persons=Sum("persons"))
        .order_by()
    )
    event_rows = (
        round_list_events_for_user(user=user, round=round)
        .values(LIST_VILLAGE, "kind")
        .annotate(households=Count("household", distinct=True), persons=Sum("persons"))
        .order_by()
    )
    rows: list[dict[str, Any]] = [dict(row) for row in change_rows]
    rows += [
        {**row, "village_id": row["list_village_id"], "state": State.APPROVED} for row in event_rows
    ]
    places = {
        region.pk: region
        for region in Region.objects.filter(
            pk__in={row["village_id"] for row in rows}
        ).select_related("parent")
    }
    empty = {
        kind: {"households": 0, "persons": 0, "pending_households": 0, "pending_persons": 0}
        for kind in Kind.values
    }
    villages: dict[int, dict[str, Any]] = {}
    townships: dict[int, dict[str, Any]] = {}
    total = {kind: dict(values) for kind, values in empty.items()}
    for row in rows:
        village = places[row["village_id"]]
        # A village always has its township: the parent is never null here.
        township = cast(Region, village.parent)
        for bucket, key, name, parent in (
            (villages, village.pk, village.name, township.name),
            (townships, township.pk, township.name, ""),
        ):
            entry = bucket.setdefault(
                key,
                {
                    "name": name,
                    "parent": parent,
                    "lists": {kind: dict(values) for kind, values in empty.items()},
                },
            )
            _count_into(entry["lists"][row["kind"]], row)
        _count_into(total[row["kind"]], row)
    return {
        "villages": sorted(villages.values(), key=lambda item: (item["parent"], item["name"])),
        "townships": sorted(townships.values(), key=lambda item: item["name"]),
        "total": total,
        "kinds": [(kind, label) for kind, label in Kind.choices],
    }


def _count_into(slot: dict[str, int], row: Mapping[str, Any]) -> None:
    if row["state"] == State.APPROVED:
        slot["households"] += row["households"]
        slot["persons"] += row["persons"] or 0
    else:
        slot["pending_households"] += row["households"]
        slot["pending_persons"] += row["persons"] or 0


def village_under_approval(village: Region) -> AdjustmentRound | None:
    """The open round in which the village's data waits for the county's decision (if any)."""
    change = (
        RoundChange.objects.filter(
            village=village, state=State.REVIEWED, round__status=AdjustmentRound.Status.OPEN
        )
        .select_related("round")
        .first()
    )
    return change.round if change else None


def household_edit_check(*, household: Household) -> None:
    """Refuse an edit of a household while its village's round data is being approved by the
    county. The registry services call this before changing a household or its members
    (not when applying a round change itself)."""
    round = village_under_approval(household.village)
    if round is not None:
        raise ValidationError(
            _(
                "%(village)s的动态调整名单（%(round)s）正在县级审定中，暂停修改农户信息。"
                "审定或退回后方可修改。"
            ),
            code="round_under_approval",
            params={"village": household.village.name, "round": round.display_name},
        )


# --- opening and closing ----------------------------------------------------------------------


def _require_county_officer(actor: User, county: Region) -> None:
    if not roles.can_configure(actor):
        raise PermissionDenied(_("只有县扶贫办可以开启、审定或关闭动态调整批次。"))
    if not roles.region_in_scope(actor, county):
        raise PermissionDenied(_("该县不在您的管辖范围内。"))


@transaction.atomic
def round_open(
    *,
    actor: User,
    county: Region,
    year: int,
    name: str = "",
    opened_at: datetime.datetime | None = None,
) -> AdjustmentRound:
    """Open the county's round for a year and freeze its baseline (set-based, in one
    transaction). Every village of the county needs its 户籍农业人口 for the year first."""
    _require_county_officer(actor, county)
    if county.level != Region.Level.COUNTY:
        raise ValidationError(_("动态调整批次只能按县开启。"), code="not_a_county")
    open_round = AdjustmentRound.objects.filter(
        county=county, status=AdjustmentRound.Status.OPEN
    ).first()
    if open_round is not None:
        raise ValidationError(
            _("%(county)s已有进行中的动态调整批次（%(round)s），请先关闭。"),
            code="round_open",
            params={"county": county.name, "round": open_round.display_name},
        )
    if AdjustmentRound.objects.filter(county=county, year=year).exists():
        raise ValidationError(
            _("%(county)s%(year)s年度的动态调整批次已存在。"),
            code="round_year_exists",
            params={"county": county.name, "year": year},
        )
    villages = Region.objects.filter(path__startswith=county.path, level=Region.Level.VILLAGE)
    missing = list(
        villages.exclude(yearly__year=year).order_by("code").values_list("name", flat=True)
    )
    if missing:
        shown = "、".join(missing[:10]) + (_("等") if len(missing) > 10 else "")
        raise ValidationError(
            _("以下%(count)d个行政村尚未填写%(year)s年度户籍农业人口，无法冻结基期：%(names)s。"),
            code="population_missing",
            params={"count": len(missing), "year": year, "names": shown},
        )
    round = AdjustmentRound(
        county=county,
        year=year,
        name=name or default_round_name(year),
        opened_at=opened_at or timezone.now(),
        opened_by=actor,
    )
    round.full_clean(validate_constraints=False)
    round.save()
    baseline_freeze(round)
    _enqueue_rates(actor, round)
    return round


def baseline_freeze(round: AdjustmentRound) -> int:
    """Write the round's baseline (its households, their sums per village, status and main
    cause, and the villages' population) with three INSERT ... SELECT statements, in the
    caller's transaction. Returns households."""
    like = round.county.path + "%"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {RoundBaseline._meta.db_table}
                    (round_id, household_id, village_id, status, persons, main_cause)
                SELECT %s, h.id, h.village_id, h.status, COALESCE(m.persons, 0), h.main_cause
                FROM {Household._meta.db_table} h
                JOIN {Region._meta.db_table} v ON v.id = h.village_id
                LEFT JOIN (
                    SELECT mm.household_id, COUNT(*) AS persons
                    FROM {Member._meta.db_table} mm
                    JOIN {Household._meta.db_table} hh ON hh.id = mm.household_id
                    JOIN {Region._meta.db_table} vv ON vv.id = hh.village_id
                    WHERE mm.is_active = %s AND vv.path LIKE %s
                    GROUP BY mm.household_id
                ) m ON m.household_id = h.id
                WHERE v.path LIKE %s""",
            [round.pk, True, like, like],
        )
        households = cursor.rowcount
        # The same rows summed per village, status and main cause: what the figures read
        # instead of every baseline household (rounds.figures.round_counts_by_village).
        cursor.execute(
            f"""INSERT INTO {RoundBaselineGroup._meta.db_table}
                    (round_id, village_id, status, main_cause, households, persons)
                SELECT b.round_id, b.village_id, b.status, b.main_cause, COUNT(*), SUM(b.persons)
                FROM {RoundBaseline._meta.db_table} b
                WHERE b.round_id = %s
                GROUP BY b.round_id, b.village_id, b.status, b.main_cause""",
            [round.pk],
        )
        cursor.execute(
            f"""INSERT INTO {RoundVillage._meta.db_table}
                    (round_id, village_id, rural_population)
                SELECT %s, y.village_id, y.registered_rural_population
                FROM {VillageYear._meta.db_table} y
                JOIN {Region._meta.db_table} v ON v.id = y.village_id
                WHERE y.year = %s AND v.path LIKE %s""",
            [round.pk, round.year, like],
        )
    return households


@transaction.atomic
def round_close(*, actor: User, round: AdjustmentRound) -> AdjustmentRound:
    """Close the round: refused while changes wait for a decision. Its figures are then final."""
    locked = AdjustmentRound.objects.select_for_update().select_related("county").get(pk=round.pk)
    _require_county_officer(actor, locked.county)
    if locked.status != AdjustmentRound.Status.OPEN:
        raise ValidationError(_("该动态调整批次已关闭。"), code="round_closed")
    pending = dict(
        locked.changes.filter(state__in=RoundChange.PENDING_STATES)
        .values_list("state")
        .annotate(count=Count("id"))
        .order_by()
    )
    if pending:
        raise ValidationError(
            _("尚有%(proposed)d条名单待乡镇审核、%(reviewed)d条待县级审定，请处理后再关闭批次。"),
            code="changes_pending",
            params={
                "proposed": pending.get(State.PROPOSED, 0),
                "reviewed": pending.get(State.REVIEWED, 0),
            },
        )
    open_workflows = _open_workflows(locked)
    if open_workflows:
        raise ValidationError(
            _("尚有%(count)d户的识别或退出程序在本批次中未办结，请办结或终止后再关闭批次。"),
            code="workflows_open",
            params={"count": open_workflows},
        )
    locked.status = AdjustmentRound.Status.CLOSED
    locked.closed_at = timezone.now()
    locked.closed_by = actor
    locked.save(update_fields=["status", "closed_at", "closed_by"])
    _enqueue_rates(actor, locked)
    return locked


def _open_workflows(round: AdjustmentRound) -> int:
    try:
        from households.models import CaseWorkflow
    except ImportError:  # pragma: no cover - procedures are part of the registry
        return 0
    return CaseWorkflow.objects.filter(round=round, state=CaseWorkflow.State.OPEN).count()


def _enqueue_rates(actor: User, round: AdjustmentRound) -> None:
    from rounds import rates

    rates.rates_enqueue(user=actor, round=round, region=round.county)


# --- proposals --------------------------------------------------------------------------------


def _head_name(household: Household) -> str:
    head = household.members.filter(is_active=True, relation=HEAD).values_list("name", flat=True)
    return head.first() or ""


def _persons(household: Household) -> int:
    return household.members.filter(is_active=True).count()


def _removal_ground(reason: str, grounds: list[str]) -> str:
    """The listed ground a removal reason starts with ("购买3万元以上车辆：2019年购车")."""
    for ground in sorted(grounds, key=len, reverse=True):
        if reason.startswith(ground):
            return ground
    return ""


def _proposal_errors(
    *,
    actor: User,
    round: AdjustmentRound,
    household: Household | None,
    kind: str,
    persons: Any,
    head_name: str,
    reason: str,
    ground: str,
    grounds: list[str],
) -> tuple[list[str], str]:
    """Everything wrong with one proposed line, as Chinese sentences; and the removal ground."""
    errors: list[str] = []
    if kind not in RoundChange.STATUS_KINDS:
        return [_("名单类型“%(kind)s”无效。") % {"kind": kind}], ""
    if household is None:
        return [_("户编号不存在，或该户不在您的管辖范围内。")], ""
    if not household.village.path.startswith(round.county.path):
        errors.append(_("该户不属于%(county)s。") % {"county": round.county.name})
    _event_kind, from_statuses, _to = TRANSITIONS[kind]
    if household.status not in from_statuses:
        errors.append(
            _("该户当前状态为“%(status)s”，不能列入“%(list)s”名单。")
            % {"status": household.get_status_display(), "list": Kind(kind).label}
        )
    actual_head = _head_name(household)
    if (head_name or "").strip() != actual_head:
        errors.append(
            _("户主姓名“%(given)s”与系统中的户主“%(actual)s”不一致。")
            % {"given": head_name or "", "actual": actual_head or "—"}
        )
    actual_persons = _persons(household)
    try:
        persons_value = int(persons)
    except (TypeError, ValueError):
        errors.append(_("人数应为整数。"))
    else:
        if persons_value != actual_persons:
            errors.append(
                _("人数%(given)s与系统中的在户人数%(actual)d不一致，请先办理自然增减。")
                % {"given": persons_value, "actual": actual_persons}
            )
    if not (reason or "").strip():
        errors.append(_("请填写理由。"))
    if kind == Kind.REMOVED and reason:
        ground = ground or _removal_ground(reason.strip(), grounds)
        if ground not in grounds:
            errors.append(
                _("剔除理由须以代码表中的一项开头（%(grounds)s）。")
                % {"grounds": "、".join(grounds)}
            )
    if kind == Kind.IDENTIFIED and not household.main_cause:
        errors.append(_("新识别纳入前须填写主要致贫原因。"))
    if kind == Kind.EXITED and household.first_identified_year == round.year:
        errors.append(_("当年新识别的贫困户不能当年标注脱贫。"))
    if RoundChange.objects.filter(
        round=round,
        household=household,
        state__in=RoundChange.PENDING_STATES,
        kind__in=RoundChange.STATUS_KINDS,
    ).exists():
        errors.append(_("该户在本批次已有待审核的名单。"))
    return errors, ground


def _require_proposer(actor: User, round: AdjustmentRound) -> None:
    if not roles.can_write_households(actor):
        raise PermissionDenied(_("您的角色不能提出动态调整名单。"))
    if round.status != AdjustmentRound.Status.OPEN:
        raise ValidationError(_("该动态调整批次已关闭，不能再提出名单。"), code="round_closed")


def _grounds(round: AdjustmentRound) -> list[str]:
    lists = value_lists(year=round.year, province=province_of(round.county))
    return lists.get(ValueList.REMOVAL_GROUND, [])


def _scoped_household(
    actor: User, household_id: int | None = None, number: str | None = None
) -> Household | None:
    queryset = roles.household_scope(actor, Household.objects.select_related("village"))
    if household_id is not None:
        return queryset.filter(pk=household_id).first()
    return queryset.filter(number=(number or "").strip()).first()


def _create_change(
    *,
    actor: User,
    round: AdjustmentRound,
    household: Household,
    kind: str,
    persons: int | str,
    head_name: str,
    reason: str,
    ground: str,
    source: str,
) -> RoundChange:
    change = RoundChange(
        round=round,
        household=household,
        village=household.village,
        kind=kind,
        persons=int(persons),
        head_name=head_name.strip(),
        reason=reason.strip(),
        ground=ground,
        source=source,
        proposed_by=actor,
        proposed_at=timezone.now(),
    )
    change.full_clean(validate_constraints=False)
    change.save()
    _start_workflow(actor, change)
    return change


def _start_workflow(actor: User, change: RoundChange) -> None:
    """新识别纳入 and 标注脱贫 go through their procedure: the proposal opens it (unless one is
    already open or done in this round), so the township and county decide on a case that had
    its 民主评议 and 公示."""
    from households import services

    procedure = WORKFLOW_KINDS.get(change.kind)
    start = getattr(services, "workflow_start", None)
    if procedure is None or start is None:
        return
    from households.models import CaseWorkflow

    if (
        CaseWorkflow.objects.filter(household=change.household, kind=procedure)
        .filter(
            Q(state=CaseWorkflow.State.OPEN) | Q(round=change.round, state=CaseWorkflow.State.DONE)
        )
        .exists()
    ):
        return
    start(actor=actor, household=change.household, kind=procedure, opinion=change.reason)


@transaction.atomic
def change_propose(
    *,
    actor: User,
    round: AdjustmentRound,
    household: Household,
    kind: str,
    persons: int | str,
    head_name: str,
    reason: str,
    ground: str = "",
) -> RoundChange:
    """A village proposes one line of the 四类名单. `persons` may be the text of a form field:
    it is checked (a whole number equal to the household's size) before anything is written."""
    _require_proposer(actor, round)
    scoped = _scoped_household(actor, household_id=household.pk)
    errors, ground = _proposal_errors(
        actor=actor,
        round=round,
        household=scoped,
        kind=kind,
        persons=persons,
        head_name=head_name,
        reason=reason,
        ground=ground,
        grounds=_grounds(round),
    )
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_change") for error in errors])
    assert scoped is not None
    return _create_change(
        actor=actor,
        round=round,
        household=scoped,
        kind=kind,
        persons=persons,
        head_name=head_name,
        reason=reason,
        ground=ground,
        source="form",
    )


def _sheet_names() -> dict[str, str]:
    """The workbook's sheet names: the lists' official Chinese names whatever the user's
    language, so that a template downloaded in English mode imports anywhere."""
    with translation.override(settings.LANGUAGE_CODE):
        return {kind: str(Kind(kind).label) for kind in RoundChange.STATUS_KINDS}


def changes_template() -> bytes:
    """An empty 四类名单 workbook: one sheet per list with the four columns."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for label in _sheet_names().values():
        sheet = workbook.create_sheet(label)
        sheet.append(list(WORKBOOK_COLUMNS))
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 12
        sheet.column_dimensions["D"].width = 48
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@transaction.atomic
def changes_import(
    *, actor: User, round: AdjustmentRound, file: IO[bytes], max_rows: int | None = None
) -> list[RoundChange]:
    """Import a 四类名单 workbook (sheets 新识别纳入/剔除/返贫/标注脱贫; columns 户编号, 户主姓名,
    人数, 理由). All or nothing: every row is checked first, and any error (listed per sheet and
    row, in Chinese) rejects the whole file. In a request (`max_rows` None) at most
    UPLOAD_INLINE_MAX_ROWS rows per sheet are read; a larger workbook goes to
    `changes_import_start` (a job, with the job's row limit)."""
    from openpyxl import load_workbook

    _require_proposer(actor, round)
    uploads.check_spreadsheet(file, inline=max_rows is None)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a file that is not xlsx
        raise ValidationError(
            _("无法读取文件，请上传 .xlsx 格式的四类名单。"), code="bad_file"
        ) from error
    labels = {label: kind for kind, label in _sheet_names().items()}
    errors: list[str] = []
    lines: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    grounds = _grounds(round)
    for sheet in workbook.worksheets:
        kind = labels.get(sheet.title.strip())
        if kind is None:
            errors.append(
                _("工作表“%(sheet)s”不是四类名单之一（应为：%(names)s）。")
                % {"sheet": sheet.title, "names": "、".join(labels)}
            )
            continue
        rows = uploads.limited_rows(sheet, limit=max_rows)
        header = [_cell_text(value) for value in next(rows, ())]
        positions = {}
        for column in WORKBOOK_COLUMNS:
            if column not in header:
                errors.append(
                    _("“%(sheet)s”缺少“%(column)s”列。") % {"sheet": sheet.title, "column": column}
                )
            else:
                positions[column] = header.index(column)
        if len(positions) != len(WORKBOOK_COLUMNS):
            continue
        for row_number, row in enumerate(rows, start=2):
            values = {
                column: _cell_text(row[index]) if index < len(row) else ""
                for column, index in positions.items()
            }
            if not any(values.values()):
                continue
            number = values["户编号"]
            where = _("“%(sheet)s”第%(row)d行") % {"sheet": sheet.title, "row": row_number}
            if not number:
                errors.append(f"{where}：" + _("请填写户编号。"))
                continue
            if number in seen:
                errors.append(
                    f"{where}："
                    + _("户编号%(number)s在%(other)s已出现。")
                    % {"number": number, "other": seen[number]}
                )
                continue
            seen[number] = where
            household = _scoped_household(actor, number=number)
            row_errors, ground = _proposal_errors(
                actor=actor,
                round=round,
                household=household,
                kind=kind,
                persons=values["人数"],
                head_name=values["户主姓名"],
                reason=values["理由"],
                ground="",
                grounds=grounds,
            )
            errors.extend(f"{where}（{number}）：{error}" for error in row_errors)
            if not row_errors:
                lines.append(
                    {
                        "household": household,
                        "kind": kind,
                        "persons": int(values["人数"]),
                        "head_name": values["户主姓名"],
                        "reason": values["理由"],
                        "ground": ground,
                        "where": where,
                    }
                )
    if not errors and not lines:
        errors.append(_("文件中没有名单记录。"))
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_row") for error in errors])
    created = []
    for line in lines:
        where = line.pop("where")
        try:
            with transaction.atomic():
                created.append(_create_change(actor=actor, round=round, source="import", **line))
        except ValidationError as error:
            errors.extend(f"{where}：{message}" for message in error.messages)
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_row") for error in errors])
    return created


CHANGES_IMPORT_JOB = "rounds.changes_import"


def changes_import_start(
    *, actor: User, round: AdjustmentRound, file: IO[bytes], filename: str = ""
) -> Job:
    """A 四类名单 workbook too large to validate in a request: kept (outside MEDIA_ROOT) and
    imported by a job, all or nothing as `changes_import`; the job page shows the first errors
    and offers the workbook of all of them."""
    _require_proposer(actor, round)
    uploads.check_spreadsheet(file, inline=True)
    name = uploads.upload_keep(file)
    return jobs.job_enqueue(
        user=actor,
        kind=CHANGES_IMPORT_JOB,
        region=actor.region,
        parameters={"round": round.pk, "file": name, "filename": filename[:128]},
    )


@jobs.register(
    CHANGES_IMPORT_JOB, gettext_lazy("导入四类名单"), may_start=roles.can_write_households
)
def changes_import_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    actor = job.created_by
    round = (
        AdjustmentRound.objects.select_related("county")
        .filter(pk=job.parameters.get("round"))
        .first()
    )
    if actor is None or round is None:
        raise jobs.JobFailed(_("动态调整批次或发起人已不存在，任务未执行。"))

    def apply(handle: IO[bytes]) -> dict[str, Any]:
        try:
            created = changes_import(
                actor=actor, round=round, file=handle, max_rows=uploads.job_max_rows()
            )
        except PermissionDenied as denied:
            raise jobs.JobFailed(str(denied)) from denied
        return {"created": len(created)}

    return uploads.upload_validation_run(job, progress, apply)


@transaction.atomic
def change_withdraw(*, actor: User, change: RoundChange) -> RoundChange:
    """The village withdraws its own proposal before the township has reviewed it."""
    locked = RoundChange.objects.select_for_update().select_related("village").get(pk=change.pk)
    if not roles.can_write_households(actor) or not roles.region_in_scope(actor, locked.village):
        raise PermissionDenied(_("您不能撤回该名单。"))
    if locked.state != State.PROPOSED:
        raise ValidationError(_("乡镇已审核的名单不能撤回。"), code="not_pending")
    locked.state = State.WITHDRAWN
    locked.save(update_fields=["state"])
    return locked


def _lock_change(change: RoundChange, expected: str) -> RoundChange:
    locked = (
        RoundChange.objects.select_for_update()
        .select_related("round", "round__county", "village", "household")
        .get(pk=change.pk)
    )
    # Lock the round too: round_close locks it, so a decision and a closing never interleave.
    locked.round = (
        AdjustmentRound.objects.select_for_update().select_related("county").get(pk=locked.round_id)
    )
    if locked.round.status != AdjustmentRound.Status.OPEN:
        raise ValidationError(_("该动态调整批次已关闭。"), code="round_closed")
    if locked.state != expected:
        raise ValidationError(
            _("该名单当前为“%(state)s”，不能办理此操作（可能已被他人处理，请刷新）。"),
            code="bad_state",
            params={"state": locked.get_state_display()},
        )
    return locked


@transaction.atomic
def change_review(
    *, actor: User, change: RoundChange, approve: bool, opinion: str = ""
) -> RoundChange:
    """The township reviews a proposal: passes it to the county, or returns it with a reason."""
    locked = _lock_change(change, State.PROPOSED)
    if not (roles.can_review(actor) and roles.region_in_scope(actor, locked.village)):
        raise PermissionDenied(_("只有乡镇审核员或县扶贫办可以审核本辖区的名单。"))
    if not approve and not (opinion or "").strip():
        raise ValidationError(
            {"opinion": [ValidationError(_("退回须填写审核意见。"), code="required")]}
        )
    locked.state = State.REVIEWED if approve else State.REJECTED
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    locked.review_opinion = (opinion or "").strip()
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_opinion"])
    return locked


@transaction.atomic
def changes_review_many(
    *,
    actor: User,
    round: AdjustmentRound,
    region: Region,
    opinion: str = "",
    exceptions: Mapping[int, str] | None = None,
) -> dict[str, int]:
    """The township reviews every proposed line of a village (or of its whole township) in one
    action: each line passes through `change_review`, except the lines in `exceptions` (change
    id → reason), which are returned with their reason. One transaction: when any line is
    refused, nothing is written and the error names each line and why."""
    if not (roles.can_review(actor) and roles.region_in_scope(actor, region)):
        raise PermissionDenied(_("只有乡镇审核员或县扶贫办可以审核本辖区的名单。"))
    exceptions = dict(exceptions or {})
    pending = list(
        change_list(user=actor, round=round)
        .filter(state=State.PROPOSED, village__path__startswith=region.path)
        .select_related("household")
        .order_by("id")
    )
    if not pending:
        raise ValidationError(_("该区域没有待审核的名单。"), code="nothing_to_review")
    unknown = set(exceptions) - {change.pk for change in pending}
    if unknown:
        raise ValidationError(_("例外的名单不在待审核范围内。"), code="bad_exception")
    failures = []
    for change in pending:
        try:
            if change.pk in exceptions:
                change_review(
                    actor=actor, change=change, approve=False, opinion=exceptions[change.pk]
                )
            else:
                change_review(actor=actor, change=change, approve=True, opinion=opinion)
        except ValidationError as error:
            failures.append(f"{change.household.number}：{'；'.join(error.messages)}")
    if failures:
        raise ValidationError(
            [_("以下名单未能审核，本次批量审核未保存任何记录：")] + failures,
            code="batch_refused",
        )
    return {"passed": len(pending) - len(exceptions), "returned": len(exceptions)}


@transaction.atomic
def change_decide(
    *, actor: User, change: RoundChange, approve: bool, opinion: str = ""
) -> RoundChange:
    """The county decides on a reviewed change. Approving applies it to the registry as an
    event tagged with the round (for 新识别纳入/标注脱贫: the procedure must be finished, and its
    event in this round is linked)."""
    locked = _lock_change(change, State.REVIEWED)
    _require_county_officer(actor, locked.round.county)
    if not approve and not (opinion or "").strip():
        raise ValidationError(
            {"opinion": [ValidationError(_("退回须填写审定意见。"), code="required")]}
        )
    if approve:
        locked.event = _apply(actor, locked)
    locked.state = State.APPROVED if approve else State.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_opinion = (opinion or "").strip()
    locked.save(update_fields=["state", "decided_by", "decided_at", "decision_opinion", "event"])
    return locked


def _apply(actor: User, change: RoundChange) -> HouseholdEvent | None:
    from households import services

    if change.kind in (Kind.NATURAL, Kind.CORRECTED):
        return _apply_member_change(actor, change)
    event_kind, _from, to_status = TRANSITIONS[change.kind]
    procedure = WORKFLOW_KINDS.get(change.kind)
    if procedure is not None and getattr(services, "workflow_start", None) is not None:
        event = (
            HouseholdEvent.objects.filter(
                household=change.household,
                round=change.round,
                kind=event_kind,
                round_change__isnull=True,
            )
            .order_by("-id")
            .first()
        )
        if event is not None:
            return event
        from households.models import CaseWorkflow

        workflow = CaseWorkflow.objects.filter(
            household=change.household, kind=procedure, state=CaseWorkflow.State.OPEN
        ).first()
        if workflow is not None:
            from households import workflows

            raise ValidationError(
                _(
                    "户编号%(number)s的%(procedure)s尚未办结（当前环节：%(step)s），办结后方可审定。"
                ),
                code="workflow_pending",
                params={
                    "number": change.household.number,
                    "procedure": workflows.procedure(procedure).label,
                    "step": workflows.current_step(workflow).label,
                },
            )
        raise ValidationError(
            _("户编号%(number)s尚未办理%(list)s程序，请村级发起并办结后再审定。"),
            code="workflow_missing",
            params={"number": change.household.number, "list": change.get_kind_display()},
        )
    household = services.household_change_status(
        actor=actor,
        household=change.household,
        kind=event_kind,
        to_status=to_status,
        reason=change.reason,
        ground=change.ground,
        round=change.round,
        exit_year=change.round.year if change.kind == Kind.EXITED else None,
        proposed_by=change.proposed_by,
        approved_by=actor,
    )
    return household.events.order_by("-id").first()


def changes_decide_many(
    *,
    actor: User,
    round: AdjustmentRound,
    region: Region,
    approve: bool,
    opinion: str = "",
) -> dict[str, Any]:
    """Decide every reviewed change of a region (village or township) in one go. Each change is
    its own transaction; failures are reported, not hidden."""
    decided, failed = 0, []
    pending: Iterable[RoundChange] = (
        RoundChange.objects.filter(
            round=round, state=State.REVIEWED, village__path__startswith=region.path
        )
        .select_related("household")
        .order_by("id")
    )
    for change in pending:
        try:
            change_decide(actor=actor, change=change, approve=approve, opinion=opinion)
            decided += 1
        except ValidationError as error:
            failed.append(f"{change.household.number}：{'；'.join(error.messages)}")
    return {"decided": decided, "failed": failed}


def changes_by_kind(changes: Iterable[RoundChange]) -> dict[str, list[RoundChange]]:
    grouped: dict[str, list[RoundChange]] = defaultdict(list)
    for change in changes:
        grouped[change.kind].append(change)
    return grouped


# --- 自然增减 and 信息更正 --------------------------------------------------------------------

JOIN, LEAVE = "join", "leave"
# The fields a 信息更正 line may correct: what identifies the household and its members and what
# the lists rest on. Other data are kept current through the household pages (history-logged).
CORRECTABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "household": ("main_cause", "poverty_attribute", "identification_standard", "phone"),
    "member": ("name", "id_number", "sex", "birth_date", "relation"),
}
_SENSITIVE_FIELDS = ("id_number",)


class _DryRun(Exception):
    """Raised inside a savepoint to undo a trial application."""


def _messages(error: ValidationError) -> list[str]:
    """A service's errors as sentences, each field error prefixed by the field's name."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    names = {f.name: str(f.verbose_name) for f in Member._meta.fields}
    names.update({f.name: str(f.verbose_name) for f in Household._meta.fields})
    names.update({"effective_date": _("变动日期"), "reason": _("原因")})
    result = []
    for field, errors in error.error_dict.items():
        label = names.get(field.rsplit(".", 1)[-1], "") if field != "__all__" else ""
        for item in errors:
            for message in item.messages:
                result.append(f"{label}：{message}" if label else message)
    return result


def _trial(apply: Any) -> list[str]:
    """Run the registry service that approval will run, inside a savepoint that is always
    rolled back: the line is checked by the very rules that will apply it, and nothing is
    written. Returns the errors."""
    try:
        with transaction.atomic():
            apply()
            raise _DryRun
    except _DryRun:
        return []
    except ValidationError as error:
        return _messages(error)


def _parse_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _active_member(household: Household, who: str) -> Member | None:
    """An active member of the household by ID number, or by name when the name is unique."""
    who = (who or "").strip()
    if not who:
        return None
    active = household.members.filter(is_active=True)
    by_number = active.filter(id_number=who.upper()).first()
    if by_number is not None:
        return by_number
    named = list(active.filter(name=who)[:2])
    return named[0] if len(named) == 1 else None


def _member_line_args(change: RoundChange) -> dict[str, Any]:
    """The service call an approved 自然增减/信息更正 line makes (also used for the trial)."""
    details = change.details
    if change.kind == Kind.NATURAL and details.get("action") == JOIN:
        data = dict(details.get("member", {}))
        return {
            "service": "member_add",
            "household": change.household,
            "data": data,
            "reason": details.get("reason", ""),
            "effective_date": _parse_date(details.get("effective_date")),
        }
    if change.kind == Kind.NATURAL:
        return {
            "service": "member_remove",
            "member": change.member,
            "reason": details.get("reason", ""),
            "effective_date": _parse_date(details.get("effective_date")),
            "note": "" if change.reason == details.get("reason") else change.reason,
        }
    value: Any = details.get("new", "")
    if details.get("field") == "birth_date":
        value = _parse_date(value)
    if details.get("target") == "member":
        return {
            "service": "member_update",
            "member": change.member,
            "data": {details["field"]: value},
            "expected_version": None,
            "reason": change.reason,
        }
    return {
        "service": "household_update",
        "household": change.household,
        "data": {details["field"]: value},
        "expected_version": None,
        "reason": change.reason,
    }


def _call_member_service(
    actor: User, change: RoundChange, proposed_by: User | None
) -> HouseholdEvent | None:
    from households import services

    arguments = _member_line_args(change)
    service = getattr(services, arguments.pop("service"))
    events = HouseholdEvent.objects.filter(household=change.household, round=change.round)
    before = events.order_by("-id").values_list("id", flat=True).first() or 0
    service(actor=actor, round=change.round, proposed_by=proposed_by, **arguments)
    # The event this call wrote (none when a correction found the value already corrected).
    return events.filter(id__gt=before).order_by("-id").first()


def _apply_member_change(actor: User, change: RoundChange) -> HouseholdEvent | None:
    """Approving a 自然增减/信息更正 line applies it through the registry service (member_add,
    member_remove, member_update, household_update) as an event tagged with the round. The
    service checks everything again: a line that no longer fits the registry is refused."""
    return _call_member_service(actor, change, change.proposed_by)


def _create_member_line(
    *,
    actor: User,
    round: AdjustmentRound,
    household: Household,
    kind: str,
    member: Member | None,
    persons: int,
    reason: str,
    details: dict[str, Any],
) -> RoundChange:
    change = RoundChange(
        round=round,
        household=household,
        village=household.village,
        kind=kind,
        member=member,
        persons=persons,
        head_name=_head_name(household),
        reason=reason.strip(),
        details=details,
        source="form",
        proposed_by=actor,
        proposed_at=timezone.now(),
    )
    errors = _trial(lambda: _call_member_service(actor, change, actor))
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_change") for error in errors])
    change.full_clean(validate_constraints=False)
    change.save()
    return change


def _member_line_household(
    actor: User, round: AdjustmentRound, number: str
) -> tuple[Household | None, list[str]]:
    _require_proposer(actor, round)
    household = _scoped_household(actor, number=number)
    if household is None:
        return None, [_("户编号不存在，或该户不在您的管辖范围内。")]
    if not household.village.path.startswith(round.county.path):
        return household, [_("该户不属于%(county)s。") % {"county": round.county.name}]
    return household, []


def _raise(errors: list[str]) -> None:
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_change") for error in errors])


@transaction.atomic
def natural_change_propose(
    *,
    actor: User,
    round: AdjustmentRound,
    number: str,
    action: str,
    reason: str,
    effective_date: Any,
    member: str = "",
    data: dict[str, Any] | None = None,
    note: str = "",
) -> RoundChange:
    """A village proposes one 自然增减 line: a person joins the household (`action` "join", with
    the person's name, ID number and relation to the head in `data`, and a 增员原因) or an
    active member leaves it (`action` "leave", the member by ID number or name, and a 减员原因).
    The line is checked by a trial run of the service that approval will run; nothing is
    written when it is refused."""
    household, errors = _member_line_household(actor, round, number)
    _raise(errors)
    assert household is not None
    lists = value_lists(year=round.year, province=province_of(round.county))
    day = _parse_date(effective_date)
    if day is None:
        errors.append(_("请填写变动日期（年-月-日）。"))
    reason = (reason or "").strip()
    leaving: Member | None = None
    details: dict[str, Any] = {"action": action, "reason": reason}
    if action == JOIN:
        if reason not in lists.get(ValueList.JOIN_REASON, []):
            errors.append(
                _("请选择增员原因（%(reasons)s）。")
                % {"reasons": "、".join(lists.get(ValueList.JOIN_REASON, []))}
            )
        person = {
            key: str((data or {}).get(key) or "").strip()
            for key in ("name", "id_number", "relation")
        }
        person["id_number"] = person["id_number"].upper()
        details["member"] = person
        if not person["relation"]:
            errors.append(_("请填写与户主关系。"))
        if (
            person["id_number"]
            and RoundChange.objects.filter(
                round=round,
                kind=Kind.NATURAL,
                state__in=RoundChange.PENDING_STATES,
                details__member__id_number=person["id_number"],
            ).exists()
        ):
            errors.append(_("该身份证号码的增员已在本批次待审核。"))
    elif action == LEAVE:
        if reason not in lists.get(ValueList.LEAVE_REASON, []):
            errors.append(
                _("请选择减员原因（%(reasons)s）。")
                % {"reasons": "、".join(lists.get(ValueList.LEAVE_REASON, []))}
            )
        leaving = _active_member(household, member)
        if leaving is None:
            errors.append(
                _("该户没有在户成员“%(member)s”（请填写证件号码，或户内唯一的姓名）。")
                % {"member": member or ""}
            )
        elif RoundChange.objects.filter(
            round=round, member=leaving, state__in=RoundChange.PENDING_STATES
        ).exists():
            errors.append(_("该成员在本批次已有待审核的名单。"))
    else:
        errors.append(_("请选择增员或减员。"))
    _raise(errors)
    details["effective_date"] = day.isoformat() if day else ""
    return _create_member_line(
        actor=actor,
        round=round,
        household=household,
        kind=Kind.NATURAL,
        member=leaving,
        persons=1,
        reason=(note or "").strip() or reason,
        details=details,
    )


@transaction.atomic
def correction_propose(
    *,
    actor: User,
    round: AdjustmentRound,
    number: str,
    field: str,
    value: str,
    reason: str,
    member: str = "",
) -> RoundChange:
    """A village proposes one 信息更正 line: one field of the household or of one active member
    (`member`: ID number or a name unique in the household) corrected to `value`, with the
    reason. Checked by a trial run of the service approval will run; nothing written if
    refused."""
    household, errors = _member_line_household(actor, round, number)
    _raise(errors)
    assert household is not None
    target = "member" if (member or "").strip() else "household"
    corrected: Member | None = None
    if field not in CORRECTABLE_FIELDS[target]:
        errors.append(
            _("“%(field)s”不是可更正的%(target)s信息。")
            % {
                "field": field,
                "target": _("成员") if target == "member" else _("户"),
            }
        )
    if not (reason or "").strip():
        errors.append(_("请填写理由。"))
    value = (value or "").strip()
    if field == "id_number":
        value = value.upper()
    if field == "birth_date" and value and _parse_date(value) is None:
        errors.append(_("出生日期应为“年-月-日”。"))
    if target == "member":
        corrected = _active_member(household, member)
        if corrected is None:
            errors.append(
                _("该户没有在户成员“%(member)s”（请填写证件号码，或户内唯一的姓名）。")
                % {"member": member}
            )
    _raise(errors)
    source = corrected if corrected is not None else household
    old = getattr(source, field)
    old_text = old.isoformat() if isinstance(old, datetime.date) else str(old or "")
    if old_text == value:
        errors.append(_("更正后的值与系统中的现值相同。"))
    pending = RoundChange.objects.filter(
        round=round,
        household=household,
        kind=Kind.CORRECTED,
        state__in=RoundChange.PENDING_STATES,
        member=corrected,
        details__field=field,
    )
    if pending.exists():
        errors.append(_("该项信息在本批次已有待审核的更正。"))
    _raise(errors)
    return _create_member_line(
        actor=actor,
        round=round,
        household=household,
        kind=Kind.CORRECTED,
        member=corrected,
        persons=1 if corrected is not None else 0,
        reason=reason,
        details={"target": target, "field": field, "old": old_text, "new": value},
    )


def correctable_fields() -> dict[str, list[tuple[str, str]]]:
    """(field, label) of the correctable fields, for the proposal form."""
    models_of = {"household": Household, "member": Member}
    return {
        target: [
            (field, str(getattr(models_of[target]._meta.get_field(field), "verbose_name", field)))
            for field in fields
        ]
        for target, fields in CORRECTABLE_FIELDS.items()
    }


def change_summary(change: RoundChange, user: User) -> str:
    """What a 自然增减/信息更正 line changes, in one line, ID numbers as the user may see them."""
    from povertyapp.privacy import shown

    details = change.details or {}
    if change.kind == Kind.NATURAL:
        if details.get("action") == JOIN:
            person = details.get("member", {})
            return _("增员：%(name)s（%(relation)s，%(id)s），%(reason)s，%(day)s") % {
                "name": person.get("name", ""),
                "relation": person.get("relation", ""),
                "id": shown(user, person.get("id_number", "")),
                "reason": details.get("reason", ""),
                "day": details.get("effective_date", ""),
            }
        return _("减员：%(name)s，%(reason)s，%(day)s") % {
            "name": change.member.name if change.member else "",
            "reason": details.get("reason", ""),
            "day": details.get("effective_date", ""),
        }
    if change.kind == Kind.CORRECTED:
        model = Member if details.get("target") == "member" else Household
        field = details.get("field", "")
        try:
            label = str(getattr(model._meta.get_field(field), "verbose_name", field))
        except FieldDoesNotExist:  # a field removed since the line was written
            label = field
        old, new = details.get("old", ""), details.get("new", "")
        if field in _SENSITIVE_FIELDS:
            old, new = shown(user, old), shown(user, new)
        who = f"{change.member.name} " if change.member else ""
        return _("更正%(who)s%(field)s：%(old)s → %(new)s") % {
            "who": who,
            "field": label,
            "old": old or "—",
            "new": new or "—",
        }
    return ""


def natural_change_counts(*, user: User, round: AdjustmentRound) -> dict[str, Any]:
    """自然增减 recorded in the round (events tagged with it: approved lines and changes made on
    the household pages while the round was open), per township and in total, in the user's
    scope: persons joined, persons left (减员 and 迁出), households concerned, and how many
    persons came through an approved line."""
    from households.models import HouseholdEvent as Event

    region = user.region
    if not roles.has_case_access(user) or region is None:
        return {"townships": [], "total": None}
    kinds = [Event.Kind.MEMBER_JOINED, Event.Kind.MEMBER_LEFT, Event.Kind.MEMBER_MOVED]
    events = Event.objects.filter(
        round=round, kind__in=kinds, household__village__path__startswith=region.path
    )
    aggregates = {
        "joined": Count("id", filter=Q(kind=Event.Kind.MEMBER_JOINED)),
        "left": Count("id", filter=~Q(kind=Event.Kind.MEMBER_JOINED)),
        "households": Count("household", distinct=True),
        "via_list": Count("id", filter=Q(round_change__isnull=False)),
    }
    townships = list(
        events.values("household__village__parent__name")
        .annotate(**aggregates)
        .order_by("household__village__parent__name")
    )
    total = events.aggregate(**aggregates)
    return {
        "townships": [
            {"name": values.pop("household__village__parent__name"), **values}
            for values in (dict[str, Any](row) for row in townships)
        ],
        "total": total if total["households"] else None,
    }


def round_figures_differences(*, round: AdjustmentRound) -> list[str]:
    """Compare the round's stored snapshots (every region) with the figures re-derived from its
    baseline, population and events (`round_figures_rederive`): the four figures' numerators
    and denominators, the baseline incidence and the status counts after the round. Returns
    one Chinese sentence per difference (empty: they agree)."""
    from rounds import figures
    from rounds.models import RateSnapshot

    snapshots = list(RateSnapshot.objects.filter(round=round).select_related("region"))
    if not snapshots:
        return [_("%(round)s尚无指标快照。") % {"round": round.display_name}]
    derived = round_figures_rederive(round=round)
    paths = dict(Region.objects.filter(pk__in=list(derived)).values_list("pk", "path"))
    labels = {
        "wrongful_inclusion": _("错评率"),
        "omission": _("漏评率"),
        "wrongful_exit": _("错退率"),
        "incidence": _("贫困发生率"),
    }
    differences = []
    for snapshot in sorted(snapshots, key=lambda item: item.region.path):
        total: dict[str, Any] = {
            "rural_population": 0,
            "registered_persons": 0,
            "exited_persons": 0,
            "poor_persons_baseline": 0,
        }
        lists: dict[str, int] = defaultdict(int)
        statuses: dict[str, dict[str, int]] = {}
        for village_id, entry in derived.items():
            if not paths[village_id].startswith(snapshot.region.path):
                continue
            for key in total:
                total[key] += entry[key]
            for key, (_households, persons) in entry["lists"].items():
                lists[key] += persons
            for status, (households, persons) in entry["status_counts"].items():
                slot = statuses.setdefault(status, {"households": 0, "persons": 0})
                slot["households"] += households
                slot["persons"] += persons
        expected = {
            "wrongful_inclusion": figures.wrongful_inclusion(
                removed_persons=lists["removed"], registered_persons=total["registered_persons"]
            ),
            "omission": figures.omission(
                included_persons=lists["identified"],
                rural_population=total["rural_population"],
                registered_persons=total["registered_persons"],
            ),
            "wrongful_exit": figures.wrongful_exit(
                returned_persons=lists["returned"], exited_persons=total["exited_persons"]
            ),
            "incidence": figures.incidence(
                poor_persons=lists["poor"], rural_population=total["rural_population"]
            ),
        }
        stored = {
            key: (
                getattr(snapshot, f"{key}_numerator"),
                getattr(snapshot, f"{key}_denominator"),
            )
            for key in expected
        }
        stored["baseline_incidence"] = (snapshot.baseline_incidence_numerator, 0)
        rederived = {
            key: (figure.numerator, figure.denominator) for key, figure in expected.items()
        }
        rederived["baseline_incidence"] = (total["poor_persons_baseline"], 0)
        labels_all = {**labels, "baseline_incidence": _("基期贫困发生率")}
        for key, values in rederived.items():
            if stored[key] != values:
                differences.append(
                    _("%(region)s%(figure)s：快照为%(stored)s，重新推算为%(derived)s")
                    % {
                        "region": snapshot.region.name,
                        "figure": labels_all[key],
                        "stored": "/".join(str(value) for value in stored[key]),
                        "derived": "/".join(str(value) for value in values),
                    }
                )
        stored_statuses = {
            status: counts
            for status, counts in snapshot.status_counts.items()
            if counts.get("households")
        }
        if stored_statuses != statuses:
            differences.append(
                _("%(region)s各状态户数人数：快照为%(stored)s，重新推算为%(derived)s")
                % {
                    "region": snapshot.region.name,
                    "stored": _status_text(stored_statuses),
                    "derived": _status_text(statuses),
                }
            )
    return differences


def _status_text(counts: Mapping[str, Mapping[str, int]]) -> str:
    labels = dict(Household.Status.choices)
    return "、".join(
        _("%(status)s%(households)d户%(persons)d人")
        % {
            "status": labels.get(status, status),
            "households": values["households"],
            "persons": values["persons"],
        }
        for status, values in sorted(counts.items())
    ) or _("无")
