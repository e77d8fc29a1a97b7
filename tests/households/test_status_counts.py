"""The per-village and per-county status counts behind the household list's figures: kept exact
by database triggers through every write path, the county rows always the sums of their
villages' rows, and the list's counts equal a live count of the households."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count

from assistance.models import Pairing
from households.models import CountyStatusCount, Household, VillageStatusCount
from households.selectors import household_status_counts
from tests import factories


def kept() -> dict[tuple[int, str], int]:
    return {
        (row.village_id, row.status): row.households
        for row in VillageStatusCount.objects.all()
        if row.households
    }


def county_of(village_id: int) -> int:
    """The village's county by walking its parents (else the village itself), in Python."""
    from povertyapp.models import Region

    node = Region.objects.filter(pk=village_id).first()
    while node is not None:
        if node.level == Region.Level.COUNTY:
            return node.pk
        node = node.parent
    return village_id


def county_kept() -> dict[tuple[int, str], int]:
    return {
        (row.county_id, row.status): row.households
        for row in CountyStatusCount.objects.all()
        if row.households
    }


def county_live() -> dict[tuple[int, str], int]:
    """The households counted per county, from the households themselves."""
    sums: dict[tuple[int, str], int] = {}
    for (village_id, status), n in live().items():
        key = (county_of(village_id), status)
        sums[key] = sums.get(key, 0) + n
    return {key: n for key, n in sums.items() if n}


def county_sums() -> dict[tuple[int, str], int]:
    """The kept village rows summed per county."""
    sums: dict[tuple[int, str], int] = {}
    for (village_id, status), n in kept().items():
        key = (county_of(village_id), status)
        sums[key] = sums.get(key, 0) + n
    return {key: n for key, n in sums.items() if n}


def assert_in_step() -> None:
    assert kept() == live()
    assert county_kept() == county_sums() == county_live()


def live() -> dict[tuple[int, str], int]:
    return {
        (row["village_id"], row["status"]): row["n"]
        for row in Household.objects.order_by()
        .values("village_id", "status")
        .annotate(n=Count("pk"))
    }


def test_counts_follow_every_write_path(cast, county):
    poor = factories.household(actor=cast.county, village=county.village_a)
    factories.household(actor=cast.county, village=county.village_a)
    exited = factories.household(
        actor=cast.county, village=county.village_b, status=Household.Status.EXITED
    )
    assert (
        kept()
        == live()
        == {
            (county.village_a.pk, "poor"): 2,
            (county.village_b.pk, "exited"): 1,
        }
    )
    assert county_kept() == {(county.county.pk, "poor"): 2, (county.county.pk, "exited"): 1}
    # A queryset update (as a round applies its lists) of many rows in one statement.
    Household.objects.filter(village=county.village_a).update(
        status=Household.Status.EXITED, exit_year=2019
    )
    assert (
        kept()
        == live()
        == {
            (county.village_a.pk, "exited"): 2,
            (county.village_b.pk, "exited"): 1,
        }
    )
    assert_in_step()
    # A save that changes the village; a save that changes neither key changes nothing.
    poor.village = county.village_b
    poor.save(update_fields=["village"])
    exited.phone = "13900000000"
    exited.save(update_fields=["phone"])
    assert (
        kept()
        == live()
        == {
            (county.village_a.pk, "exited"): 1,
            (county.village_b.pk, "exited"): 2,
        }
    )
    assert_in_step()
    # Raw SQL and deletes too (households are never deleted by the application, but the
    # counts must not depend on that).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE households_household SET status = 'returned' WHERE id = %s", [exited.pk]
        )
    Pairing.objects.filter(household=poor).delete()
    poor.history.all().delete()
    poor.events.all().delete()
    poor.members.all().delete()
    poor.incomes.all().delete()
    Household.objects.filter(pk=poor.pk).delete()
    assert (
        kept()
        == live()
        == {
            (county.village_a.pk, "exited"): 1,
            (county.village_b.pk, "returned"): 1,
        }
    )
    assert_in_step()


def test_a_rolled_back_write_leaves_the_counts_as_they_were(cast, county):
    from django.db import transaction

    factories.household(actor=cast.county, village=county.village_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        Household.objects.update(status=Household.Status.REMOVED)
        raise RuntimeError
    assert kept() == live() == {(county.village_a.pk, "poor"): 1}
    assert county_kept() == {(county.county.pk, "poor"): 1}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"status": "poor"},
        {"status": "exited", "village": "VILLAGE_A"},
        {"village": "VILLAGE_B"},
        {"q": "HEAD"},
        {"group": "GROUP_A1"},
        {"region": "522622100000"},
        {"status": "nonsense"},
        {"village": "0"},
        {"status": "poor", "village": "0"},
    ],
)
@pytest.mark.parametrize("who", ["county", "township", "cadre", "cadre2", "helper"])
def test_list_counts_equal_a_live_count_for_every_scope_and_filter(
    cast, county, household_a, data, who
):
    from households.filters import HouseholdFilter
    from povertyapp import roles

    factories.household(actor=cast.county, village=county.village_a, status="exited")
    factories.household(actor=cast.county, village=county.village_a2)
    factories.household(actor=cast.county, village=county.village_b, status="exited")
    factories.household(actor=cast.county, village=county.village_b, status="removed")
    head = factories.active_members(household_a)[0].name
    names = {
        "VILLAGE_A": str(county.village_a.pk),
        "VILLAGE_B": str(county.village_b.pk),
        "GROUP_A1": str(county.group_a1.pk),
        "HEAD": head,
    }
    data = {key: names.get(value, value) for key, value in data.items()}
    user = getattr(cast, who)
    scoped = roles.household_scope(user, Household.objects.all())
    expected_qs = HouseholdFilter(data or None, queryset=scoped, user=user)
    expected_qs = expected_qs.qs if data else scoped
    expected = {
        row["status"]: row["n"]
        for row in expected_qs.order_by().values("status").annotate(n=Count("pk"))
    }
    assert household_status_counts(user=user, data=data) == expected


def test_the_list_reads_the_counts_from_the_kept_table(cast, county, household_a, client_for):
    # Were the page to count households live, a wrong kept row would not show: it does.
    VillageStatusCount.objects.filter(village=county.village_a, status="poor").update(households=41)
    response = client_for(cast.county).get("/households/")
    counts = {value: count for _label, count, value in response.context["status_counts"]}
    assert counts["poor"] == 41
    # A filter the table cannot answer counts live.
    response = client_for(cast.county).get("/households/", {"cause": household_a.main_cause})
    counts = {value: count for _label, count, value in response.context["status_counts"]}
    assert counts["poor"] == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite copies tables to alter them")
def test_sqlite_triggers_are_put_back_after_a_migration_dropped_them(cast, county):
    from households.apps import sqlite_triggers_ensure

    factories.household(actor=cast.county, village=county.village_a)
    with connection.cursor() as cursor:
        # What Django's table copy does to them (adding a stored generated column, say).
        cursor.execute("DROP TRIGGER households_village_status_count_insert")
    factories.household(actor=cast.county, village=county.village_a)
    assert kept() != live()
    sqlite_triggers_ensure(using="default")
    assert_in_step()
    factories.household(actor=cast.county, village=county.village_b)
    assert_in_step()
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER households_county_status_count_update")
    factories.household(actor=cast.county, village=county.village_b)
    assert county_kept() != county_sums()
    sqlite_triggers_ensure(using="default")
    assert_in_step()


def test_county_counts_follow_the_services_and_a_bulk_registration(cast, county):
    """The write paths of the application: the services (建档, a status change through its
    event, a member move does not touch it) and the import's set-wise registration (COPY on
    PostgreSQL)."""
    from django.db import transaction
    from django.utils import timezone

    from households import services
    from rounds.models import AdjustmentRound

    household = factories.household(actor=cast.county, village=county.village_a)
    assert_in_step()
    round_ = AdjustmentRound.objects.create(
        county=county.county,
        year=2019,
        name="2019年动态调整",
        opened_at=timezone.now(),
        opened_by=cast.county,
    )
    services.household_change_status(
        actor=cast.county,
        household=household,
        kind="removed",
        to_status="removed",
        ground="购买3万元以上车辆",
        reason="核实购车",
        round=round_,
        proposed_by=cast.cadre,
    )
    assert county_kept() == {(county.county.pk, "removed"): 1}
    assert_in_step()
    with transaction.atomic():
        services.households_bulk_register(
            actor=cast.county,
            households=[
                (
                    {
                        "village": village,
                        "number": f"BULK-{n}",
                        "status": status,
                        "exit_year": 2019 if status == Household.Status.EXITED else None,
                        "main_cause": "缺技术",
                        "poverty_attribute": "",
                    },
                    [factories.member_data(name=f"王{n}")],
                    None,
                )
                for n, (village, status) in enumerate(
                    [
                        (county.village_a, Household.Status.POOR),
                        (county.village_a2, Household.Status.POOR),
                        (county.village_b, Household.Status.EXITED),
                    ]
                )
            ],
            reason="导入",
        )
    assert_in_step()
    assert sum(county_kept().values()) == Household.objects.count() == 4


def test_county_counts_follow_a_township_moved_to_another_county(cast, county):
    """A region import that moves a township under another county moves its villages'
    households with it: the county rows are counted again."""
    from povertyapp.models import Region

    factories.household(actor=cast.county, village=county.village_a)
    factories.household(actor=cast.county, village=county.village_b, status="exited")
    other = factories.region("522623000000", "施秉县", Region.Level.COUNTY, county.city)
    county.township1.parent = other
    county.township1.save()
    assert county_kept() == {(other.pk, "poor"): 1, (county.county.pk, "exited"): 1}
    assert_in_step()
    # A save that keeps the parent (a rename) leaves the rows alone.
    county.township1.name = "新州镇（改）"
    county.township1.save()
    assert_in_step()


def test_a_village_without_a_county_is_its_own_row(cast, county):
    from povertyapp.models import Region

    # Not a tree the region services build (a village's parent is a township or a county),
    # but a row the counts' triggers may meet: written directly.
    loose = Region.objects.create(
        code="522699100200",
        name="直管村",
        level=Region.Level.VILLAGE,
        parent=county.city,
        path=f"{county.city.path}522699100200/",
    )
    Household.objects.filter(
        pk=factories.household(actor=cast.county, village=county.village_a).pk
    ).update(village=loose)
    assert county_kept() == {(loose.pk, "poor"): 1}
    assert_in_step()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite copies tables to alter them")
def test_putting_the_sqlite_triggers_back_keeps_the_rows_at_zero(cast, county):
    """The recount after a table copy (the county key's NOT NULL, say) keeps a row whose
    households all left (0), as the triggers keep it: a migration loses no row."""
    from households.apps import sqlite_triggers_ensure

    household = factories.household(actor=cast.county, village=county.village_a)
    Household.objects.filter(pk=household.pk).update(status=Household.Status.NON_REGISTERED)
    before = {
        (row.village_id, row.status): row.households for row in VillageStatusCount.objects.all()
    }
    assert before[(county.village_a.pk, Household.Status.POOR)] == 0
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER households_village_status_count_update")
    sqlite_triggers_ensure(using="default")
    after = {
        (row.village_id, row.status): row.households for row in VillageStatusCount.objects.all()
    }
    assert after == before
