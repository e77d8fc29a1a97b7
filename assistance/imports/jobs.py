"""The three assistance imports as the pages and commands see them (`IMPORTS`), and their job
kinds, registered on import of this module: the page keeps the upload (`uploads.upload_keep`)
and a job imports it, all or nothing; a refused file leaves the workbook of every problem on
the job (`uploads.upload_validation_run`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistance import services
from assistance.imports.measures import SHEET as MEASURE_SHEET
from assistance.imports.measures import import_measures, measures_template
from assistance.imports.pairings import SHEET as PAIRING_SHEET
from assistance.imports.pairings import import_pairings, pairings_template
from assistance.imports.projects import (
    BENEFICIARY_SHEET,
    PROJECT_SHEET,
    import_projects,
    projects_template,
)
from assistance.imports.reading import SheetSpec
from assistance.imports.result import ImportResult
from povertyapp import jobs, roles, uploads
from povertyapp.models import Job, User

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@dataclass(frozen=True)
class AssistanceImport:
    key: str  # measures, pairings, projects: the URL's and the command's word
    job_kind: str
    title: StrPromise
    may_start: Callable[[User], bool]
    run: Callable[..., ImportResult]
    template: Callable[..., None]
    template_name: StrPromise  # the download's name, without the date
    sheets: tuple[SheetSpec, ...]
    natural_key: StrPromise


IMPORTS: dict[str, AssistanceImport] = {
    item.key: item
    for item in (
        AssistanceImport(
            key="measures",
            job_kind="assistance.measures_import",
            title=gettext_lazy("导入帮扶措施"),
            may_start=roles.can_write_households,
            run=import_measures,
            template=measures_template,
            template_name=gettext_lazy("帮扶措施导入模板"),
            sheets=(MEASURE_SHEET,),
            natural_key=gettext_lazy("户编号＋证件号码＋帮扶年度＋措施类别＋措施内容"),
        ),
        AssistanceImport(
            key="pairings",
            job_kind="assistance.pairings_import",
            title=gettext_lazy("导入结对帮扶"),
            may_start=roles.can_write_households,
            run=import_pairings,
            template=pairings_template,
            template_name=gettext_lazy("结对帮扶导入模板"),
            sheets=(PAIRING_SHEET,),
            natural_key=gettext_lazy("户编号＋帮扶责任人＋帮扶开始日期"),
        ),
        AssistanceImport(
            key="projects",
            job_kind="assistance.projects_import",
            title=gettext_lazy("导入项目库"),
            may_start=services.can_manage_funds,
            run=import_projects,
            template=projects_template,
            template_name=gettext_lazy("项目库导入模板"),
            sheets=(PROJECT_SHEET, BENEFICIARY_SHEET),
            natural_key=gettext_lazy("项目编号"),
        ),
    )
}


def _job_function(item: AssistanceImport) -> Callable[[Job, jobs.Progress], dict[str, Any]]:
    def run(job: Job, progress: jobs.Progress) -> dict[str, Any]:
        actor = job.created_by
        if actor is None or not item.may_start(actor):
            raise jobs.JobFailed(_("发起人已无导入权限，任务未执行。"))

        def apply(handle: IO[bytes]) -> dict[str, Any]:
            try:
                result = item.run(
                    actor=actor,
                    path=str(getattr(handle, "name", "")),
                    max_rows=uploads.job_max_rows(),
                )
            except PermissionDenied as denied:
                raise jobs.JobFailed(str(denied)) from denied
            return result.as_dict()

        return uploads.upload_validation_run(job, progress, apply)

    return run


for _item in IMPORTS.values():
    jobs.register(_item.job_kind, _item.title, may_start=_item.may_start)(_job_function(_item))


def import_start(*, actor: User, item: AssistanceImport, upload: IO[bytes], filename: str) -> Job:
    """Check an uploaded workbook (before any parsing), keep it, and start its import job."""
    if not item.may_start(actor):
        raise PermissionDenied(_("您的角色不能进行此项导入。"))
    uploads.check_spreadsheet(upload, inline=False)
    name = uploads.upload_keep(upload)
    return jobs.job_enqueue(
        user=actor,
        kind=item.job_kind,
        region=actor.region,
        parameters={"file": name, "filename": filename[:128]},
    )
