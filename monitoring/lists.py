"""The departments' lists (issue 15): a workbook in a department's layout, read, checked, matched
to the registry in bulk and turned into clues (risk warnings) or scrutiny tasks (剔除核查), all or
nothing.

    upload → the hostile-file checks (`povertyapp.uploads.check_spreadsheet`, then encrypted
    files, external links and formulas, refused here) → the sheet found by its header text
    (`monitoring.layouts`) → every row checked (ID numbers by their checksum; any bad row
    refuses the whole list, every bad row listed with its number) → matched in chunks of IDs
    (`monitoring.clues.match_many`) → the clues or tasks written with `bulk_create` in one
    transaction, and the list's counts.

A small list runs in the request; a list of more than UPLOAD_INLINE_MAX_ROWS rows is kept
outside MEDIA_ROOT and runs as a job (kind `monitoring.list_import`): the upload answers at once
with the job's page. The `DepartmentList` row records the counts and the state (a job's list is
written first as 待处理, then 已导入 or 已拒收 with the reason).
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.identity import check_id_number
from households.imports.reading import parse_cell
from households.models import Household
from households.services import common
from monitoring import identities, layouts
from monitoring.clues import Match, clue_build, match_many
from monitoring.layouts import Layout
from monitoring.models import (
    CadreRelation,
    Clue,
    DepartmentList,
    IdentityKind,
    LocalRules,
    ScrutinyTask,
)
from monitoring.rules import rules_for
from povertyapp import audit, jobs, roles, uploads
from povertyapp.ledgers import layout as ledger_layout
from povertyapp.ledgers import reader
from povertyapp.ledgers.layout import Column
from povertyapp.models import Job, Region, User
from povertyapp.privacy import mask

LIST_JOB = "monitoring.list_import"
HEADER_SCAN_ROWS = 10  # the header row is looked for among a sheet's first rows
MAX_COLUMNS = 200  # a row reaching further is a hostile sheet, not a department's list
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML, or the old .xls
_FORMULA = re.compile(rb"<(?:[A-Za-z0-9_]+:)?f[ >/]")
WRITE_BATCH = 2000


@dataclass
class Row:
    number: int  # the row's number in the sheet (as Excel shows it)
    values: dict[str, Any]  # field key → parsed value
    details: dict[str, str]  # the other columns, header → text


@dataclass
class Outcome:
    """What a list produced (counts), written to its `DepartmentList` row."""

    total: int = 0
    matched: int = 0
    unmatched: int = 0
    duplicate: int = 0
    below: int = 0
    created: list[int] = field(default_factory=list)


def refuse(messages: list[str] | str, code: str = "invalid_list") -> ValidationError:
    if isinstance(messages, str):
        messages = [messages]
    return ValidationError([ValidationError(message, code=code) for message in messages])


# --- who ---------------------------------------------------------------------------------------


def county_of(region: Region | None) -> Region | None:
    if region is None:
        return None
    for node in region.ancestors(include_self=True):
        if node.level == Region.Level.COUNTY:
            return node
    return None


def lists_for(user: User) -> QuerySet[DepartmentList]:
    """The lists a user sees: a department account its department's lists of its county; the
    county office every list of its county; nobody else any."""
    queryset = DepartmentList.objects.select_related("county", "uploaded_by", "job")
    if not roles.can_push_department_lists(user):
        return queryset.none()
    county = county_of(user.region)
    if county is None:
        return queryset.none()
    queryset = queryset.filter(county=county)
    if roles.is_department(user):
        return queryset.filter(department=user.department)
    return queryset


def list_get_for_user(*, user: User, list_id: int) -> DepartmentList:
    found = lists_for(user).filter(pk=list_id).first()
    if found is None:
        raise Http404(_("未找到该名单。"))
    return found


def _require_uploader(actor: User, layout: Layout) -> Region:
    if not layouts.may_upload(actor, layout):
        raise PermissionDenied(_("您的账号不能上传“%(layout)s”名单。") % {"layout": layout.label})
    county = county_of(actor.region)
    if county is None:
        raise PermissionDenied(_("您的账号未设置所属县，不能上传名单。"))
    return county


# --- reading -----------------------------------------------------------------------------------


def precheck(handle: IO[bytes], *, inline: bool) -> None:
    """The hostile-file checks, before anything is parsed: the project's spreadsheet guard
    (size, content, macros, zip bombs, XML entities), then what a department's list must not
    hold: a password (an encrypted workbook is an OLE file), links to other workbooks,
    formulas (the list is data as the department's system exported it)."""
    handle.seek(0)
    if handle.read(8) == OLE_MAGIC:
        handle.seek(0)
        raise refuse(
            _(
                "文件设置了打开密码，或是旧版Excel（.xls）格式，无法读取。"
                "请取消密码并另存为.xlsx格式后重新上传。"
            ),
            "encrypted",
        )
    handle.seek(0)
    uploads.check_spreadsheet(handle, inline=inline)
    handle.seek(0)
    with zipfile.ZipFile(handle) as archive:
        names = archive.namelist()
        if any(name.lower().startswith("xl/externallinks/") for name in names):
            raise refuse(
                _("文件包含指向其他工作簿的外部链接，不予导入。请粘贴为数值后重新上传。"),
                "external_links",
            )
        for name in names:
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            tail = b""
            with archive.open(name) as part:
                while chunk := part.read(1 << 16):
                    if _FORMULA.search(tail + chunk):
                        raise refuse(
                            _(
                                "文件包含公式，不予导入。请将名单复制后“选择性粘贴为数值”，"
                                "再重新上传。"
                            ),
                            "formulas",
                        )
                    tail = chunk[-8:]
    handle.seek(0)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _header_row(
    workbook: reader.XlsxReader, part: str, wanted: dict[str, str], required: set[str]
) -> tuple[int, tuple[Any, ...]] | None:
    """The first of a sheet's first rows that holds the layout's required headers."""
    rows = workbook.rows(part)
    assert isinstance(rows, Generator)
    try:
        for number, values in rows:
            if number > HEADER_SCAN_ROWS:
                break
            keys = {wanted.get(layouts.normalise_header(value)) for value in values}
            if required <= keys:
                return number, values
    finally:
        rows.close()
    return None


def _locate(
    workbook: reader.XlsxReader, layout: Layout
) -> tuple[str, str, int, dict[str, int], dict[int, str]]:
    """(sheet title, part, header row number, field → column, column → other header) of the
    sheet whose first rows hold the layout's required headers. A second such sheet refuses
    the list: reading one of them would leave the other's persons out without a word."""
    wanted = layouts.header_map(layout)
    required = {item.key for item in layout.required}
    found: tuple[str, str, int, tuple[Any, ...]] | None = None
    for title, part in workbook.sheets():
        header = _header_row(workbook, part, wanted, required)
        if header is None:
            continue
        if found is not None:
            raise refuse(
                _(
                    "“%(first)s”和“%(second)s”两张表都是“%(layout)s”名单：请合并为一张表，"
                    "或分成两个文件上传。"
                )
                % {"first": found[0], "second": title, "layout": layout.label},
                "two_sheets",
            )
        found = (title, part, *header)
    if found is None:
        missing = "、".join(
            f"“{item.label}”（{'/'.join(item.headers[:3])}）" for item in layout.required
        )
        raise refuse(
            _("未找到“%(layout)s”名单的表头：前%(rows)d行中须有列%(missing)s。请使用该名单的模板。")
            % {"layout": layout.label, "rows": HEADER_SCAN_ROWS, "missing": missing},
            "missing_header",
        )
    title, part, number, values = found
    columns: dict[str, int] = {}
    others: dict[int, str] = {}
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for index, value in enumerate(values):
        header_text = layouts.normalise_header(value)
        if not header_text:
            continue
        if header_text in seen:
            duplicates.append(header_text)
            continue
        seen[header_text] = index
        key = wanted.get(header_text)
        if key is None:
            others[index] = header_text
        elif key in columns:
            item = layout.field(key)
            duplicates.append(f"{header_text}（{item.label if item else key}）")
        else:
            columns[key] = index
    if duplicates:
        raise refuse(
            _("工作表“%(sheet)s”第%(row)d行表头重复：%(headers)s。每列只能出现一次。")
            % {"sheet": title, "row": number, "headers": "、".join(duplicates)},
            "duplicate_header",
        )
    return title, part, number, columns, others


def _parse(item: layouts.Field, value: Any, today: datetime.date) -> Any:
    """A cell's value for its field; ValueError with a Chinese message."""
    if item.kind == layouts.ID:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(_("须以文本格式填写（数字格式会丢失末几位）。"))
        text = _text(value)
        if "*" in text:
            raise ValueError(_("这是脱敏后的号码，不能导入。"))
        try:
            return check_id_number(text, today=today).number
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None
    if item.kind == layouts.MONEY:
        text = _text(value).replace(",", "").replace("，", "").replace("元", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("应为金额（数字）。")) from None
        if not number.is_finite() or number < 0 or number >= Decimal("1e10"):
            raise ValueError(_("应为金额（数字）。"))
        return number.quantize(Decimal("0.01"))
    if item.kind == layouts.DAY:
        return parse_cell(Column(item.key, str(item.label), ledger_layout.DATE), value)
    if item.kind == layouts.IDENTITY:
        kind = identities.parse_kind(_text(value))
        if kind is None:
            raise ValueError(
                _("身份类别应为%(kinds)s之一。")
                % {"kinds": "、".join(str(label) for label in IdentityKind.labels)}
            )
        return kind
    return _text(value)[:200]


def read(path: str, layout: Layout, *, max_rows: int, today: datetime.date) -> list[Row]:
    """Every data row of the list, checked; any bad row refuses the list (ValidationError
    listing every bad row by its number)."""
    try:
        workbook = reader.XlsxReader(path)
    except reader.UnsafeXml:
        raise refuse(_("文件包含不安全的XML声明，不予导入。"), "xml_entities") from None
    except reader.UnreadableWorkbook:
        raise refuse(_("文件无法作为Excel工作簿读取，请确认是.xlsx格式。"), "not_xlsx") from None
    try:
        return list(_rows(workbook, layout, max_rows=max_rows, today=today))
    except reader.UnsafeXml:
        raise refuse(_("文件包含不安全的XML声明，不予导入。"), "xml_entities") from None
    except reader.UnreadableWorkbook:
        raise refuse(_("文件无法作为Excel工作簿读取，请确认是.xlsx格式。"), "not_xlsx") from None
    finally:
        workbook.close()


def _rows(
    workbook: reader.XlsxReader, layout: Layout, *, max_rows: int, today: datetime.date
) -> Iterator[Row]:
    title, part, header_row, columns, others = _locate(workbook, layout)
    fields = [(item, columns[item.key]) for item in layout.fields if item.key in columns]
    errors: list[str] = []
    rows: list[Row] = []
    count = 0
    for number, raw in workbook.rows(part):
        if number <= header_row:
            continue
        if number > header_row + max_rows or len(raw) > MAX_COLUMNS:
            raise refuse(
                _("工作表“%(sheet)s”超过%(limit)d行或%(columns)d列的上限，请拆分后分批上传。")
                % {"sheet": title, "limit": max_rows, "columns": MAX_COLUMNS},
                "too_many_rows",
            )
        if not any(_text(value) for value in raw):
            continue
        count += 1
        errors_before = len(errors)
        values: dict[str, Any] = {}
        for item, index in fields:
            cell = raw[index] if index < len(raw) else None
            if cell is None or _text(cell) == "":
                if item.required:
                    errors.append(
                        _("第%(row)d行：请填写“%(header)s”。")
                        % {"row": number, "header": item.label}
                    )
                values[item.key] = None if item.kind in (layouts.MONEY, layouts.DAY) else ""
                continue
            try:
                values[item.key] = _parse(item, cell, today)
            except ValueError as error:
                shown = mask(_text(cell)) if item.kind == layouts.ID else _text(cell)[:40]
                errors.append(
                    _("第%(row)d行“%(header)s”（%(value)s）：%(error)s")
                    % {"row": number, "header": item.label, "value": shown, "error": error}
                )
        if layout.row_check is not None and len(errors) == errors_before:
            fault = layout.row_check(values, today)
            if fault:
                errors.append(_("第%(row)d行：%(fault)s") % {"row": number, "fault": fault})
        details = {
            header: _text(raw[index])[:200]
            for index, header in others.items()
            if index < len(raw) and _text(raw[index])
        }
        rows.append(Row(number=number, values=values, details=details))
    if not count and not errors:
        errors.append(_("名单中没有数据行。"))
    if errors:
        raise refuse(errors, "invalid_row")
    yield from rows


# --- matching and writing ----------------------------------------------------------------------


def medical_threshold(rules: LocalRules, *, registered: bool) -> Decimal | None:
    """The 医保 warning standard of a person: an absolute amount where the county set one, else
    the share of the province's rural per-capita income (50 % for 脱贫人口 and 监测对象, 100 %
    for others). None: no standard configured."""
    if rules.medical_amount is not None:
        return rules.medical_amount
    if rules.rural_income is None:
        return None
    share = rules.medical_share_registered if registered else rules.medical_share_others
    return (rules.rural_income * share / Decimal(100)).quantize(Decimal("0.01"))


def _registered(found: Match) -> bool:
    household = found.household
    return bool(
        found.current_object is not None
        or (household is not None and household.status in Household.REGISTERED_STATUSES)
    )


def _rows_by_id(rows: list[Row], outcome: Outcome) -> list[Row]:
    """The rows with an ID not seen before in the list (the rest counted duplicate)."""
    seen: set[str] = set()
    unique: list[Row] = []
    for row in rows:
        number = row.values["id_number"]
        if number in seen:
            outcome.duplicate += 1
            continue
        seen.add(number)
        unique.append(row)
    return unique


def _risk_clues(
    department_list: DepartmentList,
    layout: Layout,
    rows: list[Row],
    *,
    actor: User,
    received_on: datetime.date,
    outcome: Outcome,
) -> None:
    today = received_on
    rules = rules_for(department_list.county)
    if layout.standard == layouts.MEDICAL_THRESHOLD and (
        rules.medical_amount is None and rules.rural_income is None
    ):
        raise refuse(
            _(
                "县里尚未设置医保自付费用预警标准（上年农村居民人均可支配收入或预警金额），"
                "名单未导入。请县扶贫办先在监测规则中设置。"
            ),
            "no_threshold",
        )
    unique = _rows_by_id(rows, outcome)
    matches = match_many(row.values["id_number"] for row in unique)
    cache: dict[Any, Any] = {}
    first: list[Clue] = []
    later: list[tuple[Clue, int]] = []  # clues of a household already raised by this list
    raised: dict[int, int] = {}  # household → index in `first`
    for row in unique:
        number = row.values["id_number"]
        found = matches[number]
        amount = row.values.get(layout.amount_field) if layout.amount_field else None
        if layout.standard == layouts.MEDICAL_THRESHOLD:
            threshold = medical_threshold(rules, registered=_registered(found))
            if threshold is not None and (amount is None or amount <= threshold):
                outcome.below += 1
                continue
        details = dict(row.details)
        for item in layout.fields:
            skipped = ("name", "id_number", "phone", "difficulty", layout.amount_field)
            if item.key not in skipped and row.values.get(item.key):
                details[str(item.label)] = str(row.values[item.key])
        if layout.standard == layouts.MEDICAL_THRESHOLD:
            details[_("预警标准")] = str(medical_threshold(rules, registered=_registered(found)))
        clue = clue_build(
            channel=Clue.Channel.DEPARTMENT,
            name=row.values["name"],
            id_number=number,
            risk_type=layout.risk_type,
            received_on=received_on,
            actor=actor,
            phone=row.values.get("phone", "") or "",
            difficulty=row.values.get("difficulty", "") or str(layout.label),
            department=department_list.department,
            source_list=department_list,
            source_row=row.number,
            amount=amount,
            details=details,
            matched=found,
            today=today,
            cache=cache,
        )
        if found.household is None:
            outcome.unmatched += 1
        else:
            outcome.matched += 1
        household_id = found.household.pk if found.household is not None else None
        if (
            household_id is not None
            and clue.state != Clue.State.DUPLICATE
            and household_id in raised
        ):
            later.append((clue, raised[household_id]))
            continue
        if household_id is not None and clue.state != Clue.State.DUPLICATE:
            raised[household_id] = len(first)
        first.append(clue)
    Clue.objects.bulk_create(first, batch_size=WRITE_BATCH)
    for clue, index in later:
        # Another person of a household this list has just raised: a duplicate of that clue,
        # as `clue_create` would have made it once the first was saved.
        clue.state = Clue.State.DUPLICATE
        clue.duplicate_of = first[index]
        clue.result_reason = _("已有未办结线索")
        clue.decided_on = today
    Clue.objects.bulk_create([clue for clue, _index in later], batch_size=WRITE_BATCH)


def _scrutiny_tasks(
    department_list: DepartmentList, layout: Layout, rows: list[Row], *, outcome: Outcome
) -> None:
    rules = rules_for(department_list.county)
    unique = _rows_by_id(rows, outcome)
    matches = match_many(row.values["id_number"] for row in unique)
    relatives = set(
        CadreRelation.objects.filter(
            member__household_id__in=[
                found.household.pk for found in matches.values() if found.household is not None
            ]
        ).values_list("member__household_id", flat=True)
    )
    tasks: list[ScrutinyTask] = []
    for row in unique:
        found = matches[row.values["id_number"]]
        amount = row.values.get(layout.amount_field) if layout.amount_field else None
        if layout.standard == layouts.VEHICLE_VALUE and (
            amount is None or amount <= rules.vehicle_value
        ):
            outcome.below += 1
            continue
        household = found.household
        member = found.member
        if household is None or member is None or not _registered(found):
            outcome.unmatched += 1
            continue
        outcome.matched += 1
        evidence: dict[str, Any] = {"layout": str(layout.label), "name": row.values["name"]}
        for item in layout.fields:
            if item.key not in ("name", "id_number") and row.values.get(item.key) not in (
                None,
                "",
            ):
                evidence[str(item.label)] = str(row.values[item.key])
        if layout.standard == layouts.VEHICLE_VALUE:
            evidence[_("核查价值标准")] = str(rules.vehicle_value)
        evidence.update(row.details)
        tasks.append(
            ScrutinyTask(
                source_list=department_list,
                source_row=row.number,
                household=household,
                member=member,
                village=household.village,
                evidence=evidence,
                cadre_relative=household.pk in relatives,
            )
        )
    ScrutinyTask.objects.bulk_create(tasks, batch_size=WRITE_BATCH)


@transaction.atomic
def list_apply(
    *,
    department_list: DepartmentList,
    path: str,
    actor: User,
    max_rows: int,
    today: datetime.date | None = None,
) -> DepartmentList:
    """Read, check, match and write one list, all or nothing (ValidationError: nothing of the
    list is written; the caller records the refusal). `today` is the registry's today unless
    given (the demo county's frozen date)."""
    layout = layouts.get(department_list.layout)
    if layout is None:
        raise refuse(_("名单类型无效。"), "invalid_layout")
    locked = DepartmentList.objects.select_for_update().get(pk=department_list.pk)
    if locked.state != DepartmentList.State.PENDING:
        raise refuse(_("该名单已处理。"), "processed")
    today = today or common.today()
    rows = read(path, layout, max_rows=max_rows, today=today)
    outcome = Outcome(total=len(rows))
    if layout.purpose == DepartmentList.Purpose.RISK:
        _risk_clues(locked, layout, rows, actor=actor, received_on=today, outcome=outcome)
    elif layout.purpose == DepartmentList.Purpose.IDENTITY:
        identities.identities_apply(locked, rows, outcome=outcome)
    else:
        _scrutiny_tasks(locked, layout, rows, outcome=outcome)
    locked.rows_total = outcome.total
    locked.rows_matched = outcome.matched
    locked.rows_unmatched = outcome.unmatched
    locked.rows_duplicate = outcome.duplicate
    locked.rows_below = outcome.below
    locked.state = DepartmentList.State.DONE
    locked.save(
        update_fields=[
            "rows_total",
            "rows_matched",
            "rows_unmatched",
            "rows_duplicate",
            "rows_below",
            "state",
        ]
    )
    audit.record(
        "import",
        user=actor,
        target="monitoring.department_list",
        object_id=locked.pk,
        detail={
            "layout": locked.layout,
            "rows": outcome.total,
            "matched": outcome.matched,
            "unmatched": outcome.unmatched,
            "duplicate": outcome.duplicate,
            "below": outcome.below,
        },
    )
    return locked


def _stored(upload: IO[bytes]) -> str:
    """The checked upload on disk, outside MEDIA_ROOT (personal data): its path."""
    return uploads.kept_path(uploads.upload_keep(upload))


def _needs_job(path: str) -> bool:
    """Whether the list has more rows than a request reads (counted on the streaming reader,
    up to the first one past the limit); a row numbered past the job's limit (a lone cell at
    row 1,048,576) refuses the list at once."""
    limit = uploads.inline_max_rows()
    far = uploads.job_max_rows() + HEADER_SCAN_ROWS
    try:
        workbook = reader.XlsxReader(path)
    except (reader.UnsafeXml, reader.UnreadableWorkbook):
        return False  # `read` refuses it with its message
    count = 0
    try:
        for _title, part in workbook.sheets():
            for number, _values in workbook.rows(part):
                if number > far:
                    raise refuse(
                        _("工作表超过%(limit)d行的上限，请拆分后分批上传。")
                        % {"limit": uploads.job_max_rows()},
                        "too_many_rows",
                    )
                count += 1
                if count > limit + 1:
                    return True
    except (reader.UnsafeXml, reader.UnreadableWorkbook):
        return False
    finally:
        workbook.close()
    return False


def _prepared(
    *, actor: User, layout_key: str, period: str, file: IO[bytes], filename: str
) -> tuple[DepartmentList, str, bool]:
    """The checks every upload passes (the layout, who may push it, the hostile-file checks),
    the file kept on disk, the unsaved list row and whether the list needs a job."""
    layout = layouts.get(layout_key)
    if layout is None:
        raise refuse(_("请选择名单类型。"), "invalid_layout")
    county = _require_uploader(actor, layout)
    precheck(file, inline=False)
    path = _stored(file)
    try:
        big = _needs_job(path)
    except ValidationError:
        os.unlink(path)
        raise
    department_list = DepartmentList(
        county=county,
        department=layout.department,
        purpose=layout.purpose,
        layout=layout.key,
        period=(period or "").strip()[:32],
        file_name=os.path.basename(filename or getattr(file, "name", "") or "")[:200],
        uploaded_by=actor,
    )
    return department_list, path, big


def _applied(
    department_list: DepartmentList, path: str, actor: User, today: datetime.date | None
) -> DepartmentList:
    """Read, match and write the list in this request, all or nothing; the file is removed."""
    try:
        with transaction.atomic():
            department_list.save()
            return list_apply(
                department_list=department_list,
                path=path,
                actor=actor,
                max_rows=uploads.inline_max_rows(),
                today=today,
            )
    finally:
        if os.path.exists(path):
            os.unlink(path)


def list_upload_inline(
    *,
    actor: User,
    layout_key: str,
    period: str,
    file: IO[bytes],
    filename: str = "",
    today: datetime.date | None = None,
) -> DepartmentList:
    """Take a list small enough for one request (the demo's lists); a larger one is refused,
    never turned into a job."""
    department_list, path, big = _prepared(
        actor=actor, layout_key=layout_key, period=period, file=file, filename=filename
    )
    if big:
        os.unlink(path)
        raise refuse(
            _("名单超过%(rows)d行，请通过部门名单页面上传（转为后台任务导入）。")
            % {"rows": uploads.inline_max_rows()},
            "too_many_rows",
        )
    return _applied(department_list, path, actor, today)


def list_upload(
    *,
    actor: User,
    layout_key: str,
    period: str,
    file: IO[bytes],
    filename: str = "",
    today: datetime.date | None = None,
) -> DepartmentList:
    """Take a department's list. A small one is read, matched and written here, all or
    nothing (a refusal raises ValidationError and writes nothing); a large one becomes a
    pending list and a job, which the caller shows."""
    department_list, path, big = _prepared(
        actor=actor, layout_key=layout_key, period=period, file=file, filename=filename
    )
    if not big:
        return _applied(department_list, path, actor, today)
    name = os.path.basename(path)
    with transaction.atomic():
        department_list.save()
        job = jobs.job_enqueue(
            user=actor,
            kind=LIST_JOB,
            region=department_list.county,
            parameters={"list": department_list.pk, "file": name, "filename": filename[:128]},
        )
        DepartmentList.objects.filter(pk=department_list.pk).update(job=job)
        department_list.job = job
    return department_list


@jobs.register(LIST_JOB, gettext_lazy("导入部门名单"), may_start=roles.can_push_department_lists)
def list_import_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    actor = job.created_by
    department_list = DepartmentList.objects.filter(pk=job.parameters.get("list")).first()
    if actor is None or department_list is None:
        raise jobs.JobFailed(_("名单或上传人已不存在，任务未执行。"))
    layout = layouts.get(department_list.layout)
    if layout is None or not layouts.may_upload(actor, layout):
        raise jobs.JobFailed(_("上传人已无上传该名单的权限，任务未执行。"))

    def apply(handle: IO[bytes]) -> dict[str, Any]:
        done = list_apply(
            department_list=department_list,
            path=str(getattr(handle, "name", "")),
            actor=actor,
            max_rows=uploads.job_max_rows(),
        )
        return {
            "rows": done.rows_total,
            "matched": done.rows_matched,
            "unmatched": done.rows_unmatched,
            "duplicate": done.rows_duplicate,
            "below": done.rows_below,
        }

    try:
        return uploads.upload_validation_run(job, progress, apply)
    except jobs.JobFailed as failure:
        DepartmentList.objects.filter(pk=department_list.pk).update(
            state=DepartmentList.State.REFUSED, refusal=str(failure)[:500]
        )
        raise


# --- the template workbook -----------------------------------------------------------------


def template_workbook(layout: Layout) -> bytes:
    """An empty list in the layout: the headers (required ones marked *), ID columns as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = str(layout.label)[:31]
    headers = [f"{item.label}{'*' if item.required else ''}" for item in layout.fields]
    sheet.append(headers)
    for index, item in enumerate(layout.fields, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = 22 if item.kind == layouts.ID else 16
        if item.kind == layouts.ID:
            for row in range(2, 502):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    handle_number, path = tempfile.mkstemp(suffix=".xlsx", prefix="list-template-")
    os.close(handle_number)
    try:
        workbook.save(path)
        with open(path, "rb") as handle:
            return handle.read()
    finally:
        os.unlink(path)


# --- the list's rows, as its page shows them ------------------------------------------------


def list_clues(department_list: DepartmentList) -> QuerySet[Clue]:
    return department_list.clues.select_related("region").order_by("source_row", "id")


def list_tasks(department_list: DepartmentList) -> QuerySet[ScrutinyTask]:
    return department_list.scrutiny_tasks.select_related("village").order_by("source_row")


def register_lists() -> None:
    """Called from `MonitoringConfig.ready()`: importing this module registered the job kind
    `monitoring.list_import` (the web process enqueues it, the worker runs it)."""
    assert LIST_JOB in jobs.kinds()
