"""The import job (kind `households_import`): the uploaded file imported (or previewed) for the user
who started it, the error workbook attached, the access recorded. Importing this module registers
the job kind: `households.imports` imports it, for the web process and for the worker (the ledger
machinery autodiscovers `<app>.imports`)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.imports.error_workbook import error_workbook
from households.imports.files import IMPORT_JOB, import_file_path
from households.imports.report import ImportRefused, ImportReport
from households.imports.writing import import_households
from povertyapp import jobs, roles
from povertyapp.models import AccessLog, Job
from povertyapp.privacy import access_log_record


def _error_workbook_name(job: Job) -> str:
    """The name the error workbook downloads under: 导入错误清单_<uploaded name>_<date>.xlsx."""
    uploaded = os.path.splitext(os.path.basename(job.parameters.get("filename", "")))[0]
    parts = [_("导入错误清单"), uploaded[:60], f"{timezone.localdate():%Y%m%d}"]
    return "_".join(part for part in parts if part) + ".xlsx"


def _finished(report: ImportReport, *, dry_run: bool) -> str:
    """The job's last message, in place of the phase it was in."""
    if report.errors:
        return _("校验完毕：发现%(count)d处错误，未写入任何数据。") % {"count": report.error_count}
    counts = {
        "created": report.households_created,
        "updated": report.households_updated,
        "unchanged": report.households_unchanged,
    }
    if dry_run:
        return (
            _(
                "预检完毕：将新建%(created)d户、更新%(updated)d户，%(unchanged)d户无变化（尚未写入）。"
            )
            % counts
        )
    return _("已写入：新建%(created)d户、更新%(updated)d户，%(unchanged)d户无变化。") % counts


@jobs.register(IMPORT_JOB, gettext_lazy("导入农户"), may_start=roles.can_write_households)
def run_import_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    user = job.created_by
    if user is None or not roles.can_write_households(user):
        raise jobs.JobFailed(_("发起人已无导入权限，任务未执行。"))
    dry_run = bool(job.parameters.get("dry_run"))
    try:
        path = import_file_path(job.parameters.get("file", ""))
    except ValueError:
        raise jobs.JobFailed(_("上传的文件不存在，请重新上传。")) from None
    if not os.path.exists(path):
        raise jobs.JobFailed(_("上传的文件已过期或不存在，请重新上传。"))
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    try:
        report = import_households(
            actor=user,
            path=path,
            dry_run=dry_run,
            progress=lambda count: progress.advance(count),
            on_total=progress.set_total,
            # The phase and its counts (rows read, households checked, written) on the
            # import page, which polls the job.
            tell=lambda text: progress.advance(0, message=text),
        )
    except ImportRefused as refusal:
        os.unlink(path)
        progress.advance(0, message=_("文件未能导入，未写入任何数据。"))
        raise jobs.JobFailed(str(refusal)) from refusal
    progress.advance(0, message=_finished(report, dry_run=dry_run))
    if report.errors:
        handle_number, report_path = tempfile.mkstemp(suffix=".xlsx", prefix="import-errors-")
        os.close(handle_number)
        try:
            error_workbook(report_path, source=path, report=report)
            with open(report_path, "rb") as handle:
                job.result_file.save(_error_workbook_name(job), File(handle), save=False)
            Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
        finally:
            os.unlink(report_path)
    access_log_record(
        user=user,
        action=AccessLog.Action.IMPORT,
        target="households_import",
        object_id=job.pk,
        fields=[],
        detail={
            "file": job.parameters.get("filename", ""),
            "sha256": digest.hexdigest(),
            "dry_run": dry_run,
            "errors": len(report.errors),
            "written": report.written,
            "households_created": report.households_created,
            "households_updated": report.households_updated,
        },
    )
    if not dry_run or report.errors:
        os.unlink(path)  # kept after a clean dry run, for the confirmation
    return report.as_dict()
