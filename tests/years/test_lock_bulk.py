"""The lock of a signed year holds against bulk writes too: every registered model × every bulk
path (`QuerySet.update`, `bulk_create`, `bulk_update`, `QuerySet.delete`, `bulk.load_rows`)
refuses a row of a locked year with the lock's message, checks a set of rows with as many
queries as one row, and `yearlock.register` refuses a model whose manager is unguarded."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.utils import timezone

from assistance.models import Visit
from households.models import HouseholdIncome
from povertyapp import bulk, demo, yearguard, yearlock
from povertyapp.models import Region
from tests.years.test_lock import EXTRA_ROWS
from years import signoff


@pytest.fixture
def demo_county(db):
    return demo.seed(households=20, seed=1)


def _field_to_rewrite(model: type[models.Model]) -> models.Field:
    """A plain column to write back unchanged: the write itself is what the lock refuses."""
    return next(
        field
        for field in model._meta.concrete_fields
        if not field.primary_key
        and not field.generated
        and not field.is_relation
        and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False)
    )


def _locked_rows(label: str) -> tuple[list[models.Model], Region, int]:
    """Up to five rows of `label` in one county and year, that year locked for the county."""
    registration = yearlock.registrations()[label]
    if label in EXTRA_ROWS:
        EXTRA_ROWS[label]()
    rows: list[models.Model] = []
    county: Region | None = None
    year = 0
    for candidate in registration.model._default_manager.order_by("-pk")[:400]:
        region_id, candidate_year = registration.owner(candidate)
        if region_id is None or candidate_year is None:
            continue
        candidate_county = signoff.county_of(Region.objects.get(pk=region_id))
        if county is None:
            county, year = candidate_county, candidate_year
        if (candidate_county, candidate_year) == (county, year):
            rows.append(candidate)
        if len(rows) == 5:
            break
    assert county is not None, f"{label}: the demo county has no dated row"
    if not yearlock.is_locked(county, year):
        yearlock.lock(county=county, year=year, actor=None)
    return rows, county, year


def _refused(year: int, call: Any) -> None:
    with pytest.raises(yearlock.YearLockedError) as refusal:
        call()
    assert refusal.value.code == "year_locked"
    assert refusal.value.messages[0].startswith(f"{year}年度已由县级签署封账")


def _stored(row: models.Model) -> dict[str, Any]:
    return type(row)._base_manager.filter(pk=row.pk).values().get()


LABELS = sorted(
    # The registry is filled by YearsConfig.ready(), before collection.
    yearlock.registrations()
)


def test_the_registry_is_the_twenty_six_year_bound_models():
    assert len(LABELS) == 26
    for label in LABELS:
        manager = yearlock.registrations()[label].model._default_manager
        assert isinstance(manager, yearguard.YearLockedManager), label


def test_every_bulk_path_refuses_a_row_of_a_locked_year(demo_county):
    # One demo county for all models (seeding it is most of the time): a loop, not parameters.
    refused = []
    for label in LABELS:
        _every_bulk_path_refuses(label)
        refused.append(label)
    assert refused == LABELS


def _every_bulk_path_refuses(label: str) -> None:
    rows, county, year = _locked_rows(label)
    model = yearlock.registrations()[label].model
    row = rows[0]
    field = _field_to_rewrite(model)
    before = _stored(row)
    manager = model._default_manager

    _refused(
        year, lambda: manager.filter(pk=row.pk).update(**{field.attname: before[field.attname]})
    )
    _refused(year, lambda: manager.bulk_update([row], [field.name]))
    clone = copy.copy(row)
    clone.pk = None
    clone._state = copy.copy(row._state)
    clone._state.adding = True
    _refused(year, lambda: manager.bulk_create([clone]))
    _refused(year, lambda: manager.filter(pk=row.pk).delete())
    # values() querysets too, and a related manager's (Household.incomes.update()) goes through
    # the same default manager class.
    _refused(
        year,
        lambda: (
            manager.filter(pk=row.pk).values("pk").update(**{field.attname: before[field.attname]})
        ),
    )
    values = {
        key: value
        for key, value in before.items()
        if key != model._meta.pk.attname and key in {f.attname for f in model._meta.fields}
    }
    _refused(year, lambda: bulk.load_rows(model, [values], now=timezone.now()))
    # The COPY sinks of the demo (povertyapp.bulk): rendered rows are checked before their
    # COPY, streamed ones after it, in the transaction their refusal rolls back.
    rendered = bulk.RenderedRows(model, now=timezone.now())
    rendered.append(values)
    _refused(year, rendered.copy)
    if connection.vendor == "postgresql":
        _refused(year, lambda: _stream(model, values, row.pk))
    assert _stored(row) == before
    assert model._base_manager.filter(pk=row.pk).count() == 1

    # Unlocked, the same bulk update goes through: the refusal is the lock's, not the path's.
    yearlock.unlock(county=county, year=year)
    assert manager.filter(pk=row.pk).update(**{field.attname: before[field.attname]}) == 1
    assert manager.bulk_update([row], [field.name]) == 1


def test_a_bulk_check_reads_as_many_queries_for_many_rows_as_for_one(demo_county):
    several = []
    for label in LABELS:
        if _same_queries_for_many_rows(label) > 1:
            several.append(label)
    # Most models have several rows in the demo's locked year: the comparison means something.
    assert len(several) >= 20, several


def _same_queries_for_many_rows(label: str) -> int:
    rows, county, year = _locked_rows(label)
    model = yearlock.registrations()[label].model
    field = _field_to_rewrite(model)
    counts = []
    for some in (rows[:1], rows):
        with CaptureQueriesContext(connection) as update_queries:
            _refused(
                year,
                lambda some=some: model._default_manager.filter(
                    pk__in=[row.pk for row in some]
                ).update(**{field.attname: getattr(some[0], field.attname)}),
            )
        fresh = list(model._base_manager.filter(pk__in=[row.pk for row in some]))
        with CaptureQueriesContext(connection) as bulk_queries:
            _refused(
                year, lambda fresh=fresh: model._default_manager.bulk_update(fresh, [field.name])
            )
        counts.append((len(update_queries), len(bulk_queries)))
    assert counts[0] == counts[1], f"{label}: {counts} queries for 1 and {len(rows)} rows"
    # locks, rows (joined), region paths (+ savepoint statements on update)
    # locks, the stored rows (joined), region paths; then the same for the rows as given
    # (one query per relation the owner reads)
    related = len(yearlock.registrations()[label].related)
    assert counts[0][1] <= 3 + 2 + related, f"{label}: {counts[0][1]} queries"
    yearlock.unlock(county=county, year=year)
    return len(rows)


def test_an_update_into_a_locked_year_is_refused_and_rolled_back(demo_county):
    county = demo_county["county"].county
    locked_year = demo_county["today"].year - 1
    assert yearlock.is_locked(county, locked_year)
    visit = (
        Visit.objects.filter(household__village__path__startswith=county.path)
        .exclude(date__year=locked_year)
        .order_by("pk")
        .first()
    )
    assert visit is not None
    old_date = visit.date
    _refused(
        locked_year,
        lambda: Visit.objects.filter(pk=visit.pk).update(date=datetime.date(locked_year, 6, 15)),
    )
    visit.refresh_from_db()
    assert visit.date == old_date


def test_bulk_writes_outside_a_locked_year_read_nothing_when_nothing_is_locked(db):
    with CaptureQueriesContext(connection) as queries:
        assert HouseholdIncome.objects.filter(pk=-1).update(year=2020) == 0
    # the locks (none), then the update itself
    assert len(queries) == 2


@isolate_apps("years")
def test_register_refuses_a_year_bound_model_with_an_unguarded_manager():
    class Unguarded(models.Model):
        year = models.PositiveSmallIntegerField()

        class Meta:
            app_label = "years"

        def __str__(self) -> str:
            return str(self.year)

    with pytest.raises(ImproperlyConfigured, match="YearLockedManager"):
        yearlock.register(Unguarded, owner=lambda row: (None, row.year), description="x")
    assert Unguarded._meta.label not in yearlock.registrations()

    class Guarded(models.Model):
        year = models.PositiveSmallIntegerField()
        objects = yearguard.YearLockedManager()

        class Meta:
            app_label = "years"

        def __str__(self) -> str:
            return str(self.year)

    yearlock.register(Guarded, owner=lambda row: (None, row.year), description="x")
    assert Guarded._meta.label in yearlock.registrations()
    yearlock._registered.pop(Guarded._meta.label)


def _stream(model: type[models.Model], values: dict[str, Any], pk: Any) -> None:
    """Stream the stored row again through CopyStream, in a transaction the refusal rolls
    back. CopyStream checks the lock after its COPY, so the row must first make it through the
    table's unique constraints: the stored row is taken out by raw SQL (the lock is not asked:
    the refusal below rolls it back; foreign keys are checked at commit), then copied in again
    under its own id."""
    table, column = model._meta.db_table, model._meta.pk.column
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'DELETE FROM "{table}" WHERE "{column}" = %s', [pk])
        sink = bulk.CopyStream(model, now=timezone.now())
        sink.append({**values, model._meta.pk.attname: pk})
        sink.close()


# Every way povertyapp.bulk writes with COPY, and the test above that refuses a locked row on it.
COPY_ENTRY_POINTS = {"load_rows", "RenderedRows", "CopyStream"}


def test_every_copy_entry_point_of_bulk_is_checked_by_the_year_lock_test():
    """A new COPY path in povertyapp.bulk must be added to the refusal test above."""
    import inspect

    writers = {
        name
        for name, member in vars(bulk).items()
        if not name.startswith("_")
        and (inspect.isfunction(member) or inspect.isclass(member))
        and getattr(member, "__module__", "") == bulk.__name__
        and "copy_expert" in inspect.getsource(member)
    }
    assert writers == COPY_ENTRY_POINTS
    source = inspect.getsource(_every_bulk_path_refuses) + inspect.getsource(_stream)
    for name in COPY_ENTRY_POINTS:
        assert f"bulk.{name}(" in source, name


def test_copy_sinks_read_nothing_more_and_keep_nothing_when_no_year_is_locked(db):
    """The demo's fast path: no lock, no rows kept, no check at the copy."""
    with CaptureQueriesContext(connection) as captured:
        rendered = bulk.RenderedRows(HouseholdIncome, now=timezone.now())
        rendered.append({"household_id": 1, "year": 2020})
    assert rendered._lock.rows == [] and not rendered._lock.active
    assert len(captured.captured_queries) == 1  # the active locks, read once


def test_raw_sql_writers_of_a_round_refuse_a_locked_year(demo_county):
    """The round's baseline (INSERT ... SELECT) and the rates job's snapshot upsert bypass the
    models' guard: each checks the round's year itself, and writes nothing."""
    from rounds import rates
    from rounds.models import AdjustmentRound, RateSnapshot, RoundBaseline
    from rounds.services import rounds as round_services

    round = AdjustmentRound.objects.select_related("county").order_by("-pk").first()
    assert round is not None
    baseline = RoundBaseline.objects.filter(round=round).count()
    snapshots = list(RateSnapshot.objects.filter(round=round).values_list("pk", "computed_at"))
    if not yearlock.is_locked(round.county, round.year):
        yearlock.lock(county=round.county, year=round.year, actor=None)
    _refused(round.year, lambda: round_services.baseline_freeze(round))
    with pytest.raises(rates.jobs.JobFailed, match=f"{round.year}年度已由县级签署封账"):
        rates.compute_rates(round=round)
    assert RoundBaseline.objects.filter(round=round).count() == baseline
    assert (
        list(RateSnapshot.objects.filter(round=round).values_list("pk", "computed_at")) == snapshots
    )
