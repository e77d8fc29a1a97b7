"""The department result workbook (部门名单处理结果, issue 15): a department's list sent back
with the outcome of every row, in the department's own layout order followed by the result
columns, so the department can lay it beside what it sent.

Columns: 行号, 姓名, 身份证号 (masked: the department sent it, and a file travels), the
department's own columns as it sent them (`Clue.details`, in the order of the first row that
holds each), then 所在村, 匹配结果, 处理结果, 原因, 处理日期. Nothing else of the household.

Written with XlsxWriter in constant-memory mode to a temporary file and streamed
(`povertyapp.files.workbook_download`); every text cell passes `neutralise` (no formula from a
department's data can run in Excel, WPS or LibreOffice).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _

from monitoring.inbox import department_results
from monitoring.layouts import layout_label
from monitoring.models import DepartmentList
from povertyapp.ledgers.layout import neutralise
from povertyapp.privacy import mask


@dataclass(frozen=True)
class ResultWorkbook:
    path: str
    filename: str
    rows: int
    sha256: str


def detail_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The department's own columns, in the order they first appear."""
    columns: list[str] = []
    seen: set[str] = set()
    for row in rows:
        order = row["details"].get("_columns")
        keys = order if isinstance(order, list) else list(row["details"])
        for key in keys:
            if key not in seen and not str(key).startswith("_"):
                seen.add(key)
                columns.append(str(key))
    return columns


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return neutralise(str(value))


def filename_for(source_list: DepartmentList) -> str:
    return "{title}_{department}_{layout}_{pk}.xlsx".format(
        title=_("名单处理结果"),
        department=source_list.get_department_display(),
        layout=layout_label(source_list.layout),
        pk=source_list.pk,
    )


def write_results(source_list: DepartmentList) -> ResultWorkbook:
    """Write the list's result workbook to a temporary file (the caller streams and removes it)."""
    rows = department_results(source_list)
    details = detail_columns(rows)
    headers = [
        _("行号"),
        _("姓名"),
        _("身份证号"),
        *details,
        _("所在村"),
        _("匹配结果"),
        _("处理结果"),
        _("原因"),
        _("处理日期"),
    ]
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="department-results-")
    os.close(handle)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False})
    try:
        sheet = workbook.add_worksheet(_("处理结果")[:31])
        bold = workbook.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        text = workbook.add_format({"num_format": "@"})
        date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        sheet.freeze_panes(1, 0)
        for column, header in enumerate(headers):
            sheet.write_string(0, column, str(header), bold)
            sheet.set_column(column, column, max(8, min(40, len(str(header)) * 2 + 2)))
        sheet.set_column(2, 2, 22)
        for index, row in enumerate(rows, start=1):
            values: list[Any] = [
                row["row"] if row["row"] is not None else "",
                _cell(row["name"]),
                mask(row["id_number"]),
                *(_cell(row["details"].get(key)) for key in details),
                _cell(row["village"]),
                _cell(row["match"]),
                _cell(row["result_label"]),
                _cell(row["reason"]),
            ]
            for column, value in enumerate(values):
                if isinstance(value, str):
                    sheet.write_string(index, column, value, text if column == 2 else None)
                else:
                    sheet.write(index, column, value)
            if row["date"] is not None:
                sheet.write_datetime(index, len(values), row["date"], date)
            else:
                sheet.write_string(index, len(values), "")
    finally:
        workbook.close()
    digest = hashlib.sha256()
    with open(path, "rb") as stored:
        for block in iter(lambda: stored.read(1 << 16), b""):
            digest.update(block)
    return ResultWorkbook(
        path=path, filename=filename_for(source_list), rows=len(rows), sha256=digest.hexdigest()
    )
