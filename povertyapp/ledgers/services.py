"""Exporting a ledger: who may, over which region, direct download or job, access log.

`ledger_export_start` is what the page and the command call: it counts the rows and either
writes the workbook now (small: at most LEDGER_JOB_THRESHOLD rows) or enqueues a job (large).
Both paths end in `ledger_write`, which streams rows from the database in chunks into an
xlsxwriter constant-memory workbook and records the export in the access log (who, which
ledger, filters, rows, SHA-256 of the file).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connections
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from povertyapp import crypto, db_router, jobs, regions, roles
from povertyapp.ledgers import Ledger, ledger_get
from povertyapp.ledgers.layout import SENSITIVE, LedgerWorkbook, Letterhead
from povertyapp.models import AccessLog, Job, Region, User
from povertyapp.privacy import access_log_record, has_sensitive_number, mask_text

EXPORT_JOB = "ledger_export"


def job_threshold() -> int:
    """Above this many rows an export runs as a background job (setting, default 5,000)."""
    return int(settings.LEDGER_JOB_THRESHOLD)


@dataclass
class ExportResult:
    rows: int
    sha256: str
    filename: str


def clean_filters(filters: dict[str, Any]) -> dict[str, str]:
    """Filters as plain strings (kept on the job row and in the access log)."""
    cleaned: dict[str, str] = {}
    for key, value in filters.items():
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        if value in (None, "") or key in ("csrfmiddlewaretoken", "page", "page_size", "ledger"):
            continue
        cleaned[str(key)[:32]] = str(value)[:64]
    return cleaned


def _ledger_for(user: User, key: str) -> Ledger:
    if not roles.can_export(user):
        raise PermissionDenied(_("您的角色不能导出台账。"))
    ledger = ledger_get(key)
    if ledger is None:
        raise ValidationError(_("没有这种台账，或其数据尚未建立。"), code="unknown_ledger")
    if not ledger.may_export(user):
        raise PermissionDenied(_("您的角色不能导出这种台账。"))
    return ledger


def ledger_region(user: User, filters: dict[str, str]) -> Region | None:
    """The region a ledger is for: the `region` filter (must be in the user's scope) or the
    user's own region. Outside the scope answers 404 like every other object outside a scope
    (and like an unknown code): refused, never silently emptied."""
    code = filters.get("region")
    if not code and any(filters.get(step) for step in regions.STEPS):
        # The page's 县, 乡镇, 行政村 cascade (povertyapp/regions.py): its deepest step.
        found = regions.cascade(user, filters)
        if found.asked and found.chosen is None:
            raise Http404(_("所选区划不在您的管辖范围内。"))
        return found.chosen or user.region
    if not code:
        return user.region
    region = Region.objects.filter(code=code).first()
    if region is None or not roles.region_in_scope(user, region):
        raise Http404(_("所选区划不在您的管辖范围内。"))
    return region


WIDE_LEVELS = frozenset({Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY})
REASON_MIN_LENGTH = 4
REASON_MAX_LENGTH = 200


def reason_threshold() -> int:
    """Above this many rows an unmasked export asks for a reason (setting, default 500)."""
    return int(settings.UNMASKED_EXPORT_REASON_ROWS)


def export_reason_required(*, user: User, region: Region | None, rows: int) -> bool:
    """An unmasked export (the user sees full ID numbers, bank accounts and health details) of
    a whole county or wider (or of the user's whole scope, when no region is chosen and the
    user has none), or of more than UNMASKED_EXPORT_REASON_ROWS rows, needs a reason."""
    if not roles.can_view_sensitive(user):
        return False
    wide = region is None or region.level in WIDE_LEVELS
    return wide or rows > reason_threshold()


def export_reason_clean(*, user: User, region: Region | None, rows: int, reason: str) -> str:
    """The reason, trimmed; a ValidationError (field `reason`) when it is required and missing
    or too short, or too long in any case."""
    reason = " ".join((reason or "").split())
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": ValidationError(
                    _("导出事由最多%(max)d个字，请精简后再导出。") % {"max": REASON_MAX_LENGTH},
                    code="reason_too_long",
                )
            }
        )
    if export_reason_required(user=user, region=region, rows=rows) and (
        len(reason) < REASON_MIN_LENGTH
    ):
        raise ValidationError(
            {
                "reason": ValidationError(
                    _(
                        "本次导出含未脱敏的身份证号码、银行账号和健康信息（全县范围或超过"
                        "%(rows)d行），请在“导出事由”中写明用途（至少%(min)d个字），"
                        "事由将记入审计日志。"
                    )
                    % {"rows": reason_threshold(), "min": REASON_MIN_LENGTH},
                    code="reason_required",
                )
            }
        )
    return reason


def export_watermark(user: User) -> str:
    """The visible mark of an unmasked workbook: who exported it, and when."""
    return _("内部资料 导出人：%(person)s(%(username)s) %(time)s 请勿外传") % {
        "person": user.display_name,
        "username": user.get_username(),
        "time": f"{timezone.localtime():%Y-%m-%d %H:%M}",
    }


def ledger_export_check(
    *, user: User, key: str, filters: dict[str, str], reason: str = ""
) -> tuple[int, str]:
    """Everything an export checks before it starts (rights, scope, reason): the row count and
    the cleaned reason. The page, the job and the command all come through here."""
    rows = ledger_row_count(user=user, key=key, filters=filters)
    region = ledger_region(user, filters)
    return rows, export_reason_clean(user=user, region=region, rows=rows, reason=reason)


def export_filename(ledger: Ledger, region: Region | None) -> str:
    place = region.name if region is not None else ""
    return f"{ledger.title}_{place}_{timezone.localdate():%Y%m%d}.xlsx".replace("/", "_")


def ledger_row_count(*, user: User, key: str, filters: dict[str, str]) -> int:
    ledger = _ledger_for(user, key)
    ledger_region(user, filters)
    return sum(sheet.count() for sheet in ledger.sheets(user=user, filters=filters))


def ledger_write(
    *,
    user: User,
    key: str,
    filters: dict[str, str],
    path: str,
    on_rows: Any = None,
    request: Any = None,
    reason: str = "",
    catch_up: bool = False,
) -> ExportResult:
    """Write the ledger to `path` and record it in the access log (with `reason`, checked by
    `ledger_export_check`). An unmasked workbook carries the watermark on every page. The rows
    are read from the read replica if there is one (`catch_up`: a job's, first waiting for the
    replica to replay what the primary had; `povertyapp.db_router.read_from_replica`)."""
    ledger = _ledger_for(user, key)
    region = ledger_region(user, filters)
    sensitive_visible = roles.can_view_sensitive(user)
    rows = 0
    # The rows are read from the read replica when there is one (issue 19), and the header
    # says which time they stand at (数据时点: the replica's replay time, else the primary's).
    with db_router.read_from_replica(catch_up=catch_up):
        letterhead = Letterhead(
            unit=region.name if region is not None else "",
            person=user.display_name,
            date=timezone.localdate(),
            data_as_of=db_router.data_as_of(),
        )
        sheets = ledger.sheets(user=user, filters=filters)
        with (
            _without_jit(),
            LedgerWorkbook(
                path,
                letterhead=letterhead,
                sensitive_visible=sensitive_visible,
                watermark=export_watermark(user) if sensitive_visible else "",
            ) as workbook,
        ):
            for sheet in sheets:
                rows += workbook.write_sheet(sheet, on_rows=on_rows)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    sensitive = sorted(
        {column.header for sheet in sheets for column in sheet.columns if column.kind == SENSITIVE}
    )
    access_log_record(
        user=user,
        action=AccessLog.Action.EXPORT,
        target=f"ledger:{key}",
        object_id=region.code if region is not None else "",
        fields=sensitive if sensitive_visible else [],
        detail={
            "ledger": str(ledger.title),
            # An ID number searched for is in the audit row masked, never in full.
            "filters": {name: mask_text(value) for name, value in filters.items()},
            "rows": rows,
            "sha256": digest.hexdigest(),
            "masked": not sensitive_visible,
        },
        request=request,
        sha256=digest.hexdigest(),
        reason=reason,
    )
    return ExportResult(
        rows=rows, sha256=digest.hexdigest(), filename=export_filename(ledger, region)
    )


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL: no JIT compilation for the export's queries. A county's ledger query is
    estimated costly enough to trigger JIT, whose compilation (seconds, once per parallel
    worker) cost more than running the query (measured: docs/performance.md). Set for this
    connection while the workbook is written, then reset; not a transaction, so that the
    job's progress rows stay visible while it runs."""
    connection = connections[db_router.read_alias()]  # the replica's, when it is read
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


@dataclass
class ExportStart:
    """Either a written file (direct download) or a job to watch."""

    path: str | None = None
    result: ExportResult | None = None
    job: Job | None = None


def ledger_export_start(
    *, user: User, key: str, filters: dict[str, Any], request: Any = None, reason: str = ""
) -> ExportStart:
    cleaned = clean_filters(filters)
    rows, reason = ledger_export_check(user=user, key=key, filters=cleaned, reason=reason)
    if rows > job_threshold():
        region = ledger_region(user, cleaned)
        job = jobs.job_enqueue(
            user=user,
            kind=EXPORT_JOB,
            region=region,
            parameters={"ledger": key, "filters": _sealed(cleaned), "reason": reason},
        )
        return ExportStart(job=job)
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="ledger-")
    os.close(handle)
    try:
        result = ledger_write(
            user=user, key=key, filters=cleaned, path=path, request=request, reason=reason
        )
    except BaseException:
        os.unlink(path)
        raise
    return ExportStart(path=path, result=result)


@jobs.register(EXPORT_JOB, gettext_lazy("导出台账"), may_start=roles.can_export)
def run_export_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    """The export job: same writer, progress by rows, the file kept on the job row."""
    user = job.created_by
    if user is None or not roles.can_export(user):
        raise jobs.JobFailed(_("发起人已无导出权限，任务未执行。"))
    key = job.parameters.get("ledger", "")
    filters = _unsealed(job.parameters.get("filters", {}))
    try:
        # Checked again when the job runs: the rows or the starter's rights may have changed.
        rows, reason = ledger_export_check(
            user=user, key=key, filters=filters, reason=job.parameters.get("reason", "")
        )
        progress.set_total(rows)
    except (PermissionDenied, Http404, ValidationError) as error:
        raise jobs.JobFailed(_("无法导出：%(reason)s") % {"reason": _message(error)}) from error
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="ledger-")
    os.close(handle)
    try:
        result = ledger_write(
            user=user,
            key=key,
            filters=filters,
            path=path,
            reason=reason,
            catch_up=True,
            on_rows=lambda count: progress.advance(
                count, message=_("已写入%(rows)d行") % {"rows": progress.job.progress + count}
            ),
        )
        with open(path, "rb") as handle_file:
            job.result_file.save(result.filename, File(handle_file), save=False)
        Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    finally:
        os.unlink(path)
    return {"rows": result.rows, "sha256": result.sha256, "filename": result.filename}


def _sealed(filters: dict[str, str]) -> dict[str, str]:
    """Filters as kept on the job row: a value holding an ID, account or phone number (a
    search) is stored encrypted like the registry's own columns (数据保密性)."""
    return {
        name: crypto.encrypt(value) if has_sensitive_number(value) else value
        for name, value in filters.items()
    }


def _unsealed(filters: dict[str, str]) -> dict[str, str]:
    return {
        name: (crypto.decrypt(value) or "") if crypto.is_encrypted(value) else value
        for name, value in filters.items()
    }


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "；".join(error.messages)
    return str(error)
