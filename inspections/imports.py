"""The visit-sheet workbook (入户核查表): written for the assessors, read back with their answers.

Reading is all-or-nothing: every row is parsed and checked against the same rules as the phone
form (`services.finding_errors`); if any row has an error nothing is saved and every error is
reported with its row number in Chinese. openpyxl parses the XML through defusedxml (installed),
so a hostile workbook cannot expand entities.
"""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from inspections import selectors, services
from inspections.events import event_record
from inspections.models import Campaign, Finding, InspectionEvent, SampleHousehold, SampleKind
from povertyapp import uploads
from povertyapp.ledgers.layout import neutralise, restore
from povertyapp.models import User

CHECKS = [
    ("food_secure", "不愁吃"),
    ("clothing_secure", "不愁穿"),
    ("education_secure", "义务教育有保障"),
    ("medical_secure", "基本医疗有保障"),
    ("housing_secure", "住房安全有保障"),
    ("water_secure", "饮水安全有保障"),
]
COLUMNS = [
    ("sample", "样本编号"),
    ("village", "样本村"),
    ("number", "户编号"),
    ("head_name", "户主姓名"),
    ("kind", "类型"),
    ("persons", "家庭人口"),
    ("stated_per_capita_income", "申报人均纯收入"),
    ("verified_per_capita_income", "核实人均纯收入"),
    *CHECKS,
    ("eligible", "符合建档立卡标准"),
    ("result", "核查结论"),
    ("omission_scope", "漏评范围"),
    ("error_persons", "涉及人数"),
    ("approval", "认可度"),
    ("disapproval_reason", "不认可原因"),
    ("notes", "备注"),
    ("confirm", "确认"),
]
SCOPES = {"整户": "household", "整户漏评": "household", "成员": "member", "成员漏评": "member"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return restore(str(value).strip())


def _yes_no(value: Any) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    return ""


def _cell(value: Any) -> Any:
    """Money as a number; text neutralised so that no spreadsheet runs it as a formula."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return neutralise(value)
    return value


def workbook_bytes(campaign: Campaign, samples: list[SampleHousehold]) -> bytes:
    """The visit-sheet workbook with whatever is already recorded (for printing or filling)."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("入户核查表")
    sheet.append([f"{campaign.name}　入户核查表"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([label for _key, label in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for sample in samples:
        finding: Finding | None = getattr(sample, "finding", None)
        scope_label = {"household": "整户", "member": "成员"}.get(
            finding.omission_scope if finding else "", ""
        )
        values = [
            str(sample.pk),
            str(sample.sample_village.village.name),
            sample.number,
            sample.head_name,
            str(SampleKind(sample.kind).label),
            sample.persons,
            finding.stated_per_capita_income if finding else None,
            finding.verified_per_capita_income if finding else None,
            *[_yes_no(getattr(finding, key)) if finding else "" for key, _label in CHECKS],
            _yes_no(finding.eligible) if finding else "",
            finding.result if finding else "",
            scope_label,
            finding.error_persons if finding and finding.error_persons else None,
            finding.approval if finding else "",
            finding.disapproval_reason if finding else "",
            finding.notes if finding else "",
            "是" if finding and finding.status == Finding.Status.CONFIRMED else "",
        ]
        sheet.append([_cell(v) for v in values])
        # Numbers that are identifiers stay text so no digit is lost.
        row = sheet.max_row
        for column in (1, 3):
            sheet.cell(row=row, column=column).number_format = "@"
    widths = {1: 9, 2: 12, 3: 20, 4: 10, 5: 12}
    for index in range(1, len(COLUMNS) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(index, 12)
    sheet.freeze_panes = "E3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _parse_row(
    values: dict[str, Any], sample: SampleHousehold
) -> tuple[dict[str, Any], bool, list[str]]:
    problems: list[str] = []
    data: dict[str, Any] = {}
    for key in ("stated_per_capita_income", "verified_per_capita_income"):
        text = _text(values.get(key))
        if not text:
            data[key] = None
            continue
        try:
            data[key] = Decimal(text).quantize(Decimal("0.01"))
        except InvalidOperation:
            problems.append(_("%(column)s应为数字") % {"column": dict(COLUMNS)[key]})
    for key, label in [*CHECKS, ("eligible", "符合建档立卡标准")]:
        text = _text(values.get(key))
        if text in ("是", "否", ""):
            data[key] = {"是": True, "否": False}.get(text)
        else:
            problems.append(_("%(column)s只能填“是”或“否”") % {"column": label})
    result = _text(values.get("result"))
    if result and result not in Finding.Result.values:
        problems.append(_("核查结论只能是正常、错评、漏评或错退"))
    data["result"] = result
    scope = _text(values.get("omission_scope"))
    if scope and scope not in SCOPES:
        problems.append(_("漏评范围只能是“整户”或“成员”"))
    data["omission_scope"] = SCOPES.get(scope, "")
    persons = _text(values.get("error_persons"))
    try:
        data["error_persons"] = int(persons) if persons else 0
    except ValueError:
        problems.append(_("涉及人数应为整数"))
    approval = _text(values.get("approval"))
    if approval and approval not in Finding.Approval.values:
        problems.append(_("认可度只能是“认可”或“不认可”"))
    data["approval"] = approval
    data["disapproval_reason"] = _text(values.get("disapproval_reason"))
    data["notes"] = _text(values.get("notes"))
    confirm_text = _text(values.get("confirm"))
    if confirm_text not in ("是", "否", ""):
        problems.append(_("确认只能填“是”或“否”"))
    return data, confirm_text == "是", problems


@transaction.atomic
def findings_import(*, actor: User, campaign: Campaign, file: Any) -> dict[str, int]:
    """Read the workbook and save every answered row (draft, or confirmed where 确认 = 是)."""
    if not selectors.can_record_findings(actor, campaign):
        raise PermissionDenied(_("只有本次评估的评估人员可以在评估期间导入核查结果。"))
    uploads.check_spreadsheet(file, inline=True)
    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:
        raise ValidationError(
            _("无法读取该文件，请上传由本系统导出的xlsx入户核查表。"), code="unreadable"
        ) from error
    sheet = book.worksheets[0]
    rows = uploads.limited_rows(sheet)
    header_row = None
    position = 0
    for position, row in enumerate(rows, start=1):
        if row and any(_text(cell) == "样本编号" for cell in row):
            header_row = [_text(cell) for cell in row]
            break
        if position >= 5:
            break
    if header_row is None:
        raise ValidationError(_("未找到表头（应含“样本编号”列）。"), code="no_header")
    for other in book.worksheets[1:]:
        # A second visit sheet would be left out without a word: refuse the file instead.
        if any(
            any(_text(cell) == "样本编号" for cell in row)
            for row in other.iter_rows(max_row=5, values_only=True)
        ):
            raise ValidationError(
                _("“%(first)s”和“%(second)s”两张表都是入户核查表：请合并为一张表后重新上传。")
                % {"first": sheet.title, "second": other.title},
                code="two_sheets",
            )
    labels = {label: key for key, label in COLUMNS}
    missing = [label for _key, label in COLUMNS if label not in header_row]
    if missing:
        raise ValidationError(
            _("缺少列：%(columns)s。") % {"columns": _("、").join(missing)}, code="missing_columns"
        )
    index = {labels[label]: i for i, label in enumerate(header_row) if label in labels}
    samples = {
        s.pk: s
        for s in SampleHousehold.objects.filter(campaign=campaign).select_related(
            "finding", "sample_village__village", "campaign"
        )
    }
    errors: list[str] = []
    parsed: list[tuple[SampleHousehold, dict[str, Any], bool]] = []
    seen: set[int] = set()
    for row_number, row in enumerate(rows, start=position + 1):
        values = {key: (row[i] if i < len(row) else None) for key, i in index.items()}
        sample_text = _text(values.get("sample"))
        answered = [key for key, _label in COLUMNS[6:] if _text(values.get(key))]
        if not sample_text and not answered:
            continue  # an empty row
        try:
            sample = samples[int(sample_text)]
        except (ValueError, KeyError):
            errors.append(
                _("第%(row)d行：样本编号“%(value)s”不属于本次评估。")
                % {"row": row_number, "value": sample_text}
            )
            continue
        if sample.pk in seen:
            errors.append(
                _("第%(row)d行：样本编号%(id)d重复。") % {"row": row_number, "id": sample.pk}
            )
            continue
        seen.add(sample.pk)
        if _text(values.get("number")) != sample.number:
            errors.append(
                _("第%(row)d行：户编号与样本编号%(id)d不符。")
                % {"row": row_number, "id": sample.pk}
            )
            continue
        if not answered:
            continue
        existing = getattr(sample, "finding", None)
        if existing is not None and existing.status == Finding.Status.CONFIRMED:
            continue  # already confirmed: the workbook cannot change it; not an error
        data, confirm, problems = _parse_row(values, sample)
        if not problems:
            normalised = services._normalise(sample, data)
            rule_errors = services.finding_errors(sample, normalised, confirm=confirm)
            for field_errors in rule_errors.values():
                problems += [str(e.message) for e in field_errors]
        if problems:
            errors.append(
                _("第%(row)d行（%(head)s）：%(problems)s")
                % {"row": row_number, "head": sample.head_name, "problems": _("；").join(problems)}
            )
            continue
        parsed.append((sample, data, confirm))
    book.close()
    if errors:
        raise ValidationError(errors, code="rows")
    saved = confirmed = 0
    for sample, data, confirm in parsed:
        services.finding_save(actor=actor, sample=sample, data=data, confirm=confirm)
        saved += 1
        confirmed += int(confirm)
    event_record(
        kind=InspectionEvent.Kind.FINDINGS_IMPORTED,
        actor=actor,
        campaign=campaign,
        data={"saved": saved, "confirmed": confirmed},
    )
    return {"saved": saved, "confirmed": confirmed}
