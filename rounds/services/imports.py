"""The 四类名单 workbook: its empty template, the all-or-nothing import (in a request or, for a
large workbook, as the `rounds.changes_import` job, registered on import of this module)."""

from __future__ import annotations

import io
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from povertyapp import audit, jobs, roles, uploads
from povertyapp.models import Job, User
from rounds.models import AdjustmentRound, RoundChange
from rounds.services.changes import (
    _create_change,
    _proposal_errors,
    _require_proposer,
    _scoped_household,
    removal_grounds,
)

Kind = RoundChange.Kind


WORKBOOK_COLUMNS = ("户编号", "户主姓名", "人数", "理由")


def _sheet_names() -> dict[str, str]:
    """The workbook's sheet names: the lists' official Chinese names whatever the user's
    language, so that a template downloaded in English mode imports anywhere."""
    with translation.override(settings.LANGUAGE_CODE):
        return {kind: str(Kind(kind).label) for kind in RoundChange.STATUS_KINDS}


def changes_template() -> bytes:
    """An empty 四类名单 workbook: one sheet per list with the four columns."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for label in _sheet_names().values():
        sheet = workbook.create_sheet(label)
        sheet.append(list(WORKBOOK_COLUMNS))
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["B"].width = 12
        sheet.column_dimensions["D"].width = 48
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@transaction.atomic
def changes_import(
    *, actor: User, round: AdjustmentRound, file: IO[bytes], max_rows: int | None = None
) -> list[RoundChange]:
    """Import a 四类名单 workbook (sheets 新识别纳入/剔除/返贫/标注脱贫; columns 户编号, 户主姓名,
    人数, 理由). All or nothing: every row is checked first, and any error (listed per sheet and
    row, in Chinese) rejects the whole file. In a request (`max_rows` None) at most
    UPLOAD_INLINE_MAX_ROWS rows per sheet are read; a larger workbook goes to
    `changes_import_start` (a job, with the job's row limit)."""
    from openpyxl import load_workbook

    _require_proposer(actor, round)
    uploads.check_spreadsheet(file, inline=max_rows is None)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a file that is not xlsx
        raise ValidationError(
            _("无法读取文件，请上传 .xlsx 格式的四类名单。"), code="bad_file"
        ) from error
    labels = {label: kind for kind, label in _sheet_names().items()}
    errors: list[str] = []
    lines: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    grounds = removal_grounds(round)
    for sheet in workbook.worksheets:
        kind = labels.get(sheet.title.strip())
        if kind is None:
            errors.append(
                _("工作表“%(sheet)s”不是四类名单之一（应为：%(names)s）。")
                % {"sheet": sheet.title, "names": "、".join(labels)}
            )
            continue
        rows = uploads.limited_rows(sheet, limit=max_rows)
        header = [_cell_text(value) for value in next(rows, ())]
        positions = {}
        for column in WORKBOOK_COLUMNS:
            if column not in header:
                errors.append(
                    _("“%(sheet)s”缺少“%(column)s”列。") % {"sheet": sheet.title, "column": column}
                )
            else:
                positions[column] = header.index(column)
        if len(positions) != len(WORKBOOK_COLUMNS):
            continue
        for row_number, row in enumerate(rows, start=2):
            values = {
                column: _cell_text(row[index]) if index < len(row) else ""
                for column, index in positions.items()
            }
            if not any(values.values()):
                continue
            number = values["户编号"]
            where = _("“%(sheet)s”第%(row)d行") % {"sheet": sheet.title, "row": row_number}
            if not number:
                errors.append(f"{where}：" + _("请填写户编号。"))
                continue
            if number in seen:
                errors.append(
                    f"{where}："
                    + _("户编号%(number)s在%(other)s已出现。")
                    % {"number": number, "other": seen[number]}
                )
                continue
            seen[number] = where
            household = _scoped_household(actor, number=number)
            row_errors, ground = _proposal_errors(
                actor=actor,
                round=round,
                household=household,
                kind=kind,
                persons=values["人数"],
                head_name=values["户主姓名"],
                reason=values["理由"],
                ground="",
                grounds=grounds,
            )
            errors.extend(f"{where}（{number}）：{error}" for error in row_errors)
            if not row_errors:
                lines.append(
                    {
                        "household": household,
                        "kind": kind,
                        "persons": int(values["人数"]),
                        "head_name": values["户主姓名"],
                        "reason": values["理由"],
                        "ground": ground,
                        "where": where,
                    }
                )
    if not errors and not lines:
        errors.append(_("文件中没有名单记录。"))
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_row") for error in errors])
    created = []
    for line in lines:
        where = line.pop("where")
        try:
            with transaction.atomic():
                created.append(_create_change(actor=actor, round=round, source="import", **line))
        except ValidationError as error:
            errors.extend(f"{where}：{message}" for message in error.messages)
    if errors:
        raise ValidationError([ValidationError(error, code="invalid_row") for error in errors])
    # 安全审计: an import is one audit row, in the import's transaction (page and job alike).
    audit.record(
        "import",
        user=actor,
        target="rounds.changes",
        object_id=round.pk,
        detail={"rows": len(created), "via": "inline" if max_rows is None else "job"},
    )
    return created


CHANGES_IMPORT_JOB = "rounds.changes_import"


def changes_import_start(
    *, actor: User, round: AdjustmentRound, file: IO[bytes], filename: str = ""
) -> Job:
    """A 四类名单 workbook too large to validate in a request: kept (outside MEDIA_ROOT) and
    imported by a job, all or nothing as `changes_import`; the job page shows the first errors
    and offers the workbook of all of them."""
    _require_proposer(actor, round)
    uploads.check_spreadsheet(file, inline=True)
    name = uploads.upload_keep(file)
    return jobs.job_enqueue(
        user=actor,
        kind=CHANGES_IMPORT_JOB,
        region=actor.region,
        parameters={"round": round.pk, "file": name, "filename": filename[:128]},
    )


@jobs.register(
    CHANGES_IMPORT_JOB, gettext_lazy("导入四类名单"), may_start=roles.can_write_households
)
def changes_import_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    actor = job.created_by
    round = (
        AdjustmentRound.objects.select_related("county")
        .filter(pk=job.parameters.get("round"))
        .first()
    )
    if actor is None or round is None:
        raise jobs.JobFailed(_("动态调整批次或发起人已不存在，任务未执行。"))

    def apply(handle: IO[bytes]) -> dict[str, Any]:
        try:
            created = changes_import(
                actor=actor, round=round, file=handle, max_rows=uploads.job_max_rows()
            )
        except PermissionDenied as denied:
            raise jobs.JobFailed(str(denied)) from denied
        return {"created": len(created)}

    return uploads.upload_validation_run(job, progress, apply)
