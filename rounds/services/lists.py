"""The 四类名单 as the registry recorded them: the round's list events (the one source of what
changed in a round), in a user's scope, and their counts per village and township; the
自然增减 recorded in the round."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from households.models import HouseholdEvent
from povertyapp import roles
from povertyapp.models import Region, User
from rounds.models import AdjustmentRound, RoundBaseline, RoundChange
from rounds.services.changes import change_list

Kind = RoundChange.Kind
State = RoundChange.State


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


def round_list_events_for_user(
    *, user: User, round: AdjustmentRound, region: Region | None = None
) -> QuerySet[HouseholdEvent]:
    """`round_list_events` in the user's scope (and within `region` when given): the area's,
    and a helper's paired households' only."""
    if not roles.has_case_access(user) or user.region is None:
        return HouseholdEvent.objects.none()
    path = user.region.path
    if region is not None and region.path.startswith(path):
        path = region.path
    elif region is not None and not path.startswith(region.path):
        return HouseholdEvent.objects.none()
    return roles.paired_only(round_list_events(round=round, path_prefix=path), user)


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
    events = roles.paired_only(events, user)
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
