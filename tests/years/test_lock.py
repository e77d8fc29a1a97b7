"""The lock of a signed year closes a class of rows: every registered year-bound model refuses
a save and a delete of a row of a locked year, and a model with a year or a date that is
neither registered nor exempted (with a reason) fails here."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models, transaction
from django.db.models.signals import pre_delete
from django.test.utils import isolate_apps
from django.utils import timezone

from households.models import NoticeObjection, PublicNotice
from povertyapp import demo, yearlock
from povertyapp.models import Region, User
from tests.project import PROJECT_APPS
from years import signoff

YEAR_NAMES = ("year",)


def _year_or_date_fields(model: type[models.Model]) -> list[str]:
    """Fields that tie a row to a year: a date (not a timestamp of the record) or a year."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if (isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField))
        or field.name in YEAR_NAMES
        or field.name.endswith("_year")
    ]


def _project_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in {name.split(".")[-1] for name in PROJECT_APPS}
        # django-simple-history's copies record writes; the row they copy is what is guarded.
        and not any(field.name == "history_type" for field in model._meta.concrete_fields)
    ]


def test_every_model_with_a_year_or_a_date_is_registered_or_exempt():
    registered = set(yearlock.registrations())
    exempt = yearlock.exemptions()
    missing = [
        f"{model._meta.label} ({', '.join(fields)})"
        for model in _project_models()
        if (fields := _year_or_date_fields(model))
        and model._meta.label not in registered
        and model._meta.label not in exempt
    ]
    assert missing == [], (
        "year-bound models must be registered in years/lock.py (REGISTRY) or exempted there "
        "(EXEMPT) with the reason"
    )
    assert registered & set(exempt) == set()
    assert all(reason.strip() for reason in exempt.values())


@isolate_apps("years")
def test_the_check_catches_a_model_that_forgets_to_register():
    class Forgotten(models.Model):
        harvest_year = models.PositiveSmallIntegerField()
        signed_on = models.DateField()
        created_at = models.DateTimeField()

        class Meta:
            app_label = "years"

        def __str__(self) -> str:
            return str(self.harvest_year)

    assert _year_or_date_fields(Forgotten) == ["harvest_year", "signed_on"]
    assert Forgotten._meta.label not in yearlock.registrations()
    assert Forgotten._meta.label not in yearlock.exemptions()


def _objection() -> models.Model:
    notice = PublicNotice.objects.order_by("pk").first()
    assert notice is not None
    return NoticeObjection.objects.create(
        notice=notice,
        received_on=notice.start_date,
        content="异议内容",
        recorded_by=notice.created_by,
    )


def _visit_photo() -> models.Model:
    from assistance.models import Visit, VisitPhoto

    visit = Visit.objects.order_by("pk").first()
    assert visit is not None
    return VisitPhoto.objects.create(
        visit=visit,
        photo="photos/2026/12/00000000000000000000000000000000_走访照片.jpg",
        taken_at=timezone.now(),
        uploaded_by=visit.visitor or User.objects.order_by("pk").first(),
        size=1,
        width=1,
        height=1,
        sha256="0" * 64,
    )


def _step_photo() -> models.Model:
    from households.models import StepPhoto, WorkflowStep

    step = WorkflowStep.objects.order_by("pk").first()
    assert step is not None
    return StepPhoto.objects.create(
        step=step,
        photo="photos/2026/12/00000000000000000000000000000000_入户核实照片.jpg",
        taken_at=timezone.now(),
        uploaded_by=step.actor or User.objects.order_by("pk").first(),
        size=1,
        width=1,
        height=1,
        sha256="0" * 64,
    )


# Rows the small demo county happens not to have: made here before the lock.
EXTRA_ROWS = {
    "households.NoticeObjection": _objection,
    "assistance.VisitPhoto": _visit_photo,
    "households.StepPhoto": _step_photo,
}


@pytest.fixture
def demo_county(db):
    return demo.seed(households=20, seed=1)


def test_every_registered_model_refuses_a_write_after_the_lock(demo_county):
    refused, without_rows = [], []
    for label, registration in yearlock.registrations().items():
        model = registration.model
        if label in EXTRA_ROWS:
            EXTRA_ROWS[label]()
        row = None
        for candidate in model._default_manager.order_by("-pk")[:200]:
            region_id, year = registration.owner(candidate)
            if region_id is not None and year is not None:
                row = candidate
                break
        if row is None:
            without_rows.append(label)
            continue
        county = signoff.county_of(Region.objects.get(pk=region_id))
        if not yearlock.is_locked(county, year):
            yearlock.lock(county=county, year=year, actor=None)
        with pytest.raises(yearlock.YearLockedError) as on_save, transaction.atomic():
            row.save()
        # A delete: the guard itself (a protected foreign key may refuse the delete first).
        with pytest.raises(yearlock.YearLockedError):
            pre_delete.send(sender=model, instance=row, using="default", origin=row)
        assert on_save.value.messages[0].startswith(f"{year}年度已由县级签署封账")
        yearlock.unlock(county=county, year=year)
        with transaction.atomic():
            row.save()  # unlocked: writable again
        refused.append(label)
    assert without_rows == []
    assert sorted(refused) == sorted(yearlock.registrations())


def test_the_demo_locks_last_year_and_leaves_this_year_open(demo_county):
    county = demo_county["county"].county
    today = demo_county["today"]
    assert yearlock.is_locked(county, today.year - 1)
    assert not yearlock.is_locked(county, today.year)
    state = signoff.area_sign_offs(user=demo_county["users"]["county"], year=today.year - 1)
    assert state["sign_off"].state == "signed"
    assert state["sign_off"].figures != []
    assert all(t["sign_off"].state == "signed" for t in state["townships"])
