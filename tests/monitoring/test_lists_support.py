"""Helpers for the department-list tests: workbooks in a layout, the department accounts."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from monitoring.models import LocalRules
from povertyapp.models import Region, User
from tests import factories

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook_bytes(rows: list[list[Any]], *, title: str = "名单", before: int = 0) -> bytes:
    """A workbook whose first sheet holds `rows` (the header first), after `before` blank or
    title rows."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for index in range(before):
        sheet.append(["黄平县医疗保障局 推送名单" if index == 0 else None])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "名单.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def department_user(username: str, department: str, county: Region) -> User:
    return factories.user(username, User.Role.DEPARTMENT, county, department=department)


def medical_rules(county: Region, income: str = "16000") -> LocalRules:
    """医保 standard: 50 % of 16,000 (8,000) for registered persons, 100 % (16,000) for others."""
    return LocalRules.objects.create(region=county, rural_income=Decimal(income))
