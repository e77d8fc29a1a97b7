"""Shared builders of the clue tests (test_clues*.py, test_inbox*.py, test_department_*.py)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F

from households.models import Household
from monitoring import clues
from monitoring.models import Clue, DepartmentList
from povertyapp.models import Region, User
from tests import factories

FROZEN = datetime.date(2026, 4, 3)  # a Friday before 清明 (4–6 April 2026)


def freeze(monkeypatch: Any, day: datetime.date = FROZEN) -> datetime.date:
    from households.services import common

    monkeypatch.setattr(common, "today", lambda: day)
    return day


def consent_scan(name: str = "承诺授权书.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0consent", content_type="image/jpeg")


def signed(day: datetime.date) -> dict[str, Any]:
    """The 承诺授权 a 入户核实 records (`inbox.clue_verify`): a scan, signed on `day`."""
    return {"consent": consent_scan(), "consent_signed_on": day}


def head_id(household: Household) -> str:
    return household.members.order_by("id").first().id_number


def department_user(username: str, department: str, county: Region, **extra: Any) -> User:
    return factories.user(username, User.Role.DEPARTMENT, county, department=department, **extra)


def push(
    *,
    county: Region,
    uploaded_by: User,
    department: str = User.Department.MEDICAL_INSURANCE,
    layout: str = "大额医疗自付",
) -> DepartmentList:
    return DepartmentList.objects.create(
        county=county,
        department=department,
        purpose=DepartmentList.Purpose.RISK,
        layout=layout,
        period="2026年3月",
        file_name="医保名单.xlsx",
        state=DepartmentList.State.DONE,
        uploaded_by=uploaded_by,
    )


def department_clue(
    source_list: DepartmentList,
    *,
    row: int,
    name: str,
    id_number: str,
    received_on: datetime.date,
    details: dict[str, Any] | None = None,
    actor: User | None = None,
) -> Clue:
    """A row of `source_list` made a clue, counted on the list as an upload counts it (the
    folder's conftest holds a list's counts against its clues)."""
    clue = clues.clue_create(
        channel=Clue.Channel.DEPARTMENT,
        department=source_list.department,
        source_list=source_list,
        source_row=row,
        name=name,
        id_number=id_number,
        risk_type="illness",
        received_on=received_on,
        actor=actor,
        details=details,
    )
    counted = "rows_unmatched" if clue.household_id is None else "rows_matched"
    DepartmentList.objects.filter(pk=source_list.pk).update(
        rows_total=F("rows_total") + 1, **{counted: F(counted) + 1}
    )
    return clue


def declared(
    *,
    village: Region,
    id_number: str,
    received_on: datetime.date,
    name: str = "张三",
    risk_type: str = "illness",
    channel: str = Clue.Channel.SELF_DECLARATION,
) -> Clue:
    return clues.clue_create(
        channel=channel,
        name=name,
        id_number=id_number,
        phone="13812345678",
        difficulty="住院花费较大",
        risk_type=risk_type,
        region=village,
        received_on=received_on,
        actor=None,
    )
