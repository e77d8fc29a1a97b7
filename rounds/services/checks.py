"""The round's figures re-derived from its lists, independently of the rates job's SQL: the
households and persons of each list per village (the rates job's consistency check), the
figures per village (`check_round_figures`) and their differences from the stored
snapshots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connections
from django.db.models import Count, Exists, OuterRef, Sum
from django.utils.translation import gettext as _

from households.models import Household, HouseholdEvent
from povertyapp import db_router
from povertyapp.models import Region
from rounds.models import AdjustmentRound, RoundBaseline, RoundChange, RoundVillage


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
    (`rounds.figures.consistency_differences`, registered in `RoundsConfig.ready`):

    * ``removed``, ``identified``, ``returned``, ``exited``: the round's list events as
      `round_list_events` selects them (each household's last event of each list's kind, in
      the village it counts in: its baseline village, else its own), persons as recorded on
      each event;
    * ``poor``: the households 未脱贫 or 返贫 after the round: the baseline's own rows (not their
      sums), each household under its last status-bearing event of the round instead of its
      baseline row when it has one; households registered after opening in their village.

    One statement (it was four ORM queries and a merge in Python: the check cost as much as
    the figures themselves on a small county, docs/performance.md), on the connection the
    rates job reads from (`db_router.read_alias`). Returns ``{village_id: {list: [households,
    persons]}}``."""
    wanted = set(village_ids)
    result: dict[int, dict[str, list[int]]] = defaultdict(
        lambda: {key: [0, 0] for key in ("removed", "identified", "returned", "exited", "poor")}
    )
    events = HouseholdEvent._meta.db_table
    baseline = RoundBaseline._meta.db_table
    households = Household._meta.db_table
    kinds = [str(kind) for kind in RoundChange.STATUS_KINDS]
    poor = [str(status) for status in Household.POOR_STATUSES]
    kind_marks = ", ".join(["%s"] * len(kinds))
    poor_marks = ", ".join(["%s"] * len(poor))
    sql = f"""
        WITH last_status AS (
            SELECT household_id, MAX(id) AS id FROM {events}
            WHERE round_id = %s AND to_status <> ''
            GROUP BY household_id
        )
        SELECT x.village_id, x.kind, COUNT(*), SUM(x.persons) FROM (
            SELECT COALESCE(b.village_id, h.village_id) AS village_id, e.kind AS kind,
                   e.persons AS persons
            FROM (
                SELECT household_id, kind, MAX(id) AS id FROM {events}
                WHERE round_id = %s AND to_status <> '' AND kind IN ({kind_marks})
                GROUP BY household_id, kind
            ) last_kind
            JOIN {events} e ON e.id = last_kind.id AND e.round_id = %s
            JOIN {households} h ON h.id = last_kind.household_id
            LEFT JOIN {baseline} b
                ON b.round_id = %s AND b.household_id = last_kind.household_id
        ) x
        GROUP BY x.village_id, x.kind
        UNION ALL
        SELECT b.village_id, 'poor', COUNT(*), SUM(b.persons) FROM {baseline} b
        WHERE b.round_id = %s AND b.status IN ({poor_marks})
        GROUP BY b.village_id
        UNION ALL
        SELECT b.village_id, 'poor', -COUNT(*), -SUM(b.persons)
        FROM last_status s
        JOIN {baseline} b ON b.round_id = %s AND b.household_id = s.household_id
        WHERE b.status IN ({poor_marks})
        GROUP BY b.village_id
        UNION ALL
        SELECT y.village_id, 'poor', COUNT(*), SUM(y.persons) FROM (
            SELECT COALESCE(b.village_id, h.village_id) AS village_id, e.persons AS persons
            FROM last_status s
            JOIN {events} e ON e.id = s.id AND e.round_id = %s
            JOIN {households} h ON h.id = s.household_id
            LEFT JOIN {baseline} b ON b.round_id = %s AND b.household_id = s.household_id
            WHERE e.to_status IN ({poor_marks})
        ) y
        GROUP BY y.village_id"""
    params: list[Any] = [
        *(round_id, round_id, *kinds, round_id, round_id),
        *(round_id, *poor),
        *(round_id, *poor),
        *(round_id, round_id, *poor),
    ]
    alias = db_router.read_alias()  # the replica inside the rates job's read_from_replica
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for village_id, key, households_count, persons in rows:
        if village_id in wanted:
            slot = result[village_id][key]
            slot[0] += int(households_count)
            slot[1] += int(persons or 0)
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
