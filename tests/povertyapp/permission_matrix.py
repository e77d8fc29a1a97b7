"""The permission matrix: what each role gets from every URL of the project (访问控制).

Read by `tests/povertyapp/test_permission_matrix.py`. One row per URL name; each method's
outcomes are one character per role, in the order of `ROLES`:

    cadre helper township county auditor sysadmin secadmin auditadmin department city province
    anonymous

(city, province: the city's and the province's offices, 市级/省级乡村振兴部门, issue 16: the
dashboards and the rates API of their subtree, nothing else)

    o  allowed: 2xx, a redirect inside the site, or 400/409/410 (let in; the empty body or the
       missing file refused by the form, serializer or view itself)
    3  403 refused          4  404 not found (outside the scope, or no such object)
    5  405 method not offered
    L  sent to sign in (302 to the sign-in page; 401/403 from the API)

A new URL gets its row here, one entry: run the test with PERMISSION_MATRIX_PRINT=1 to print
what every role gets today, check it against what each role should get, and paste the line.
Path parameters come from `objects()` (the demo county), or from the row: a value
(`kind="..."`), or `Of("key")` for an object of `objects()` under another key (`pk=Of(...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES = (
    "cadre",
    "helper",
    "township",
    "county",
    "auditor",
    "sysadmin",
    "secadmin",
    "auditadmin",
    "department",
    "city",
    "province",
    "anonymous",
)
OUTCOMES = {
    "o": "allowed",
    "3": "403 refused",
    "4": "404 not found",
    "5": "405 method not offered",
    "L": "sent to sign in",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
API_PREFIX = "/api/"
MISSING = 999_999  # an id no object has


@dataclass(frozen=True)
class Of:
    """A path parameter taken from `objects()` under another key than its own name: a router's
    detail parameter is `pk` for every model, and `task_id` names an inspection's correction
    task on one page and a scrutiny task on another."""

    key: str


@dataclass(frozen=True)
class Row:
    methods: dict[str, str]
    params: dict[str, Any]


def row(
    get: str | None = None,
    post: str | None = None,
    put: str | None = None,
    patch: str | None = None,
    delete: str | None = None,
    **params: Any,
) -> Row:
    methods = {"GET": get, "POST": post, "PUT": put, "PATCH": patch, "DELETE": delete}
    return Row(
        methods={method: codes for method, codes in methods.items() if codes is not None},
        params=params,
    )


def methods_for(name: str, pattern: Any) -> tuple[str, ...]:
    """Which methods a URL's row covers: pages GET and POST; the API every method; the admin
    GET, and POST on its add, change and delete pages."""
    if name.startswith("admin:"):
        return ("GET", "POST") if name.endswith(("_add", "_change", "_delete")) else ("GET",)
    if hasattr(pattern.callback, "cls") and name not in ("api-docs",):
        return METHODS
    return ("GET", "POST")


def format_row(name: str, methods: dict[str, str], params: dict[str, Any]) -> str:
    parts = [f"{method.lower()}={codes!r}" for method, codes in methods.items()]
    parts += [f"{key}={value!r}" for key, value in params.items()]
    return f"    {name!r}: row({', '.join(parts)}),"


def objects(users: dict[str, Any]) -> dict[str, Any]:
    """The path parameters: objects of the demo county inside the village cadre works in (the
    household is the one the helper is paired with), so that every case role is in scope."""
    from assistance.models import Asset, CoverageRun, Measure, Pairing, Project
    from households.models import CaseBatch, CaseWorkflow, DataProblem, PublicNotice
    from inspections.models import (
        Campaign,
        CorrectionTask,
        RectificationItem,
        SampleHousehold,
        SampleVillage,
    )
    from monitoring.models import (
        Clue,
        DepartmentList,
        MonitoringObject,
        ObjectRisk,
        ScrutinyTask,
        Sweep,
        SweepHousehold,
    )
    from povertyapp.models import Job
    from rounds.models import AdjustmentRound, RoundChange
    from years.models import EditReview

    def pk(queryset: Any, *fallbacks: Any) -> int:
        """The first object of `queryset` (in cadre's village), else of the fallbacks."""
        for candidates in (queryset, *fallbacks):
            found = candidates.order_by("pk").first()
            if found is not None:
                return found.pk
        return MISSING

    village = users["cadre"].region
    pairing = Pairing.objects.filter(helper=users["helper"], end_date__isnull=True).first()
    assert pairing is not None, "the demo pairs its helper with a household"
    household = pairing.household
    campaign = Campaign.objects.order_by("pk").first()
    monitoring_object_id = pk(
        MonitoringObject.objects.filter(household__village=village),
        MonitoringObject.objects.all(),
    )
    return {
        "household_id": household.pk,
        "member_id": household.members.order_by("pk").first().pk,
        "year": household.incomes.order_by("-year").values_list("year", flat=True).first() or 2020,
        "kind": "identification",
        "card": "contact-card",
        "workflow_id": pk(
            CaseWorkflow.objects.filter(household__village=village), CaseWorkflow.objects.all()
        ),
        "notice_id": pk(
            PublicNotice.objects.filter(workflow__household__village=village),
            PublicNotice.objects.all(),
        ),
        "batch_id": pk(CaseBatch.objects.filter(village=village), CaseBatch.objects.all()),
        "problem_id": pk(DataProblem.objects.filter(village=village)),
        "measure_id": pk(Measure.objects.filter(household=household)),
        "run_id": pk(CoverageRun.objects.all()),
        "village_id": village.pk,
        "project_id": pk(Project.objects.all()),
        "asset_id": pk(Asset.objects.filter(village=village), Asset.objects.all()),
        "campaign_id": campaign.pk if campaign else MISSING,
        "sample_village_id": pk(SampleVillage.objects.filter(campaign=campaign)),
        "sample_id": pk(SampleHousehold.objects.filter(campaign=campaign)),
        "task_id": pk(CorrectionTask.objects.all()),
        "item_id": pk(RectificationItem.objects.all()),
        "round_id": pk(AdjustmentRound.objects.all()),
        "change_id": pk(RoundChange.objects.filter(village=village), RoundChange.objects.all()),
        "code": village.code,
        # issue 16: the year-end sign-off's review list (the demo flags one edit in the village)
        "review_id": pk(EditReview.objects.filter(village=village), EditReview.objects.all()),
        # issue 15: clues
        "list_id": pk(
            DepartmentList.objects.filter(department="medical_insurance"),
            DepartmentList.objects.all(),
        ),
        "job_id": pk(
            Job.objects.filter(created_by=users["county"]).exclude(kind="households_import"),
            Job.objects.all(),
        ),
        "object_id": pk(Job.objects.filter(created_by=users["county"])),
        "app_label": "povertyapp",
        # issue 15: sweep
        "sweep_id": pk(Sweep.objects.filter(state="open"), Sweep.objects.all()),
        "sweep_household_id": pk(
            SweepHousehold.objects.filter(village=village, sweep__state="open"),
            SweepHousehold.objects.all(),
        ),
        # issue 15: objects (a risk of that object)
        "monitoring_object_id": monitoring_object_id,
        "risk_id": pk(ObjectRisk.objects.filter(monitoring_object_id=monitoring_object_id)),
        "clue_id": pk(
            Clue.objects.filter(region=village, household__isnull=False), Clue.objects.all()
        ),
        # The monitoring API's detail rows and the scrutiny task page (`Of(...)` in their rows):
        # a clue the village still has to verify, a monitoring procedure and a scrutiny task.
        "verification_task_id": pk(
            Clue.objects.filter(region=village, state__in=["pending", "verified", "unregistered"])
        ),
        "monitoring_procedure_id": pk(
            CaseWorkflow.objects.filter(
                household__village=village, kind__in=["monitoring", "risk_elimination"]
            )
        ),
        "scrutiny_task_id": pk(
            ScrutinyTask.objects.filter(village=village), ScrutinyTask.objects.all()
        ),
    }


# URLs the matrix does not request, with why (they still must exist).
NOT_REQUESTED = {
    "admin:<unnamed>": "the admin's catch-all (any other path under /admin/)",
    "admin:view_on_site": "a redirect to a model's own page; no model of the admin has one",
}
# Pages an anonymous visitor may open, with why. Everything else sends them to sign in.
PUBLIC = {
    "login": "the sign-in page",
    "set_language": "the language switch of the sign-in page",
    "javascript-catalog": "the scripts' translations (no data); the farmer's declaration page "
    "(no account) needs them",
    "admin:login": "the admin's sign-in page",
    "admin:logout": "signing out (nothing to sign out of)",
    "api-token": "username and password for a token (the API's sign-in)",
    "api-schema": "the OpenAPI description (no data)",
    "api-docs": "the API documentation page (no data)",
    "web-manifest": "the installable web app's manifest: name, icons, start page (no data)",
    "service-worker": "the offline page's service worker script (no data; docs/offline.md)",
    "favicon": "the icon every browser asks each site for (no data)",
    "monitoring:declare": "农户自主申报: a farmer declares a risk from their own phone, no account "
    "(rate-limited per IP; the receipt echoes no personal data)",
}

# Columns: cadre helper township county auditor sysadmin secadmin auditadmin department city
# province anonymous.
# The small demo county's cases and notices in the cadre's village are monitoring's (issue 15).
# Every detail row asks for a real object of `objects()`: a 404 below is the scope at work
# (a helper and an object of a household not paired with them), not a missing object.
ROWS: dict[str, Row] = {
    "home": row(get="oooooooooooL", post="oooooooooooL"),
    "login": row(get="oooooooooooo", post="oooooooooooo"),
    "logout": row(get="555555555555", post="LLLLLLLLLLLL"),
    "password_change": row(get="oooooooooooL", post="oooooooooooL"),
    "set_language": row(get="oooooooooooo", post="oooooooooooo"),
    "javascript-catalog": row(get="oooooooooooo", post="555555555555"),
    # issue 17: the installable web app's manifest and service worker hold no data.
    "web-manifest": row(get="oooooooooooo", post="555555555555"),
    "service-worker": row(get="oooooooooooo", post="555555555555"),
    "favicon": row(get="oooooooooooo", post="555555555555"),
    "job-detail": row(get="444o4444444L", post="444o4444444L"),
    # The region cascade's options (povertyapp/regions.py); `public=1` (the declaration page's)
    # answers without an account, as that page names any village: not this row's request.
    "region-options": row(get="ooooo333333L", post="555555555555"),
    "files:download": row(get="44444444444L", post="555555555555"),
    # issue 17: the door's inline variant for photos (each image kind is walked by role in
    # tests/povertyapp/test_files.py, as the download).
    "files:inline": row(get="44444444444L", post="555555555555"),
    "households:list": row(get="ooooo333333L", post="ooooo333333L"),
    "households:import_regions": row(get="333o3333333L", post="333o3333333L"),
    "households:import_village_years": row(get="333o3333333L", post="333o3333333L"),
    "households:import_resident_teams": row(get="333o3333333L", post="333o3333333L"),
    "households:onboarding_template": row(get="333o3333333L", post="333o3333333L", what="regions"),
    "households:group-options": row(get="ooooo333333L", post="ooooo333333L"),
    # issue 19: the 乡镇/行政村 options of the chosen 县 or 乡镇 (the list's region selects).
    "households:create": row(get="o33o3333333L", post="o33o3333333L"),
    "households:detail": row(get="ooooo333333L", post="ooooo333333L"),
    "households:edit": row(get="o33o3333333L", post="o33o3333333L"),
    "households:assistance-badge": row(get="ooooo333333L", post="ooooo333333L"),
    "households:income": row(get="o33o3333333L", post="o33o3333333L"),
    "households:member-remove": row(get="o33o3333333L", post="o33o3333333L"),
    "households:member-move": row(get="o33o3333333L", post="o33o3333333L"),
    "households:workflow-start": row(get="55555555555L", post="o33o3333333L"),
    "households:workflow": row(get="o4ooo333333L", post="o4ooo333333L"),
    "households:workflow-complete": row(get="55555555555L", post="o4ooo333333L"),
    "households:workflow-return": row(get="55555555555L", post="o4ooo333333L"),
    "households:workflow-withdraw": row(get="55555555555L", post="o4ooo333333L"),
    "households:notice-start": row(get="55555555555L", post="o4ooo333333L"),
    "households:notice-objection": row(get="55555555555L", post="o4ooo333333L"),
    "households:notice-print": row(get="o4ooo333333L", post="o4ooo333333L"),
    "households:todo": row(get="ooooo333333L", post="ooooo333333L"),
    "households:batches": row(get="ooooo333333L", post="ooooo333333L"),
    "households:batch-create": row(get="o3333333333L", post="o3333333333L"),
    "households:batch": row(get="44444333333L", post="44444333333L"),
    "households:batch-meeting": row(get="55555555555L", post="44444333333L"),
    "households:batch-notice": row(get="55555555555L", post="44444333333L"),
    "households:batch-step": row(get="55555555555L", post="44444333333L"),
    "households:batch-notice-print": row(get="44444333333L", post="44444333333L"),
    "households:national": row(get="333o3333333L", post="55555555555L"),
    "households:national-export": row(get="55555555555L", post="333o3333333L"),
    "households:national-mark": row(get="55555555555L", post="333o3333333L"),
    "households:national-mark-household": row(get="55555555555L", post="333o3444444L"),
    "households:national-reconcile": row(get="55555555555L", post="333o3333333L"),
    "households:national-report": row(get="33343333333L", post="55555555555L"),
    "households:quality": row(get="ooooo333333L", post="ooooo333333L"),
    "households:quality-run": row(get="55555555555L", post="o3oo3333333L"),
    "households:problem-explain": row(get="55555555555L", post="o4ooo444444L"),
    "households:problem-review": row(get="55555555555L", post="o4ooo444444L"),
    "assistance:index": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:households": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:household": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:measure-create": row(get="55555555555L", post="oo3o3333333L"),
    "assistance:plan-save": row(get="55555555555L", post="oo3o3333333L"),
    "assistance:visit-create": row(get="oo3o3333333L", post="oo3o3333333L"),
    "assistance:pairing-change": row(get="o33o3333333L", post="o33o3333333L"),
    "assistance:print": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:measure-edit": row(get="oo3o3333333L", post="oo3o3333333L"),
    "assistance:measure-status": row(get="55555555555L", post="oo3o3333333L"),
    "assistance:coverage": row(get="o3ooo333333L", post="o3ooo333333L"),
    "assistance:coverage-run": row(get="55555555555L", post="43444333333L"),
    "assistance:coverage-village": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:projects": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:project-create": row(get="33oo3333333L", post="33oo3333333L"),
    "assistance:project": row(get="o4ooo333333L", post="o4ooo333333L"),
    "assistance:project-movement": row(get="55555555555L", post="343o3333333L"),
    "assistance:project-approve": row(get="55555555555L", post="343o3333333L"),
    "assistance:project-publish": row(get="55555555555L", post="343o3333333L"),
    "assistance:project-progress": row(get="55555555555L", post="343o3333333L"),
    "assistance:project-accept": row(get="55555555555L", post="343o3333333L"),
    "assistance:project-close": row(get="55555555555L", post="343o3333333L"),
    "assistance:funds": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:teams": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:assets": row(get="ooooo333333L", post="ooooo333333L"),
    "assistance:asset-create": row(get="33oo3333333L", post="33oo3333333L"),
    "assistance:asset": row(get="o4ooo333333L", post="o4ooo333333L"),
    "assistance:asset-edit": row(get="34oo3333333L", post="34oo3333333L"),
    "assistance:asset-income": row(get="55555555555L", post="34oo3333333L"),
    "assistance:asset-distribution": row(get="55555555555L", post="34oo3333333L"),
    "assistance:exit-plan": row(get="o3ooo333333L", post="o3ooo333333L"),
    # issue 17: 离线走访, for the roles that record visits (roles.can_record_visits).
    "assistance:offline": row(get="oo3o3333333L", post="oo3o3333333L"),
    "inspections:campaigns": row(get="ooooo333333L", post="ooooo333333L"),
    # issue 15: sweep. Helpers, departments and administrators are refused; the county office
    # opens, assigns teams and closes; cadres (and the county office) record the 排查表.
    "monitoring:sweeps": row(get="o3ooo333333L", post="o3ooo333333L"),
    "monitoring:sweep-open": row(get="333o3333333L", post="333o3333333L"),
    "monitoring:sweep": row(get="o3ooo333333L", post="o3ooo333333L"),
    "monitoring:sweep-teams": row(get="o3ooo333333L", post="333o3333333L"),
    "monitoring:sweep-close": row(get="55555555555L", post="333o3333333L"),
    "monitoring:sweep-households": row(get="o3ooo333333L", post="o3ooo333333L"),
    "monitoring:sweep-visit": row(get="o3ooo333333L", post="o33o3333333L"),
    "inspections:campaign-create": row(get="333o3333333L", post="333o3333333L"),
    "inspections:campaign": row(get="44ooo333333L", post="44ooo333333L"),
    "inspections:campaign-draw": row(get="55555555555L", post="443o3333333L"),
    "inspections:campaign-finish": row(get="55555555555L", post="443oo333333L"),
    "inspections:campaign-figures": row(get="44ooo333333L", post="44ooo333333L"),
    "inspections:campaign-workbook": row(get="44ooo333333L", post="44ooo333333L"),
    "inspections:campaign-upload": row(get="55555555555L", post="44333333333L"),
    "inspections:visit-sheet": row(get="44ooo333333L", post="44ooo333333L"),
    "inspections:sample-add": row(get="55555555555L", post="44ooo333333L"),
    "inspections:finding": row(get="44ooo333333L", post="44333333333L"),
    "inspections:tasks": row(get="ooooo333333L", post="ooooo333333L"),
    "inspections:task-resolve": row(get="55555555555L", post="o43o3333333L"),
    "inspections:rectification-list": row(get="ooooo333333L", post="ooooo333333L"),
    "inspections:rectification-create": row(get="333o3333333L", post="333o3333333L"),
    "inspections:rectification-ranking": row(get="ooooo333333L", post="ooooo333333L"),
    "inspections:rectification": row(get="o4ooo333333L", post="o4oo3333333L"),
    "inspections:rectification-transition": row(get="55555555555L", post="o4oo3333333L"),
    "inspections:rectification-evidence": row(get="55555555555L", post="o4oo3333333L"),
    # issue 16: the year-end sign-off (year: the demo's last income year, signed and locked)
    "years:signoff": row(get="ooooo333333L", post="ooooo333333L"),
    "years:signoff-submit": row(get="55555555555L", post="o3333333333L"),
    "years:signoff-sign": row(get="55555555555L", post="33oo3333333L"),
    "years:signoff-return": row(get="55555555555L", post="33oo3333333L"),
    "years:signoff-reopen": row(get="55555555555L", post="333o3333333L"),
    "years:edit-reviews": row(get="33oo3333333L", post="33oo3333333L"),
    "years:edit-review-mark": row(get="55555555555L", post="33oo3333333L"),
    "years-signoff": row(
        get="ooooo333333L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "years-signoff-submit": row(
        get="55555555555L",
        post="o3333333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "years-signoff-sign": row(
        get="55555555555L",
        post="33oo3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "years-signoff-return": row(
        get="55555555555L",
        post="33oo3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "years-signoff-reopen": row(
        get="55555555555L",
        post="333o3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "rounds:list": row(get="ooooo333333L", post="ooooo333333L"),
    "rounds:open": row(get="55555555555L", post="44444333333L"),
    "rounds:detail": row(get="ooooo333333L", post="ooooo333333L"),
    "rounds:propose": row(get="55555555555L", post="ooooo333333L"),
    "rounds:propose-natural": row(get="55555555555L", post="o33o3333333L"),
    "rounds:propose-correction": row(get="55555555555L", post="o33o3333333L"),
    "rounds:import": row(get="55555555555L", post="ooooo333333L"),
    "rounds:template": row(get="ooooo333333L", post="ooooo333333L"),
    "rounds:review": row(get="55555555555L", post="33443333333L"),
    "rounds:decide": row(get="55555555555L", post="33343333333L"),
    "rounds:close": row(get="55555555555L", post="333o3333333L"),
    "rounds:compute": row(get="55555555555L", post="33oo3333333L"),
    "rounds:change-act": row(get="55555555555L", post="ooooo333333L"),
    # issue 16: the city's or province's office starts its roll-up (POST only) and follows it;
    # the run page shows a roll-up job only (the county's rates job here: 404).
    "rounds:rollup-start": row(get="55555555555L", post="4444444444oL", code="520000000000"),
    "rounds:rollup-run": row(get="44444444444L", post="44444444444L"),
    "dashboards:home": row(get="ooooo3333ooL", post="ooooo3333ooL"),
    "dashboards:region": row(get="ooooo3333ooL", post="ooooo3333ooL"),
    "dashboards:households": row(get="44444333333L", post="44444333333L"),
    "ledgers:index": row(get="o3ooo333333L", post="o3ooo333333L"),
    "ledgers:export": row(get="o3ooo333333L", post="o3ooo333333L"),
    "ledgers:import": row(get="o33o3333333L", post="o33o3333333L"),
    "ledgers:import-template": row(get="o33o3333333L", post="o33o3333333L"),
    "ledgers:import-job": row(get="44444444444L", post="44444444444L"),
    "ledgers:import-confirm": row(get="55555555555L", post="43343333333L"),
    "years:onboarding": row(get="333o3333333L", post="55555555555L"),
    "years:rollover": row(get="333o3333333L", post="333o3333333L"),
    # issue 16: the assistance workbooks. 帮扶措施 and 结对帮扶 as the household import (the
    # village cadre and the county office); the 项目库 only the county office (扶贫办).
    "ledgers:assistance-import-measures": row(get="o33o3333333L", post="o33o3333333L"),
    "ledgers:assistance-import-measures-template": row(get="o33o3333333L", post="o33o3333333L"),
    "ledgers:assistance-import-pairings": row(get="o33o3333333L", post="o33o3333333L"),
    "ledgers:assistance-import-pairings-template": row(get="o33o3333333L", post="o33o3333333L"),
    "ledgers:assistance-import-projects": row(get="333o3333333L", post="333o3333333L"),
    "ledgers:assistance-import-projects-template": row(get="333o3333333L", post="333o3333333L"),
    "admin:index": row(get="333o3ooo333L"),
    "admin:login": row(get="ooo4o444oooo"),
    "admin:logout": row(get="333535553334"),
    "admin:password_change": row(get="333o3ooo333L", post="333o3ooo333L"),
    "admin:password_change_done": row(get="333o3ooo333L"),
    "admin:autocomplete": row(get="33333333333L"),
    "admin:jsi18n": row(get="333o3ooo333L"),
    "admin:auth_user_password_change": row(get="333333o3333L", post="333333o3333L"),
    "admin:povertyapp_user_changelist": row(get="333333o3333L"),
    "admin:povertyapp_user_add": row(get="333333o3333L", post="333333o3333L"),
    "admin:povertyapp_user_history": row(get="333333o3333L"),
    "admin:povertyapp_user_delete": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_user_change": row(get="333333o3333L", post="333333o3333L"),
    "admin:povertyapp_region_changelist": row(get="333o3oo3333L"),
    "admin:povertyapp_region_add": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_region_history": row(get="33343oo3333L"),
    "admin:povertyapp_region_delete": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_region_change": row(get="33343oo3333L", post="33333333333L"),
    "admin:povertyapp_villageyear_changelist": row(get="333o3333333L"),
    "admin:povertyapp_villageyear_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:povertyapp_villageyear_history": row(get="333o3444333L"),
    "admin:povertyapp_villageyear_delete": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_villageyear_change": row(get="333o3333333L", post="333o3333333L"),
    "admin:povertyapp_calendarday_changelist": row(get="33333o33333L"),
    "admin:povertyapp_calendarday_add": row(get="33333o33333L", post="33333o33333L"),
    "admin:povertyapp_calendarday_history": row(get="33333o33333L"),
    "admin:povertyapp_calendarday_delete": row(get="33333o33333L", post="33333o33333L"),
    "admin:povertyapp_calendarday_change": row(get="33333o33333L", post="33333o33333L"),
    "admin:povertyapp_job_changelist": row(get="333o3o33333L"),
    "admin:povertyapp_job_add": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_job_history": row(get="333o3o33333L"),
    "admin:povertyapp_job_delete": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_job_change": row(get="333o3o33333L", post="33333333333L"),
    "admin:povertyapp_accesslog_changelist": row(get="3333333o333L"),
    "admin:povertyapp_accesslog_add": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_accesslog_history": row(get="3333333o333L"),
    "admin:povertyapp_accesslog_delete": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_accesslog_change": row(get="3333333o333L", post="33333333333L"),
    "admin:axes_accessattempt_changelist": row(get="333333o3333L"),
    "admin:axes_accessattempt_add": row(get="33333333333L", post="33333333333L"),
    "admin:axes_accessattempt_history": row(get="333333o3333L"),
    "admin:axes_accessattempt_delete": row(get="333333o3333L", post="333333o3333L"),
    "admin:axes_accessattempt_change": row(get="333333o3333L", post="33333333333L"),
    "admin:axes_accesslog_changelist": row(get="333333o3333L"),
    "admin:axes_accesslog_add": row(get="33333333333L", post="33333333333L"),
    "admin:axes_accesslog_history": row(get="333333o3333L"),
    "admin:axes_accesslog_delete": row(get="33333333333L", post="33333333333L"),
    "admin:axes_accesslog_change": row(get="333333o3333L", post="33333333333L"),
    "admin:axes_accessfailurelog_changelist": row(get="333333o3333L"),
    "admin:axes_accessfailurelog_add": row(get="33333333333L", post="33333333333L"),
    "admin:axes_accessfailurelog_history": row(get="333333o3333L"),
    "admin:axes_accessfailurelog_delete": row(get="33333333333L", post="33333333333L"),
    "admin:axes_accessfailurelog_change": row(get="333333o3333L", post="33333333333L"),
    "admin:households_household_simple_history": row(get="333o3333333L"),
    "admin:households_household_changelist": row(get="333o3333333L"),
    "admin:households_household_add": row(get="33333333333L", post="33333333333L"),
    "admin:households_household_history": row(get="333o3333333L"),
    "admin:households_household_delete": row(get="33333333333L", post="33333333333L"),
    "admin:households_household_change": row(get="333o3333333L", post="33333333333L"),
    "admin:households_householdevent_changelist": row(get="333o3333333L"),
    "admin:households_householdevent_add": row(get="33333333333L", post="33333333333L"),
    "admin:households_householdevent_history": row(get="333o3444333L"),
    "admin:households_householdevent_delete": row(get="33333333333L", post="33333333333L"),
    "admin:households_householdevent_change": row(get="333o3333333L", post="33333333333L"),
    "admin:households_valuelistitem_changelist": row(get="33333o33333L"),
    "admin:households_valuelistitem_add": row(get="33333o33333L", post="33333o33333L"),
    "admin:households_valuelistitem_history": row(get="33333o33333L"),
    "admin:households_valuelistitem_delete": row(get="33333333333L", post="33333333333L"),
    "admin:households_valuelistitem_change": row(get="33333o33333L", post="33333o33333L"),
    "admin:households_povertyline_changelist": row(get="333o3333333L"),
    "admin:households_povertyline_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:households_povertyline_history": row(get="333o3333333L"),
    "admin:households_povertyline_delete": row(get="33333333333L", post="33333333333L"),
    "admin:households_povertyline_change": row(get="333o3333333L", post="333o3333333L"),
    "admin:rounds_adjustmentround_changelist": row(get="333o3333333L"),
    "admin:rounds_adjustmentround_add": row(get="33333333333L", post="33333333333L"),
    "admin:rounds_adjustmentround_history": row(get="333o3444333L"),
    "admin:rounds_adjustmentround_delete": row(get="33333333333L", post="33333333333L"),
    "admin:rounds_adjustmentround_change": row(get="333o3333333L", post="33333333333L"),
    "admin:assistance_pairing_changelist": row(get="333o3333333L"),
    "admin:assistance_pairing_add": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_pairing_history": row(get="333o3444333L"),
    "admin:assistance_pairing_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_pairing_change": row(get="333o3333333L", post="33333333333L"),
    "admin:assistance_matchingrule_simple_history": row(get="333o3333333L"),
    "admin:assistance_matchingrule_changelist": row(get="333o3333333L"),
    "admin:assistance_matchingrule_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:assistance_matchingrule_history": row(get="333o3333333L"),
    "admin:assistance_matchingrule_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_matchingrule_change": row(get="333o3333333L", post="333o3333333L"),
    "admin:assistance_assistancestandard_changelist": row(get="333o3333333L"),
    "admin:assistance_assistancestandard_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:assistance_assistancestandard_history": row(get="333o3333333L"),
    "admin:assistance_assistancestandard_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_assistancestandard_change": row(get="333o3333333L", post="333o3333333L"),
    "admin:assistance_villagesponsor_changelist": row(get="333o3333333L"),
    "admin:assistance_villagesponsor_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:assistance_villagesponsor_history": row(get="333o3444333L"),
    "admin:assistance_villagesponsor_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_villagesponsor_change": row(get="333o3333333L", post="333o3333333L"),
    "admin:assistance_measure_changelist": row(get="333o3333333L"),
    "admin:assistance_measure_add": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_measure_history": row(get="333o3444333L"),
    "admin:assistance_measure_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_measure_change": row(get="333o3333333L", post="33333333333L"),
    "admin:assistance_visit_changelist": row(get="333o3333333L"),
    "admin:assistance_visit_add": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_visit_history": row(get="333o3444333L"),
    "admin:assistance_visit_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_visit_change": row(get="333o3333333L", post="33333333333L"),
    "admin:assistance_project_changelist": row(get="333o3333333L"),
    "admin:assistance_project_add": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_project_history": row(get="333o3444333L"),
    "admin:assistance_project_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_project_change": row(get="333o3333333L", post="33333333333L"),
    "admin:assistance_fundmovement_changelist": row(get="333o3333333L"),
    "admin:assistance_fundmovement_add": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_fundmovement_history": row(get="333o3444333L"),
    "admin:assistance_fundmovement_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_fundmovement_change": row(get="333o3333333L", post="33333333333L"),
    "admin:assistance_coveragerun_changelist": row(get="333o3333333L"),
    "admin:assistance_coveragerun_add": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_coveragerun_history": row(get="333o3444333L"),
    "admin:assistance_coveragerun_delete": row(get="33333333333L", post="33333333333L"),
    "admin:assistance_coveragerun_change": row(get="333o3333333L", post="33333333333L"),
    "admin:inspections_campaign_changelist": row(get="333o3333333L"),
    "admin:inspections_campaign_add": row(get="33333333333L", post="33333333333L"),
    "admin:inspections_campaign_history": row(get="333o3444333L"),
    "admin:inspections_campaign_delete": row(get="33333333333L", post="33333333333L"),
    "admin:inspections_campaign_change": row(get="333o3333333L", post="33333333333L"),
    "admin:inspections_rectificationitem_changelist": row(get="333o3333333L"),
    "admin:inspections_rectificationitem_add": row(get="33333333333L", post="33333333333L"),
    "admin:inspections_rectificationitem_history": row(get="333o3444333L"),
    "admin:inspections_rectificationitem_delete": row(get="33333333333L", post="33333333333L"),
    "admin:inspections_rectificationitem_change": row(get="333o3333333L", post="33333333333L"),
    "admin:inspections_inspectionevent_changelist": row(get="333o3333333L"),
    "admin:inspections_inspectionevent_add": row(get="33333333333L", post="33333333333L"),
    "admin:inspections_inspectionevent_history": row(get="333o3444333L"),
    "admin:inspections_inspectionevent_delete": row(get="33333333333L", post="33333333333L"),
    "admin:inspections_inspectionevent_change": row(get="333o3333333L", post="33333333333L"),
    "admin:app_list": row(get="333o3ooo333L"),
    "api-token": row(
        get="555555555555",
        post="oooooooooooo",
        put="555555555555",
        patch="555555555555",
        delete="555555555555",
    ),
    "api-schema": row(
        get="oooooooooooo",
        post="555555555555",
        put="555555555555",
        patch="555555555555",
        delete="555555555555",
    ),
    "api-docs": row(get="oooooooooooo", post="555555555555"),
    # The account's own pages (issue 14, 身份鉴别): every signed-in user, for themselves.
    "account:security": row(get="oooooooooooL", post="oooooooooooL"),
    "account:second-factor-verify": row(get="oooooooooooL", post="oooooooooooL"),
    "account:second-factor-enrol": row(get="oooooooooooL", post="oooooooooooL"),
    "account:second-factor-backup-codes": row(get="55555555555L", post="oooooooooooL"),
    "account:second-factor-disable": row(get="oooooooooooL", post="oooooooooooL"),
    "account:sessions": row(get="oooooooooooL", post="oooooooooooL"),
    "account:session-end": row(get="55555555555L", post="oooooooooooL"),
    # Second-factor devices: the security administrator views and deletes (resets) them.
    "admin:povertyapp_secondfactordevice_changelist": row(get="333333o3333L"),
    "admin:povertyapp_secondfactordevice_add": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_secondfactordevice_history": row(get="333333o3333L"),
    "admin:povertyapp_secondfactordevice_delete": row(get="333333o3333L", post="333333o3333L"),
    "admin:povertyapp_secondfactordevice_change": row(get="333333o3333L", post="33333333333L"),
    "admin:povertyapp_backupcodedevice_changelist": row(get="333333o3333L"),
    "admin:povertyapp_backupcodedevice_add": row(get="33333333333L", post="33333333333L"),
    "admin:povertyapp_backupcodedevice_history": row(get="333333o3333L"),
    "admin:povertyapp_backupcodedevice_delete": row(get="333333o3333L", post="333333o3333L"),
    "admin:povertyapp_backupcodedevice_change": row(get="333333o3333L", post="33333333333L"),
    # API tokens (issue 14): each user their own; the prefix is the cadre's token, so only the
    # cadre revokes it and everyone else is told it does not exist. Logout needs the token
    # itself (a session is not enough: 401).
    "api-token-logout": row(
        get="LLLLLLLLLLLL",
        post="LLLLLLLLLLLL",
        put="LLLLLLLLLLLL",
        patch="LLLLLLLLLLLL",
        delete="LLLLLLLLLLLL",
    ),
    "api-token-logout-all": row(
        get="55555555555L",
        post="oooooooooooL",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "api-tokens": row(
        get="oooooooooooL",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "api-token-revoke": row(
        get="55555555555L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="o4444444444L",
    ),
    "account-tokens": row(get="oooooooooooL", post="oooooooooooL"),
    "account-token-revoke": row(get="55555555555L", post="oooooooooooL"),
    "account-tokens-revoke-all": row(get="55555555555L", post="oooooooooooL"),
    # The audit log's export and chain check: the audit administrator only.
    "admin:povertyapp_accesslog_export": row(get="3333333o333L"),
    "admin:povertyapp_accesslog_verify": row(get="33333335333L"),
    # The search by POST (issue 14: no ID numbers in URLs), scoped like the list: the
    # administrators get an empty page.
    "household-search": row(
        get="55555555555L",
        post="oooooooooooL",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "household-list": row(
        get="oooooooooooL",
        post="o33o3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "household-detail": row(
        get="ooooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="o33o3444444L",
        delete="55555555555L",
    ),
    "household-events": row(
        get="ooooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "member-list": row(
        get="oooooooooooL",
        post="o33o3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "member-detail": row(
        get="ooooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="o33o3444444L",
        delete="55555555555L",
    ),
    "member-leave": row(
        get="55555555555L",
        post="o33o3444444L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "region-list": row(
        get="oooooooooooL",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "region-detail": row(
        get="ooooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "region-rates": row(
        get="ooooo4444ooL",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-household-measures": row(
        get="ooooo444444L",
        post="oo3o3444444L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-household-needs": row(
        get="ooooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-household-visits": row(
        get="ooooo444444L",
        post="oo3o3444444L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    # issue 17: the offline visits' bundle and sync (docs/offline.md). A POST without an entry
    # is a 400 for the recorders: let in, refused by the serializer.
    "assistance-offline-bundle": row(
        get="oo3o3333333L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-offline-photos": row(
        get="55555555555L",
        post="oo3o3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-offline-visits": row(
        get="55555555555L",
        post="oo3o3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-household-pairings": row(
        get="ooooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-measure": row(
        get="ooooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-measure-status": row(
        get="55555555555L",
        post="oo3o3444444L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-projects": row(
        get="oooooooooooL",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-project": row(
        get="o4ooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "assistance-project-movements": row(
        get="o4ooo444444L",
        post="343o3444444L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "inspection-campaign-list": row(
        get="oooooooooooL",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "inspection-campaign-figures": row(
        get="44ooo444444L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "inspection-rectification-list": row(
        get="oooooooooooL",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    # issue 15: objects (a monitoring object of the cadre's village: a helper is not paired with
    # its household, 404).
    "monitoring:objects": row(get="ooooo333333L", post="ooooo333333L"),
    "monitoring:object": row(get="o4ooo333333L", post="o4ooo333333L"),
    "monitoring:eliminate": row(get="o3333333333L", post="o3333333333L"),
    # 风险解除 of one risk: POST only, the village cadre of the village.
    "monitoring:risk-resolve": row(get="55555555555L", post="o3333333333L"),
    "monitoring:identify": row(get="o3333333333L", post="o3333333333L"),
    "monitoring:identify-household": row(get="o3333333333L", post="o3333333333L"),
    "monitoring:income": row(get="o33o3333333L", post="o33o3333333L"),
    "admin:monitoring_monitoringline_changelist": row(get="333o3333333L"),
    "admin:monitoring_monitoringline_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:monitoring_monitoringline_history": row(get="333o3333333L"),
    "admin:monitoring_monitoringline_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_monitoringline_change": row(get="333o3333333L", post="333o3333333L"),
    "admin:monitoring_dibaostandard_changelist": row(get="333o3333333L"),
    "admin:monitoring_dibaostandard_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:monitoring_dibaostandard_history": row(get="333o3333333L"),
    "admin:monitoring_dibaostandard_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_dibaostandard_change": row(get="333o3333333L", post="333o3333333L"),
    "admin:monitoring_localrules_changelist": row(get="333o3333333L"),
    "admin:monitoring_localrules_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:monitoring_localrules_history": row(get="333o3333333L"),
    "admin:monitoring_localrules_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_localrules_change": row(get="333o3333333L", post="333o3333333L"),
    "admin:monitoring_riskmeasurerule_changelist": row(get="333o3333333L"),
    "admin:monitoring_riskmeasurerule_add": row(get="333o3333333L", post="333o3333333L"),
    "admin:monitoring_riskmeasurerule_history": row(get="333o3333333L"),
    "admin:monitoring_riskmeasurerule_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_riskmeasurerule_change": row(get="333o3333333L", post="333o3333333L"),
    # issue 15: the monitoring case records in the admin: read by the county office in its
    # county, changed by nobody (writes go through the services).
    "admin:monitoring_clue_changelist": row(get="333o3333333L"),
    "admin:monitoring_clue_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_clue_history": row(get="333o3444333L"),
    "admin:monitoring_clue_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_clue_change": row(get="333o3333333L", post="33333333333L"),
    "admin:monitoring_monitoringobject_changelist": row(get="333o3333333L"),
    "admin:monitoring_monitoringobject_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_monitoringobject_history": row(get="333o3444333L"),
    "admin:monitoring_monitoringobject_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_monitoringobject_change": row(get="333o3333333L", post="33333333333L"),
    "admin:monitoring_incomeassessment_changelist": row(get="333o3333333L"),
    "admin:monitoring_incomeassessment_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_incomeassessment_history": row(get="333o3444333L"),
    "admin:monitoring_incomeassessment_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_incomeassessment_change": row(get="333o3333333L", post="33333333333L"),
    "admin:monitoring_departmentlist_changelist": row(get="333o3333333L"),
    "admin:monitoring_departmentlist_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_departmentlist_history": row(get="333o3444333L"),
    "admin:monitoring_departmentlist_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_departmentlist_change": row(get="333o3333333L", post="33333333333L"),
    "admin:monitoring_scrutinytask_changelist": row(get="333o3333333L"),
    "admin:monitoring_scrutinytask_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_scrutinytask_history": row(get="333o3444333L"),
    "admin:monitoring_scrutinytask_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_scrutinytask_change": row(get="333o3333333L", post="33333333333L"),
    "admin:monitoring_cadrerelation_changelist": row(get="333o3333333L"),
    "admin:monitoring_cadrerelation_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_cadrerelation_history": row(get="333o3444333L"),
    "admin:monitoring_cadrerelation_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_cadrerelation_change": row(get="333o3333333L", post="33333333333L"),
    "admin:monitoring_sweep_changelist": row(get="333o3333333L"),
    "admin:monitoring_sweep_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_sweep_history": row(get="333o3444333L"),
    "admin:monitoring_sweep_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_sweep_change": row(get="333o3333333L", post="33333333333L"),
    "admin:monitoring_sweepteam_changelist": row(get="333o3333333L"),
    "admin:monitoring_sweepteam_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_sweepteam_history": row(get="333o3444333L"),
    "admin:monitoring_sweepteam_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_sweepteam_change": row(get="333o3333333L", post="33333333333L"),
    "admin:monitoring_sweephousehold_changelist": row(get="333o3333333L"),
    "admin:monitoring_sweephousehold_add": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_sweephousehold_history": row(get="333o3444333L"),
    "admin:monitoring_sweephousehold_delete": row(get="33333333333L", post="33333333333L"),
    "admin:monitoring_sweephousehold_change": row(get="333o3333333L", post="33333333333L"),
    # --- issue 15: clues (a clue of the cadre's village; the list is the 医保 push of the
    # department account in the matrix) ---
    "monitoring:declare": row(get="oooooooooooo", post="oooooooooooo"),
    "monitoring:clues": row(get="ooooo333333L", post="ooooo333333L"),
    "monitoring:clue-add": row(get="o33o3333333L", post="o33o3333333L"),
    "monitoring:clue": row(get="o4ooo333333L", post="o4ooo333333L"),
    "monitoring:clue-verify": row(get="55555555555L", post="o43o3333333L"),
    "monitoring:clue-not-include": row(get="55555555555L", post="o43o3333333L"),
    "monitoring:clue-attach": row(get="55555555555L", post="o43o3333333L"),
    # 登记新户 from a 待登记 clue (the matrix's clue is matched already: sent back to it).
    "monitoring:clue-register": row(get="o43o3333333L", post="o43o3333333L"),
    "monitoring:department-home": row(get="33333333o33L", post="33333333o33L"),
    "monitoring:list-results": row(get="333o3333o33L", post="333o3333o33L"),
    "monitoring:list-results-export": row(get="333o3333o33L", post="333o3333o33L"),
    "monitoring-clues": row(
        get="ooooo333o33L",
        post="o33o3333o33L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    # issue 15: figures. The monitoring home, dashboard and drill-down: case roles (the
    # dashboard needs a region); department accounts and administrators 403.
    "monitoring:index": row(get="ooooo333333L", post="ooooo333333L"),
    "monitoring:dashboard": row(get="ooooo333333L", post="ooooo333333L"),
    "monitoring:dashboard-objects": row(get="ooooo333333L", post="ooooo333333L"),
    # The monitoring API (read-only). The routers name every detail's parameter `pk`: the rows
    # take the demo's object, open verification task and procedure of the cadre's village
    # (`Of(...)`). A helper is not paired with their households (404); department accounts and
    # administrators are refused before the method is looked at (403, then 405).
    "monitoring-object-list": row(
        get="ooooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "monitoring-object-detail": row(
        get="o4ooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
        pk=Of("monitoring_object_id"),
    ),
    "monitoring-task-list": row(
        get="ooooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "monitoring-task-detail": row(
        get="o4ooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
        pk=Of("verification_task_id"),
    ),
    "monitoring-procedure-list": row(
        get="ooooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "monitoring-procedure-detail": row(
        get="o4ooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
        pk=Of("monitoring_procedure_id"),
    ),
    # issue 16: the API of the core workflows (procedures, 公示 and objections, problem data,
    # rounds and 四类名单): case roles only (the administrators and departments 403 before the
    # method is looked at); the writes by role, as the pages; a helper sees its paired
    # household's cases and problems only (404).
    "case-list": row(
        get="ooooo333333L",
        post="o33o3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "case-detail": row(
        get="o4ooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "case-complete": row(
        get="55555333333L",
        post="o4oo3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "case-return": row(
        get="55555333333L",
        post="o4oo3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "case-notice": row(
        get="55555333333L",
        post="o4oo3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "notice-list": row(
        get="ooooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "notice-detail": row(
        get="o4ooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "notice-objections": row(
        get="55555333333L",
        post="o4oo3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "problem-list": row(
        get="ooooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "problem-check": row(
        get="55555333333L",
        post="333o3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "problem-detail": row(
        get="o4ooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "problem-explain": row(
        get="55555333333L",
        post="o4333333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "problem-review": row(
        get="55555333333L",
        post="34o33333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "round-list": row(
        get="ooooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "round-detail": row(
        get="ooooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "round-changes": row(
        get="ooooo333333L",
        post="o33o3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "change-detail": row(
        get="ooooo333333L",
        post="55555333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "change-review": row(
        get="55555333333L",
        post="33oo3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "change-decide": row(
        get="55555333333L",
        post="333o3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    "change-withdraw": row(
        get="55555333333L",
        post="o33o3333333L",
        put="55555333333L",
        patch="55555333333L",
        delete="55555333333L",
    ),
    # issue 15: the sweeps API (read-only), as the sweep pages: helpers, departments and the
    # administrators are refused (403) before the method is looked at; the demo's open sweep.
    "monitoring-sweep-list": row(
        get="o3ooo333333L",
        post="53555333333L",
        put="53555333333L",
        patch="53555333333L",
        delete="53555333333L",
    ),
    "monitoring-sweep-detail": row(
        get="o3ooo333333L",
        post="53555333333L",
        put="53555333333L",
        patch="53555333333L",
        delete="53555333333L",
    ),
    # issue 17: the offline monitoring forms (docs/offline.md): the bundle for the roles that do
    # one of them; each sync for the roles that do that form online. A POST without an entry is
    # a 400: let in, refused by the serializer.
    "monitoring-offline-bundle": row(
        get="o33o3333333L",
        post="55555555555L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "monitoring-offline-clue-verify": row(
        get="55555555555L",
        post="o33o3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "monitoring-offline-sweep": row(
        get="55555555555L",
        post="o33o3333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "monitoring-offline-step": row(
        get="55555555555L",
        post="o3333333333L",
        put="55555555555L",
        patch="55555555555L",
        delete="55555555555L",
    ),
    "monitoring-sweep-households": row(
        get="o3ooo333333L",
        post="53555333333L",
        put="53555333333L",
        patch="53555333333L",
        delete="53555333333L",
    ),
    # issue 15: lists (the departments' lists, exclusion scrutiny)
    "monitoring:lists": row(get="333o3333o33L", post="333o3333o33L"),
    "monitoring:list-upload": row(get="333o3333o33L", post="333o3333o33L"),
    "monitoring:list-template": row(
        get="333o3333o33L", post="333o3333o33L", layout_key="medical_costs"
    ),
    "monitoring:list": row(get="333o3333o33L", post="333o3333o33L"),
    "monitoring:scrutiny": row(get="o3ooo333333L", post="o3ooo333333L"),
    # A scrutiny task of the cadre's village. The empty POST names no action: refused (403)
    # by everyone who may open the task; a helper has no part in 剔除核查 (403).
    "monitoring:scrutiny-task": row(
        get="o3ooo333333L", post="33333333333L", task_id=Of("scrutiny_task_id")
    ),
    "monitoring:cadre-relations": row(get="o3ooo333333L", post="o33o3333333L"),
    # 农村低收入人口: the offices over their area (a helper reads a household's identities on
    # its page only); a household's 人口身份 is read by whoever may open the household.
    "monitoring:identities": row(get="o3ooo333333L", post="o3ooo333333L"),
    "monitoring:household-identities": row(get="ooooo333333L", post="ooooo333333L"),
}

# The admin actions each role is offered, per model (`ModelAdmin.get_actions`).
ADMIN_ACTIONS: dict[str, dict[str, list[str]]] = {
    "povertyapp.CalendarDay": {"sysadmin": ["delete_selected"]},
    "axes.AccessAttempt": {"secadmin": ["cleanup_expired_attempts", "delete_selected"]},
    # Resetting a lost phone: the security administrator deletes the device.
    "povertyapp.SecondFactorDevice": {"secadmin": ["delete_selected"]},
    "povertyapp.BackupCodeDevice": {"secadmin": ["delete_selected"]},
    # Lifting sign-in locks (`povertyapp.security.posture.unlock`).
    "povertyapp.User": {"secadmin": ["unlock_accounts"]},
}

# Each ledger export (GET ledgers:export?ledger=<key>), per role.
EXPORTS: dict[str, str] = {
    "households": "o3ooo333333L",
    "members": "o3ooo333333L",
    "registry": "o3ooo333333L",
    "round_lists": "o3ooo333333L",
    "pairings": "o3ooo333333L",
    "measures": "o3ooo333333L",
    "projects": "o3ooo333333L",
    "funds": "o3ooo333333L",
    "two_ledgers": "o3ooo333333L",
    "asset_distributions": "o3ooo333333L",
    "exit_plan": "o3ooo333333L",
    "coverage": "o3ooo333333L",
    "findings": "o3ooo333333L",
    "rectification": "o3ooo333333L",
    # issue 15: figures
    "monitoring_objects": "o3ooo333333L",
    "monitoring_clues": "o3ooo333333L",
    "risk_elimination": "o3ooo333333L",
    "sweep_progress": "o3ooo333333L",
    "low_income_identities": "o3ooo333333L",
    # issue 16: the national system's layouts are the county office's.
    "national_households": "333o3333333L",
    "national_members": "333o3333333L",
    "national_round_lists": "333o3333333L",
}
