"""Helpers of part A's tests (monitoring objects): dates in the legal order, a consent scan, a
line, an identification walked to its end."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from households import services
from households.models import CaseWorkflow
from monitoring import income, procedures
from monitoring.models import MonitoringLine, MonitoringObject
from tests.project import app_today

# Cases run on past dates: the clue 60 days ago, one step a day.


def first_day() -> datetime.date:
    """Cases run on past dates: the clue 60 days ago, one step a day (read when the test runs)."""
    return app_today() - datetime.timedelta(days=60)


def day(number: int) -> datetime.date:
    return first_day() + datetime.timedelta(days=number)


def scan(name: str = "consent.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0consent", content_type="image/jpeg")


def set_line(region, amount: str = "7000", years=None) -> None:
    for year in years or {
        app_today().year,
        app_today().year - 1,
        first_day().year,
    }:
        MonitoringLine.objects.update_or_create(
            region=region,
            year=year,
            defaults={"kind": MonitoringLine.Kind.AMOUNT, "amount": Decimal(amount)},
        )


def start(cast, household, *, risk_types=("illness",), **extra) -> MonitoringObject:
    values = {
        "actor": cast.cadre,
        "household": household,
        "object_type": "marginal",
        "risk_types": list(risk_types),
        "clue_date": day(0),
        "consent": scan(),
        "consent_signed_on": day(0),
        "opinion": "入户核实属实",
    }
    values.update(extra)
    return procedures.identification_start(**values)


def run_notice(user, workflow: CaseWorkflow, start_date: datetime.date, days: int = 5) -> None:
    services.notice_start(
        actor=user,
        workflow=workflow,
        expected_step=workflow.step,
        start_date=start_date,
        days=days,
        phone="0855-1234567",
    )
    services.workflow_step_complete(actor=user, workflow=workflow, expected_step=workflow.step)


def identify(cast, household, **extra) -> MonitoringObject:
    """Start and walk the identification to the county's decision (day 0 … day 10)."""
    return walk(cast, start(cast, household, **extra))


def to_notice(cast, found: MonitoringObject) -> CaseWorkflow:
    """入户核实 (day 1) and 民主评议 (day 2) of a started identification: at its 公示."""
    workflow = found.identification
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="home_visit",
        opinion="入户核实",
        acted_on=day(1),
    )
    services.workflow_step_complete(
        actor=cast.cadre,
        workflow=workflow,
        expected_step="appraisal",
        opinion="评议同意",
        attendance=15,
        evidence=scan("minutes.jpg"),
        acted_on=day(2),
    )
    workflow.refresh_from_db()
    return workflow


def walk(cast, found: MonitoringObject) -> MonitoringObject:
    """Walk a started identification to the county's decision (day 10)."""
    workflow = to_notice(cast, found)
    run_notice(cast.cadre, workflow, day(3))
    services.workflow_step_complete(
        actor=cast.township,
        workflow=workflow,
        expected_step="township_review",
        opinion="同意",
        acted_on=day(9),
    )
    services.workflow_step_complete(
        actor=cast.county,
        workflow=workflow,
        expected_step="county_approval",
        opinion="审定纳入",
        acted_on=day(10),
    )
    found.refresh_from_db()
    return found


def assess(cast, household, period_end: datetime.date, wage: str) -> None:
    income.assess_income(
        household=household,
        period_end=period_end,
        actor=cast.cadre,
        components={
            "wage": Decimal(wage),
            "production": 0,
            "property_income": 0,
            "transfer": 0,
            "production_cost": 0,
            "compliant_out_of_pocket": 0,
            "insurance_payouts": 0,
        },
    )
