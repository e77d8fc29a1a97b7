"""The onboarding import job (kind `households.onboarding_import`): the uploaded file (kept by
`povertyapp.uploads.upload_keep` after the one door's checks) imported or previewed for the
county officer who started it; when the file has errors, the error workbook is the job's result
file and the job fails with the first errors. Importing this module registers the kind."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.imports.report import ImportRefused
from households.onboarding.regions import MERGE_SHEET, REGION_SHEET, import_regions
from households.onboarding.tables import OnboardingReport, SheetSpec, error_workbook, read_tables
from households.onboarding.villages import (
    RESIDENT_TEAM_SHEET,
    VILLAGE_YEAR_SHEET,
    import_resident_teams,
    import_village_years,
)
from povertyapp import jobs, roles, uploads
from povertyapp.models import Job, User

ONBOARDING_JOB = "households.onboarding_import"

# What can be imported: its label and sheets.
KINDS: dict[str, tuple[Any, tuple[SheetSpec, ...]]] = {
    "regions": (gettext_lazy("行政区划"), (REGION_SHEET, MERGE_SHEET)),
    "village_years": (gettext_lazy("村年度信息"), (VILLAGE_YEAR_SHEET,)),
    "resident_teams": (gettext_lazy("驻村工作队"), (RESIDENT_TEAM_SHEET,)),
}


def onboarding_import(
    what: str, *, actor: User | None, path: str, dry_run: bool, year: int | None = None
) -> OnboardingReport:
    """Run the import `what` ("regions", "village_years", "resident_teams") on a file."""
    if what == "regions":
        return import_regions(actor=actor, path=path, dry_run=dry_run)
    if what == "village_years":
        if year is None:
            raise ImportRefused(_("请指定年度。"))
        return import_village_years(actor=actor, path=path, year=year, dry_run=dry_run)
    if what == "resident_teams":
        return import_resident_teams(actor=actor, path=path, dry_run=dry_run)
    raise ImportRefused(_("未知的导入类型。"))


def write_error_workbook(target: str, *, what: str, source: str, report: OnboardingReport) -> None:
    tables = read_tables(source, KINDS[what][1])[0]
    error_workbook(target, report=report, tables=tables)


def _attach_errors(job: Job, *, what: str, source: str, report: OnboardingReport) -> None:
    handle_number, report_path = tempfile.mkstemp(suffix=".xlsx", prefix="onboarding-errors-")
    os.close(handle_number)
    try:
        write_error_workbook(report_path, what=what, source=source, report=report)
        name = _("导入错误清单_%(what)s_%(day)s.xlsx") % {
            "what": KINDS[what][0],
            "day": f"{timezone.localdate():%Y%m%d}",
        }
        with open(report_path, "rb") as handle:
            job.result_file.save(name, File(handle), save=False)
        Job.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    finally:
        os.unlink(report_path)


def error_lines(report: OnboardingReport, *, limit: int | None = None) -> list[str]:
    """The row errors as lines naming sheet, row and column."""
    shown = report.errors if limit is None else report.errors[:limit]
    return [
        _("%(sheet)s第%(row)d行“%(column)s”：%(message)s")
        % {"sheet": error.sheet, "row": error.row, "column": error.column, "message": error.message}
        for error in shown
    ]


@jobs.register(ONBOARDING_JOB, gettext_lazy("导入基础数据"), may_start=roles.can_configure)
def run_onboarding_job(job: Job, progress: jobs.Progress) -> dict[str, Any]:
    user = job.created_by
    if user is None or not roles.can_configure(user):
        raise jobs.JobFailed(_("发起人已无导入权限，任务未执行。"))
    what = str(job.parameters.get("what", ""))
    if what not in KINDS:
        raise jobs.JobFailed(_("未知的导入类型。"))
    try:
        path = uploads.kept_path(str(job.parameters.get("file", "")))
    except ValueError:
        raise jobs.JobFailed(_("上传的文件不存在，请重新上传。")) from None
    if not os.path.exists(path):
        raise jobs.JobFailed(_("上传的文件已过期或不存在，请重新上传。"))
    progress.set_total(1)
    try:
        year = job.parameters.get("year")
        report = onboarding_import(
            what,
            actor=user,
            path=path,
            dry_run=bool(job.parameters.get("dry_run")),
            year=int(year) if year else None,
        )
        if report.errors:
            _attach_errors(job, what=what, source=path, report=report)
            shown = "\n".join(uploads.capped_errors(error_lines(report)).messages)
            raise jobs.JobFailed(
                _("发现%(count)d个问题，文件中的记录均未保存。请修改后重新上传：")
                % {"count": len(report.errors)}
                + "\n"
                + shown
            )
    except ImportRefused as refusal:
        raise jobs.JobFailed(str(refusal)) from refusal
    finally:
        if os.path.exists(path):
            os.unlink(path)
    progress.advance(1, message=report.summary())
    return report.as_dict()
