"""Reconciliation with the national system: a national export (户 or 人, the layouts of
`layouts`) uploaded back is compared with the county's records, and the report lists the
records only in ours, only in theirs, and field by field what differs (codes decoded through
the code tables, so the report speaks our labels). Nothing is written to the registry.

The upload goes through the upload door (`povertyapp.uploads`): the view checks the file and
its layout (a wrong layout is refused beside the field, nothing kept); the comparison runs as
a job (`national_reconcile`), whose result is the report (the first lines, shown on its page)
and a workbook of every line.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from households.national import codes
from households.national.layouts import (
    HOUSEHOLD_LAYOUT,
    MEMBER_LAYOUT,
    Layout,
    comparable,
    decode_cell,
    header_map,
)
from households.national.records import household_records, member_records
from povertyapp import jobs, privacy, roles, uploads
from povertyapp.ledgers import reader
from povertyapp.ledgers.layout import HEALTH, SENSITIVE, neutralise
from povertyapp.models import AccessLog, Job, Region, User

RECONCILE_JOB = "national_reconcile"
HEADER_SEARCH_ROWS = 10  # the header row is among the first rows (after a title, a letterhead)
SHOWN_LINES = 200  # lines of each part kept on the job for its page; the workbook has all
RECONCILED_LAYOUTS = (HOUSEHOLD_LAYOUT, MEMBER_LAYOUT)


@dataclass
class NationalFile:
    layout: Layout
    records: dict[str, dict[str, str]]  # record key → field → our label / comparable text


@dataclass
class Difference:
    record: str
    name: str
    header: str
    ours: str
    theirs: str


@dataclass
class Report:
    layout: Layout
    only_ours: list[tuple[str, str]] = field(default_factory=list)  # (record, name)
    only_theirs: list[tuple[str, str]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    compared: int = 0

    @property
    def identical(self) -> bool:
        return not (self.only_ours or self.only_theirs or self.differences)


def _open(path: str) -> reader.XlsxReader:
    try:
        return reader.XlsxReader(path)
    except reader.UnsafeXml:
        raise ValidationError(_("文件包含不安全的XML声明，不予读取。"), code="unsafe") from None
    except reader.UnreadableWorkbook:
        raise ValidationError(
            _("文件无法作为Excel工作簿读取，请确认是.xlsx格式。"), code="unreadable"
        ) from None


def _rows(workbook: reader.XlsxReader, part: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    try:
        yield from workbook.rows(part)
    except (reader.UnsafeXml, reader.UnreadableWorkbook):
        raise ValidationError(
            _("文件无法作为Excel工作簿读取，请确认是.xlsx格式。"), code="unreadable"
        ) from None


def _locate(workbook: reader.XlsxReader) -> tuple[Layout, str, dict[str, int], int]:
    """The first sheet whose header row (among its first rows) holds every header of one of the
    national layouts: the layout, the sheet part, the column of each field, the header row. A
    second sheet of the same layout refuses the file: reading one of the two would leave the
    other's records out without a word."""
    found: tuple[Layout, str, dict[str, int], int, str] | None = None
    for title, part in workbook.sheets():
        located = _header_of(workbook, part)
        if located is None:
            continue
        if found is None:
            found = (*located, title)
        elif located[0] is found[0]:
            raise ValidationError(
                _(
                    "“%(first)s”和“%(second)s”两张表都是“%(layout)s”：请合并为一张表，"
                    "或分成两个文件上传。"
                )
                % {"first": found[4], "second": title, "layout": found[0].title},
                code="two_sheets",
            )
    if found is not None:
        return found[0], found[1], found[2], found[3]
    expected = "；".join(
        _("%(title)s：%(headers)s") % {"title": layout.title, "headers": "、".join(layout.headers)}
        for layout in RECONCILED_LAYOUTS
    )
    raise ValidationError(
        _(
            "文件不是国家系统导出的户或人员数据格式（格式版本%(version)s）：前%(rows)d行中"
            "找不到完整的表头。应有的表头为 %(expected)s。"
        )
        % {"version": codes.LAYOUT_VERSION, "rows": HEADER_SEARCH_ROWS, "expected": expected},
        code="wrong_layout",
    )


def _header_of(
    workbook: reader.XlsxReader, part: str
) -> tuple[Layout, str, dict[str, int], int] | None:
    """The national layout of a sheet whose first rows hold its header, or None."""
    for number, row in _rows(workbook, part):
        if number > HEADER_SEARCH_ROWS:
            break
        for layout in RECONCILED_LAYOUTS:
            positions = header_map(layout, row)
            if positions is not None:
                return layout, part, positions, number
    return None


def national_file_check(path: str) -> Layout:
    """The layout of an uploaded national export, or a ValidationError saying why it is not
    one (what the page checks before it starts the job)."""
    with _open(path) as workbook:
        return _locate(workbook)[0]


def national_file_read(path: str, *, max_rows: int) -> NationalFile:
    """Every record of the uploaded national export, decoded to our labels. Refused (all
    errors listed) for a wrong layout, too many rows, or a record key given twice."""
    errors: list[str] = []
    with _open(path) as workbook:
        layout, part, positions, header_row = _locate(workbook)
        key_field = layout.record_key
        records: dict[str, dict[str, str]] = {}
        for number, row in _rows(workbook, part):
            if number <= header_row:
                continue
            if number > max_rows:
                raise ValidationError(
                    _("文件超过%(limit)d行的上限，请拆分后分批上传。") % {"limit": max_rows},
                    code="too_many_rows",
                )
            record: dict[str, str] = {}
            for national_field in layout.fields:
                index = positions[national_field.key]
                cell = row[index] if index < len(row) else None
                if isinstance(cell, str):
                    cell = reader_text(cell)
                record[national_field.key] = decode_cell(
                    national_field, cell, version=codes.LAYOUT_VERSION
                )
            key = record[key_field].upper() if key_field == "id_number" else record[key_field]
            if not any(record.values()):
                continue
            if not key:
                errors.append(
                    _("第%(row)d行：缺少%(header)s。")
                    % {"row": number, "header": _key_header(layout)}
                )
                continue
            if key in records:
                errors.append(
                    _("第%(row)d行：%(header)s“%(key)s”重复。")
                    % {"row": number, "header": _key_header(layout), "key": privacy.mask_text(key)}
                )
                continue
            records[key] = record
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_row") for error in errors])
    return NationalFile(layout=layout, records=records)


def reader_text(text: str) -> str:
    """A text cell as written by the ledger writer (a leading apostrophe before a formula
    trigger) or by the national system: the apostrophe removed."""
    from povertyapp.ledgers.layout import restore

    return restore(text)


def _key_header(layout: Layout) -> str:
    return next(item.header for item in layout.fields if item.key == layout.record_key)


def _ours(*, user: User, layout: Layout, filters: dict[str, Any]) -> dict[str, dict[str, str]]:
    records = household_records if layout is HOUSEHOLD_LAYOUT else member_records
    ours: dict[str, dict[str, str]] = {}
    for record in records(user=user, filters=filters):
        texts = {item.key: comparable(item, record.get(item.key)) for item in layout.fields}
        key = texts[layout.record_key]
        if layout.record_key == "id_number":
            key = key.upper()
        if key:
            ours[key] = texts
    return ours


def _name(layout: Layout, record: dict[str, str]) -> str:
    if layout is HOUSEHOLD_LAYOUT:
        return record.get("head_name", "")
    return record.get("name", "")


def reconcile(*, user: User, national: NationalFile, filters: dict[str, Any]) -> Report:
    """Compare the uploaded records with ours (the national export's selection with `filters`,
    in the user's scope). Sensitive values are shown as the user may see them."""
    if not roles.can_exchange_with_national_system(user):
        raise PermissionDenied(_("只有县级扶贫部门可以核对国家系统数据。"))
    layout = national.layout
    ours = _ours(user=user, layout=layout, filters=filters)
    theirs = national.records
    report = Report(layout=layout)

    def shown_key(key: str) -> str:
        return privacy.shown(user, key) if layout.record_key == "id_number" else key

    for key in sorted(ours.keys() - theirs.keys()):
        report.only_ours.append((shown_key(key), _name(layout, ours[key])))
    for key in sorted(theirs.keys() - ours.keys()):
        report.only_theirs.append((shown_key(key), _name(layout, theirs[key])))
    for key in sorted(ours.keys() & theirs.keys()):
        report.compared += 1
        mine, other = ours[key], theirs[key]
        for item in layout.fields:
            if item.key == layout.record_key or mine[item.key] == other[item.key]:
                continue
            ours_text, theirs_text = mine[item.key], other[item.key]
            if item.kind == SENSITIVE:
                ours_text, theirs_text = (
                    privacy.shown(user, ours_text),
                    privacy.shown(user, theirs_text),
                )
            elif item.kind == HEALTH:
                ours_text = privacy.shown_health(user, ours_text)
                theirs_text = privacy.shown_health(user, theirs_text)
            report.differences.append(
                Difference(
                    record=shown_key(key),
                    name=_name(layout, mine),
                    header=item.header,
                    ours=_unknown(ours_text),
                    theirs=_unknown(theirs_text),
                )
            )
    return report


def _unknown(text: str) -> str:
    """An undecodable national code ("?code") as the report says it."""
    if text.startswith("?"):
        return _("未知代码%(code)s") % {"code": text[1:]}
    return text


def report_workbook(report: Report, path: str) -> None:
    workbook = Workbook(write_only=True)
    parts: list[tuple[str, list[str], list[list[str]]]] = [
        (
            _("仅本县有"),
            [_("记录"), _("姓名")],
            [list(line) for line in report.only_ours],
        ),
        (
            _("仅国家系统有"),
            [_("记录"), _("姓名")],
            [list(line) for line in report.only_theirs],
        ),
        (
            _("字段不一致"),
            [_("记录"), _("姓名"), _("项目"), _("本县数据"), _("国家系统数据")],
            [
                [line.record, line.name, line.header, line.ours, line.theirs]
                for line in report.differences
            ],
        ),
    ]
    for title, headers, rows in parts:
        sheet = workbook.create_sheet(title)
        sheet.append([_("序号"), *headers])
        for number, row in enumerate(rows, start=1):
            sheet.append([number, *(neutralise(str(value)) for value in row)])
    workbook.save(path)


def report_summary(report: Report) -> dict[str, Any]:
    """What the job keeps for its page: counts and the first SHOWN_LINES lines of each part."""
    return {
        "layout": report.layout.key,
        "layout_title": report.layout.title,
        "version": codes.LAYOUT_VERSION,
        "compared": report.compared,
        "only_ours_count": len(report.only_ours),
        "only_theirs_count": len(report.only_theirs),
        "differences_count": len(report.differences),
        "only_ours": [list(line) for line in report.only_ours[:SHOWN_LINES]],
        "only_theirs": [list(line) for line in report.only_theirs[:SHOWN_LINES]],
        "differences": [
            [line.record, line.name, line.header, line.ours, line.theirs]
            for line in report.differences[:SHOWN_LINES]
        ],
    }


def national_reconcile_start(
    *, user: User, upload: IO[bytes], region: Region | None, filename: str = ""
) -> Job:
    """Check the upload (the upload door, then its layout) and start the comparison job. A
    wrong layout is refused here, with nothing kept."""
    if not roles.can_exchange_with_national_system(user):
        raise PermissionDenied(_("只有县级扶贫部门可以核对国家系统数据。"))
    if region is not None and not roles.region_in_scope(user, region):
        raise ValidationError(
            {"region": ValidationError(_("所选区划不在您的管辖范围内。"), code="out_of_scope")}
        )
    uploads.check_spreadsheet(upload, inline=False)
    name = uploads.upload_keep(upload)
    try:
        national_file_check(uploads.kept_path(name))
    except ValidationError as error:
        os.unlink(uploads.kept_path(name))
        raise ValidationError({"workbook": error.error_list}) from error
    return jobs.job_enqueue(
        user=user,
        kind=RECONCILE_JOB,
        region=region or user.region,
        parameters={
            "file": name,
            "filename": filename[:128],
            "region": region.code if region is not None else "",
        },
    )


@jobs.register(
    RECONCILE_JOB,
    gettext_lazy("核对国家系统数据"),
    may_start=roles.can_exchange_with_national_system,
)
def national_reconcile_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    user = job.created_by
    if user is None or not roles.can_exchange_with_national_system(user):
        raise jobs.JobFailed(_("发起人已无核对权限，任务未执行。"))
    region_code = str(job.parameters.get("region", ""))
    filters = {"region": region_code} if region_code else {}

    def apply(handle: IO[bytes]) -> dict[str, Any]:
        national = national_file_read(handle.name, max_rows=uploads.job_max_rows())
        report = reconcile(user=user, national=national, filters=filters)
        descriptor, path = tempfile.mkstemp(suffix=".xlsx", prefix="national-reconcile-")
        os.close(descriptor)
        try:
            report_workbook(report, path)
            digest = hashlib.sha256()
            with open(path, "rb") as written:
                for block in iter(lambda: written.read(1 << 20), b""):
                    digest.update(block)
                written.seek(0)
                job.result_file.save(
                    _("国家系统数据核对_%(layout)s.xlsx") % {"layout": report.layout.title},
                    File(written),
                    save=False,
                )
            Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
        finally:
            os.unlink(path)
        privacy.access_log_record(
            user=user,
            action=AccessLog.Action.EXPORT,
            target="national:reconcile",
            object_id=region_code,
            detail={
                "layout": report.layout.key,
                "compared": report.compared,
                "only_ours": len(report.only_ours),
                "only_theirs": len(report.only_theirs),
                "differences": len(report.differences),
            },
            sha256=digest.hexdigest(),
        )
        return report_summary(report)

    return uploads.upload_validation_run(job, progress, apply)
