"""The permission matrix: what each role gets from every URL of the project (访问控制).

Read by `tests/povertyapp/test_permission_matrix.py`. One row per URL name; each method's
outcomes are one character per role, in the order of `ROLES`:

    cadre helper township county auditor sysadmin secadmin auditadmin department anonymous

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
    from assistance.models import CoverageRun, Measure, Pairing, Project
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
        "campaign_id": campaign.pk if campaign else MISSING,
        "sample_village_id": pk(SampleVillage.objects.filter(campaign=campaign)),
        "sample_id": pk(SampleHousehold.objects.filter(campaign=campaign)),
        "task_id": pk(CorrectionTask.objects.all()),
        "item_id": pk(RectificationItem.objects.all()),
        "round_id": pk(AdjustmentRound.objects.all()),
        "change_id": pk(RoundChange.objects.filter(village=village), RoundChange.objects.all()),
        "code": village.code,
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
    "admin:login": "the admin's sign-in page",
    "admin:logout": "signing out (nothing to sign out of)",
    "api-token": "username and password for a token (the API's sign-in)",
    "api-schema": "the OpenAPI description (no data)",
    "api-docs": "the API documentation page (no data)",
    "monitoring:declare": "农户自主申报: a farmer declares a risk from their own phone, no account "
    "(rate-limited per IP; the receipt echoes no personal data)",
}

# Columns: cadre helper township county auditor sysadmin secadmin auditadmin department
# anonymous.
# The small demo county's cases and notices in the cadre's village are monitoring's (issue 15).
# Every detail row asks for a real object of `objects()`: a 404 below is the scope at work
# (a helper and an object of a household not paired with them), not a missing object.
ROWS: dict[str, Row] = {
    "home": row(get="oooooooooL", post="oooooooooL"),
    "login": row(get="oooooooooo", post="oooooooooo"),
    "logout": row(get="5555555555", post="LLLLLLLLLL"),
    "password_change": row(get="oooooooooL", post="oooooooooL"),
    "set_language": row(get="oooooooooo", post="oooooooooo"),
    "job-detail": row(get="444o44444L", post="444o44444L"),
    "files:download": row(get="444444444L", post="5555555555"),
    "households:list": row(get="ooooo3333L", post="ooooo3333L"),
    "households:group-options": row(get="ooooo3333L", post="ooooo3333L"),
    "households:create": row(get="o33o33333L", post="o33o33333L"),
    "households:detail": row(get="ooooo3333L", post="ooooo3333L"),
    "households:edit": row(get="o33o33333L", post="o33o33333L"),
    "households:assistance-badge": row(get="ooooo3333L", post="ooooo3333L"),
    "households:income": row(get="o33o33333L", post="o33o33333L"),
    "households:member-remove": row(get="o33o33333L", post="o33o33333L"),
    "households:member-move": row(get="o33o33333L", post="o33o33333L"),
    "households:workflow-start": row(get="555555555L", post="o33o33333L"),
    "households:workflow": row(get="o4ooo3333L", post="o4ooo3333L"),
    "households:workflow-complete": row(get="555555555L", post="o4ooo3333L"),
    "households:workflow-return": row(get="555555555L", post="o4ooo3333L"),
    "households:workflow-withdraw": row(get="555555555L", post="o4ooo3333L"),
    "households:notice-start": row(get="555555555L", post="o4ooo3333L"),
    "households:notice-objection": row(get="555555555L", post="o4ooo3333L"),
    "households:notice-print": row(get="o4ooo3333L", post="o4ooo3333L"),
    "households:todo": row(get="ooooo3333L", post="ooooo3333L"),
    "households:batches": row(get="ooooo3333L", post="ooooo3333L"),
    "households:batch-create": row(get="o33333333L", post="o33333333L"),
    "households:batch": row(get="444443333L", post="444443333L"),
    "households:batch-meeting": row(get="555555555L", post="444443333L"),
    "households:batch-notice": row(get="555555555L", post="444443333L"),
    "households:batch-step": row(get="555555555L", post="444443333L"),
    "households:batch-notice-print": row(get="444443333L", post="444443333L"),
    "households:national": row(get="333o33333L", post="555555555L"),
    "households:national-mark": row(get="555555555L", post="333o33333L"),
    "households:national-mark-household": row(get="555555555L", post="333o34444L"),
    "households:national-reconcile": row(get="555555555L", post="333o33333L"),
    "households:national-report": row(get="333433333L", post="555555555L"),
    "households:quality": row(get="ooooo3333L", post="ooooo3333L"),
    "households:quality-run": row(get="555555555L", post="o3oo33333L"),
    "households:problem-explain": row(get="555555555L", post="o4ooo4444L"),
    "households:problem-review": row(get="555555555L", post="o4ooo4444L"),
    "assistance:index": row(get="ooooo3333L", post="ooooo3333L"),
    "assistance:households": row(get="ooooo3333L", post="ooooo3333L"),
    "assistance:household": row(get="ooooo3333L", post="ooooo3333L"),
    "assistance:measure-create": row(get="555555555L", post="oo3o33333L"),
    "assistance:plan-save": row(get="555555555L", post="oo3o33333L"),
    "assistance:visit-create": row(get="oo3o33333L", post="oo3o33333L"),
    "assistance:pairing-change": row(get="o33o33333L", post="o33o33333L"),
    "assistance:print": row(get="ooooo3333L", post="ooooo3333L"),
    "assistance:measure-edit": row(get="oo3o33333L", post="oo3o33333L"),
    "assistance:measure-status": row(get="555555555L", post="oo3o33333L"),
    "assistance:coverage": row(get="o3ooo3333L", post="o3ooo3333L"),
    "assistance:coverage-run": row(get="555555555L", post="434443333L"),
    "assistance:coverage-village": row(get="ooooo3333L", post="ooooo3333L"),
    "assistance:projects": row(get="ooooo3333L", post="ooooo3333L"),
    "assistance:project-create": row(get="333o33333L", post="333o33333L"),
    "assistance:project": row(get="o4ooo3333L", post="o4ooo3333L"),
    "assistance:project-movement": row(get="555555555L", post="343o33333L"),
    "assistance:project-progress": row(get="555555555L", post="343o33333L"),
    "assistance:project-accept": row(get="555555555L", post="343o33333L"),
    "assistance:project-close": row(get="555555555L", post="343o33333L"),
    "assistance:funds": row(get="ooooo3333L", post="ooooo3333L"),
    "assistance:teams": row(get="ooooo3333L", post="ooooo3333L"),
    "inspections:campaigns": row(get="ooooo3333L", post="ooooo3333L"),
    # issue 15: sweep. Helpers, departments and administrators are refused; the county office
    # opens, assigns teams and closes; cadres (and the county office) record the 排查表.
    "monitoring:sweeps": row(get="o3ooo3333L", post="o3ooo3333L"),
    "monitoring:sweep-open": row(get="333o33333L", post="333o33333L"),
    "monitoring:sweep": row(get="o3ooo3333L", post="o3ooo3333L"),
    "monitoring:sweep-teams": row(get="o3ooo3333L", post="333o33333L"),
    "monitoring:sweep-close": row(get="555555555L", post="333o33333L"),
    "monitoring:sweep-households": row(get="o3ooo3333L", post="o3ooo3333L"),
    "monitoring:sweep-visit": row(get="o3ooo3333L", post="o33o33333L"),
    "inspections:campaign-create": row(get="333o33333L", post="333o33333L"),
    "inspections:campaign": row(get="44ooo3333L", post="44ooo3333L"),
    "inspections:campaign-draw": row(get="555555555L", post="443o33333L"),
    "inspections:campaign-finish": row(get="555555555L", post="443oo3333L"),
    "inspections:campaign-figures": row(get="44ooo3333L", post="44ooo3333L"),
    "inspections:campaign-workbook": row(get="44ooo3333L", post="44ooo3333L"),
    "inspections:campaign-upload": row(get="555555555L", post="443333333L"),
    "inspections:visit-sheet": row(get="44ooo3333L", post="44ooo3333L"),
    "inspections:sample-add": row(get="555555555L", post="44ooo3333L"),
    "inspections:finding": row(get="44ooo3333L", post="443333333L"),
    "inspections:tasks": row(get="ooooo3333L", post="ooooo3333L"),
    "inspections:task-resolve": row(get="555555555L", post="o43o33333L"),
    "inspections:rectification-list": row(get="ooooo3333L", post="ooooo3333L"),
    "inspections:rectification-create": row(get="333o33333L", post="333o33333L"),
    "inspections:rectification-ranking": row(get="ooooo3333L", post="ooooo3333L"),
    "inspections:rectification": row(get="o4ooo3333L", post="o4oo33333L"),
    "inspections:rectification-transition": row(get="555555555L", post="o4oo33333L"),
    "inspections:rectification-evidence": row(get="555555555L", post="o4oo33333L"),
    "rounds:list": row(get="ooooo3333L", post="ooooo3333L"),
    "rounds:open": row(get="555555555L", post="444443333L"),
    "rounds:detail": row(get="ooooo3333L", post="ooooo3333L"),
    "rounds:propose": row(get="555555555L", post="ooooo3333L"),
    "rounds:propose-natural": row(get="555555555L", post="o33o33333L"),
    "rounds:propose-correction": row(get="555555555L", post="o33o33333L"),
    "rounds:import": row(get="555555555L", post="ooooo3333L"),
    "rounds:template": row(get="ooooo3333L", post="ooooo3333L"),
    "rounds:review": row(get="555555555L", post="334433333L"),
    "rounds:decide": row(get="555555555L", post="333433333L"),
    "rounds:close": row(get="555555555L", post="333o33333L"),
    "rounds:compute": row(get="555555555L", post="33oo33333L"),
    "rounds:change-act": row(get="555555555L", post="ooooo3333L"),
    "dashboards:home": row(get="ooooo3333L", post="ooooo3333L"),
    "dashboards:region": row(get="ooooo3333L", post="ooooo3333L"),
    "dashboards:households": row(get="444443333L", post="444443333L"),
    "ledgers:index": row(get="o3ooo3333L", post="o3ooo3333L"),
    "ledgers:export": row(get="o3ooo3333L", post="o3ooo3333L"),
    "ledgers:import": row(get="o33o33333L", post="o33o33333L"),
    "ledgers:import-template": row(get="o33o33333L", post="o33o33333L"),
    "ledgers:import-job": row(get="444444444L", post="444444444L"),
    "ledgers:import-confirm": row(get="555555555L", post="433433333L"),
    "admin:index": row(get="333o3ooo3L"),
    "admin:login": row(get="ooo4o444oo"),
    "admin:logout": row(get="3335355534"),
    "admin:password_change": row(get="333o3ooo3L", post="333o3ooo3L"),
    "admin:password_change_done": row(get="333o3ooo3L"),
    "admin:autocomplete": row(get="333333333L"),
    "admin:jsi18n": row(get="333o3ooo3L"),
    "admin:auth_user_password_change": row(get="333333o33L", post="333333o33L"),
    "admin:povertyapp_user_changelist": row(get="333333o33L"),
    "admin:povertyapp_user_add": row(get="333333o33L", post="333333o33L"),
    "admin:povertyapp_user_history": row(get="333333o33L"),
    "admin:povertyapp_user_delete": row(get="333333333L", post="333333333L"),
    "admin:povertyapp_user_change": row(get="333333o33L", post="333333o33L"),
    "admin:povertyapp_region_changelist": row(get="333o3oo33L"),
    "admin:povertyapp_region_add": row(get="333333333L", post="333333333L"),
    "admin:povertyapp_region_history": row(get="33343oo33L"),
    "admin:povertyapp_region_delete": row(get="333333333L", post="333333333L"),
    "admin:povertyapp_region_change": row(get="33343oo33L", post="333333333L"),
    "admin:povertyapp_villageyear_changelist": row(get="333o33333L"),
    "admin:povertyapp_villageyear_add": row(get="333o33333L", post="333o33333L"),
    "admin:povertyapp_villageyear_history": row(get="333o34443L"),
    "admin:povertyapp_villageyear_delete": row(get="333333333L", post="333333333L"),
    "admin:povertyapp_villageyear_change": row(get="333o33333L", post="333o33333L"),
    "admin:povertyapp_calendarday_changelist": row(get="33333o333L"),
    "admin:povertyapp_calendarday_add": row(get="33333o333L", post="33333o333L"),
    "admin:povertyapp_calendarday_history": row(get="33333o333L"),
    "admin:povertyapp_calendarday_delete": row(get="33333o333L", post="33333o333L"),
    "admin:povertyapp_calendarday_change": row(get="33333o333L", post="33333o333L"),
    "admin:povertyapp_job_changelist": row(get="333o3o333L"),
    "admin:povertyapp_job_add": row(get="333333333L", post="333333333L"),
    "admin:povertyapp_job_history": row(get="333o3o333L"),
    "admin:povertyapp_job_delete": row(get="333333333L", post="333333333L"),
    "admin:povertyapp_job_change": row(get="333o3o333L", post="333333333L"),
    "admin:povertyapp_accesslog_changelist": row(get="3333333o3L"),
    "admin:povertyapp_accesslog_add": row(get="333333333L", post="333333333L"),
    "admin:povertyapp_accesslog_history": row(get="3333333o3L"),
    "admin:povertyapp_accesslog_delete": row(get="333333333L", post="333333333L"),
    "admin:povertyapp_accesslog_change": row(get="3333333o3L", post="333333333L"),
    "admin:axes_accessattempt_changelist": row(get="333333o33L"),
    "admin:axes_accessattempt_add": row(get="333333333L", post="333333333L"),
    "admin:axes_accessattempt_history": row(get="333333o33L"),
    "admin:axes_accessattempt_delete": row(get="333333o33L", post="333333o33L"),
    "admin:axes_accessattempt_change": row(get="333333o33L", post="333333333L"),
    "admin:axes_accesslog_changelist": row(get="333333o33L"),
    "admin:axes_accesslog_add": row(get="333333333L", post="333333333L"),
    "admin:axes_accesslog_history": row(get="333333o33L"),
    "admin:axes_accesslog_delete": row(get="333333333L", post="333333333L"),
    "admin:axes_accesslog_change": row(get="333333o33L", post="333333333L"),
    "admin:axes_accessfailurelog_changelist": row(get="333333o33L"),
    "admin:axes_accessfailurelog_add": row(get="333333333L", post="333333333L"),
    "admin:axes_accessfailurelog_history": row(get="333333o33L"),
    "admin:axes_accessfailurelog_delete": row(get="333333333L", post="333333333L"),
    "admin:axes_accessfailurelog_change": row(get="333333o33L", post="333333333L"),
    "admin:households_household_simple_history": row(get="333o33333L"),
    "admin:households_household_changelist": row(get="333o33333L"),
    "admin:households_household_add": row(get="333333333L", post="333333333L"),
    "admin:households_household_history": row(get="333o33333L"),
    "admin:households_household_delete": row(get="333333333L", post="333333333L"),
    "admin:households_household_change": row(get="333o33333L", post="333333333L"),
    "admin:households_householdevent_changelist": row(get="333o33333L"),
    "admin:households_householdevent_add": row(get="333333333L", post="333333333L"),
    "admin:households_householdevent_history": row(get="333o34443L"),
    "admin:households_householdevent_delete": row(get="333333333L", post="333333333L"),
    "admin:households_householdevent_change": row(get="333o33333L", post="333333333L"),
    "admin:households_valuelistitem_changelist": row(get="33333o333L"),
    "admin:households_valuelistitem_add": row(get="33333o333L", post="33333o333L"),
    "admin:households_valuelistitem_history": row(get="33333o333L"),
    "admin:households_valuelistitem_delete": row(get="333333333L", post="333333333L"),
    "admin:households_valuelistitem_change": row(get="33333o333L", post="33333o333L"),
    "admin:households_povertyline_changelist": row(get="333o33333L"),
    "admin:households_povertyline_add": row(get="333o33333L", post="333o33333L"),
    "admin:households_povertyline_history": row(get="333o33333L"),
    "admin:households_povertyline_delete": row(get="333333333L", post="333333333L"),
    "admin:households_povertyline_change": row(get="333o33333L", post="333o33333L"),
    "admin:rounds_adjustmentround_changelist": row(get="333o33333L"),
    "admin:rounds_adjustmentround_add": row(get="333333333L", post="333333333L"),
    "admin:rounds_adjustmentround_history": row(get="333o34443L"),
    "admin:rounds_adjustmentround_delete": row(get="333333333L", post="333333333L"),
    "admin:rounds_adjustmentround_change": row(get="333o33333L", post="333333333L"),
    "admin:assistance_pairing_changelist": row(get="333o33333L"),
    "admin:assistance_pairing_add": row(get="333333333L", post="333333333L"),
    "admin:assistance_pairing_history": row(get="333o34443L"),
    "admin:assistance_pairing_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_pairing_change": row(get="333o33333L", post="333333333L"),
    "admin:assistance_matchingrule_simple_history": row(get="333o33333L"),
    "admin:assistance_matchingrule_changelist": row(get="333o33333L"),
    "admin:assistance_matchingrule_add": row(get="333o33333L", post="333o33333L"),
    "admin:assistance_matchingrule_history": row(get="333o33333L"),
    "admin:assistance_matchingrule_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_matchingrule_change": row(get="333o33333L", post="333o33333L"),
    "admin:assistance_assistancestandard_changelist": row(get="333o33333L"),
    "admin:assistance_assistancestandard_add": row(get="333o33333L", post="333o33333L"),
    "admin:assistance_assistancestandard_history": row(get="333o33333L"),
    "admin:assistance_assistancestandard_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_assistancestandard_change": row(get="333o33333L", post="333o33333L"),
    "admin:assistance_villagesponsor_changelist": row(get="333o33333L"),
    "admin:assistance_villagesponsor_add": row(get="333o33333L", post="333o33333L"),
    "admin:assistance_villagesponsor_history": row(get="333o34443L"),
    "admin:assistance_villagesponsor_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_villagesponsor_change": row(get="333o33333L", post="333o33333L"),
    "admin:assistance_measure_changelist": row(get="333o33333L"),
    "admin:assistance_measure_add": row(get="333333333L", post="333333333L"),
    "admin:assistance_measure_history": row(get="333o34443L"),
    "admin:assistance_measure_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_measure_change": row(get="333o33333L", post="333333333L"),
    "admin:assistance_visit_changelist": row(get="333o33333L"),
    "admin:assistance_visit_add": row(get="333333333L", post="333333333L"),
    "admin:assistance_visit_history": row(get="333o34443L"),
    "admin:assistance_visit_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_visit_change": row(get="333o33333L", post="333333333L"),
    "admin:assistance_project_changelist": row(get="333o33333L"),
    "admin:assistance_project_add": row(get="333333333L", post="333333333L"),
    "admin:assistance_project_history": row(get="333o34443L"),
    "admin:assistance_project_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_project_change": row(get="333o33333L", post="333333333L"),
    "admin:assistance_fundmovement_changelist": row(get="333o33333L"),
    "admin:assistance_fundmovement_add": row(get="333333333L", post="333333333L"),
    "admin:assistance_fundmovement_history": row(get="333o34443L"),
    "admin:assistance_fundmovement_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_fundmovement_change": row(get="333o33333L", post="333333333L"),
    "admin:assistance_coveragerun_changelist": row(get="333o33333L"),
    "admin:assistance_coveragerun_add": row(get="333333333L", post="333333333L"),
    "admin:assistance_coveragerun_history": row(get="333o34443L"),
    "admin:assistance_coveragerun_delete": row(get="333333333L", post="333333333L"),
    "admin:assistance_coveragerun_change": row(get="333o33333L", post="333333333L"),
    "admin:inspections_campaign_changelist": row(get="333o33333L"),
    "admin:inspections_campaign_add": row(get="333333333L", post="333333333L"),
    "admin:inspections_campaign_history": row(get="333o34443L"),
    "admin:inspections_campaign_delete": row(get="333333333L", post="333333333L"),
    "admin:inspections_campaign_change": row(get="333o33333L", post="333333333L"),
    "admin:inspections_rectificationitem_changelist": row(get="333o33333L"),
    "admin:inspections_rectificationitem_add": row(get="333333333L", post="333333333L"),
    "admin:inspections_rectificationitem_history": row(get="333o34443L"),
    "admin:inspections_rectificationitem_delete": row(get="333333333L", post="333333333L"),
    "admin:inspections_rectificationitem_change": row(get="333o33333L", post="333333333L"),
    "admin:inspections_inspectionevent_changelist": row(get="333o33333L"),
    "admin:inspections_inspectionevent_add": row(get="333333333L", post="333333333L"),
    "admin:inspections_inspectionevent_history": row(get="333o34443L"),
    "admin:inspections_inspectionevent_delete": row(get="333333333L", post="333333333L"),
    "admin:inspections_inspectionevent_change": row(get="333o33333L", post="333333333L"),
    "admin:app_list": row(get="333o3ooo3L"),
    "api-token": row(
        get="5555555555",
        post="oooooooooo",
        put="5555555555",
        patch="5555555555",
        delete="5555555555",
    ),
    "api-schema": row(
        get="oooooooooo",
        post="5555555555",
        put="5555555555",
        patch="5555555555",
        delete="5555555555",
    ),
    "api-docs": row(get="oooooooooo", post="5555555555"),
    # The account's own pages (issue 14, 身份鉴别): every signed-in user, for themselves.
    "account:security": row(get="oooooooooL", post="oooooooooL"),
    "account:second-factor-verify": row(get="oooooooooL", post="oooooooooL"),
    "account:second-factor-enrol": row(get="oooooooooL", post="oooooooooL"),
    "account:second-factor-backup-codes": row(get="555555555L", post="oooooooooL"),
    "account:second-factor-disable": row(get="oooooooooL", post="oooooooooL"),
    "account:sessions": row(get="oooooooooL", post="oooooooooL"),
    "account:session-end": row(get="555555555L", post="oooooooooL"),
    # Second-factor devices: the security administrator views and deletes (resets) them.
    "admin:otp_totp_totpdevice_changelist": row(get="333333o33L"),
    "admin:otp_totp_totpdevice_add": row(get="333333333L", post="333333333L"),
    "admin:otp_totp_totpdevice_history": row(get="333333o33L"),
    "admin:otp_totp_totpdevice_delete": row(get="333333o33L", post="333333o33L"),
    "admin:otp_totp_totpdevice_change": row(get="333333o33L", post="333333333L"),
    "admin:otp_static_staticdevice_changelist": row(get="333333o33L"),
    "admin:otp_static_staticdevice_add": row(get="333333333L", post="333333333L"),
    "admin:otp_static_staticdevice_history": row(get="333333o33L"),
    "admin:otp_static_staticdevice_delete": row(get="333333o33L", post="333333o33L"),
    "admin:otp_static_staticdevice_change": row(get="333333o33L", post="333333333L"),
    # API tokens (issue 14): each user their own; the prefix is the cadre's token, so only the
    # cadre revokes it and everyone else is told it does not exist. Logout needs the token
    # itself (a session is not enough: 401).
    "api-token-logout": row(
        get="LLLLLLLLLL",
        post="LLLLLLLLLL",
        put="LLLLLLLLLL",
        patch="LLLLLLLLLL",
        delete="LLLLLLLLLL",
    ),
    "api-token-logout-all": row(
        get="555555555L",
        post="oooooooooL",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "api-tokens": row(
        get="oooooooooL",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "api-token-revoke": row(
        get="555555555L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="o44444444L",
    ),
    "account-tokens": row(get="oooooooooL", post="oooooooooL"),
    "account-token-revoke": row(get="555555555L", post="oooooooooL"),
    "account-tokens-revoke-all": row(get="555555555L", post="oooooooooL"),
    # The audit log's export and chain check: the audit administrator only.
    "admin:povertyapp_accesslog_export": row(get="3333333o3L"),
    "admin:povertyapp_accesslog_verify": row(get="333333353L"),
    # The search by POST (issue 14: no ID numbers in URLs), scoped like the list: the
    # administrators get an empty page.
    "household-search": row(
        get="555555555L",
        post="oooooooooL",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "household-list": row(
        get="oooooooooL",
        post="o33o33333L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "household-detail": row(
        get="ooooo4444L",
        post="555555555L",
        put="555555555L",
        patch="o33o34444L",
        delete="555555555L",
    ),
    "household-events": row(
        get="ooooo4444L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "member-list": row(
        get="oooooooooL",
        post="o33o33333L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "member-detail": row(
        get="ooooo4444L",
        post="555555555L",
        put="555555555L",
        patch="o33o34444L",
        delete="555555555L",
    ),
    "member-leave": row(
        get="555555555L",
        post="o33o34444L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "region-list": row(
        get="oooooooooL",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "region-detail": row(
        get="ooooo4444L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "region-rates": row(
        get="ooooo4444L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-household-measures": row(
        get="ooooo4444L",
        post="oo3o34444L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-household-needs": row(
        get="ooooo4444L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-household-visits": row(
        get="ooooo4444L",
        post="oo3o34444L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-household-pairings": row(
        get="ooooo4444L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-measure": row(
        get="ooooo4444L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-measure-status": row(
        get="555555555L",
        post="oo3o34444L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-projects": row(
        get="oooooooooL",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-project": row(
        get="o4ooo4444L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "assistance-project-movements": row(
        get="o4ooo4444L",
        post="343o34444L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "inspection-campaign-list": row(
        get="oooooooooL",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "inspection-campaign-figures": row(
        get="44ooo4444L",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    "inspection-rectification-list": row(
        get="oooooooooL",
        post="555555555L",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    # issue 15: objects (a monitoring object of the cadre's village: a helper is not paired with
    # its household, 404).
    "monitoring:objects": row(get="ooooo3333L", post="ooooo3333L"),
    "monitoring:object": row(get="o4ooo3333L", post="o4ooo3333L"),
    "monitoring:eliminate": row(get="o33333333L", post="o33333333L"),
    # 风险解除 of one risk: POST only, the village cadre of the village.
    "monitoring:risk-resolve": row(get="555555555L", post="o33333333L"),
    "monitoring:identify": row(get="o33333333L", post="o33333333L"),
    "monitoring:identify-household": row(get="o33333333L", post="o33333333L"),
    "monitoring:income": row(get="o33o33333L", post="o33o33333L"),
    "admin:monitoring_monitoringline_changelist": row(get="333o33333L"),
    "admin:monitoring_monitoringline_add": row(get="333o33333L", post="333o33333L"),
    "admin:monitoring_monitoringline_history": row(get="333o33333L"),
    "admin:monitoring_monitoringline_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_monitoringline_change": row(get="333o33333L", post="333o33333L"),
    "admin:monitoring_dibaostandard_changelist": row(get="333o33333L"),
    "admin:monitoring_dibaostandard_add": row(get="333o33333L", post="333o33333L"),
    "admin:monitoring_dibaostandard_history": row(get="333o33333L"),
    "admin:monitoring_dibaostandard_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_dibaostandard_change": row(get="333o33333L", post="333o33333L"),
    "admin:monitoring_localrules_changelist": row(get="333o33333L"),
    "admin:monitoring_localrules_add": row(get="333o33333L", post="333o33333L"),
    "admin:monitoring_localrules_history": row(get="333o33333L"),
    "admin:monitoring_localrules_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_localrules_change": row(get="333o33333L", post="333o33333L"),
    "admin:monitoring_riskmeasurerule_changelist": row(get="333o33333L"),
    "admin:monitoring_riskmeasurerule_add": row(get="333o33333L", post="333o33333L"),
    "admin:monitoring_riskmeasurerule_history": row(get="333o33333L"),
    "admin:monitoring_riskmeasurerule_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_riskmeasurerule_change": row(get="333o33333L", post="333o33333L"),
    # issue 15: the monitoring case records in the admin: read by the county office in its
    # county, changed by nobody (writes go through the services).
    "admin:monitoring_clue_changelist": row(get="333o33333L"),
    "admin:monitoring_clue_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_clue_history": row(get="333o34443L"),
    "admin:monitoring_clue_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_clue_change": row(get="333o33333L", post="333333333L"),
    "admin:monitoring_monitoringobject_changelist": row(get="333o33333L"),
    "admin:monitoring_monitoringobject_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_monitoringobject_history": row(get="333o34443L"),
    "admin:monitoring_monitoringobject_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_monitoringobject_change": row(get="333o33333L", post="333333333L"),
    "admin:monitoring_incomeassessment_changelist": row(get="333o33333L"),
    "admin:monitoring_incomeassessment_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_incomeassessment_history": row(get="333o34443L"),
    "admin:monitoring_incomeassessment_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_incomeassessment_change": row(get="333o33333L", post="333333333L"),
    "admin:monitoring_departmentlist_changelist": row(get="333o33333L"),
    "admin:monitoring_departmentlist_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_departmentlist_history": row(get="333o34443L"),
    "admin:monitoring_departmentlist_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_departmentlist_change": row(get="333o33333L", post="333333333L"),
    "admin:monitoring_scrutinytask_changelist": row(get="333o33333L"),
    "admin:monitoring_scrutinytask_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_scrutinytask_history": row(get="333o34443L"),
    "admin:monitoring_scrutinytask_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_scrutinytask_change": row(get="333o33333L", post="333333333L"),
    "admin:monitoring_cadrerelation_changelist": row(get="333o33333L"),
    "admin:monitoring_cadrerelation_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_cadrerelation_history": row(get="333o34443L"),
    "admin:monitoring_cadrerelation_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_cadrerelation_change": row(get="333o33333L", post="333333333L"),
    "admin:monitoring_sweep_changelist": row(get="333o33333L"),
    "admin:monitoring_sweep_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_sweep_history": row(get="333o34443L"),
    "admin:monitoring_sweep_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_sweep_change": row(get="333o33333L", post="333333333L"),
    "admin:monitoring_sweepteam_changelist": row(get="333o33333L"),
    "admin:monitoring_sweepteam_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_sweepteam_history": row(get="333o34443L"),
    "admin:monitoring_sweepteam_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_sweepteam_change": row(get="333o33333L", post="333333333L"),
    "admin:monitoring_sweephousehold_changelist": row(get="333o33333L"),
    "admin:monitoring_sweephousehold_add": row(get="333333333L", post="333333333L"),
    "admin:monitoring_sweephousehold_history": row(get="333o34443L"),
    "admin:monitoring_sweephousehold_delete": row(get="333333333L", post="333333333L"),
    "admin:monitoring_sweephousehold_change": row(get="333o33333L", post="333333333L"),
    # --- issue 15: clues (a clue of the cadre's village; the list is the 医保 push of the
    # department account in the matrix) ---
    "monitoring:declare": row(get="oooooooooo", post="oooooooooo"),
    "monitoring:clues": row(get="ooooo3333L", post="ooooo3333L"),
    "monitoring:clue-add": row(get="o33o33333L", post="o33o33333L"),
    "monitoring:clue": row(get="o4ooo3333L", post="o4ooo3333L"),
    "monitoring:clue-verify": row(get="555555555L", post="o43o33333L"),
    "monitoring:clue-not-include": row(get="555555555L", post="o43o33333L"),
    "monitoring:clue-attach": row(get="555555555L", post="o43o33333L"),
    # 登记新户 from a 待登记 clue (the matrix's clue is matched already: sent back to it).
    "monitoring:clue-register": row(get="o43o33333L", post="o43o33333L"),
    "monitoring:department-home": row(get="33333333oL", post="33333333oL"),
    "monitoring:list-results": row(get="333o3333oL", post="333o3333oL"),
    "monitoring:list-results-export": row(get="333o3333oL", post="333o3333oL"),
    "monitoring-clues": row(
        get="ooooo333oL",
        post="o33o3333oL",
        put="555555555L",
        patch="555555555L",
        delete="555555555L",
    ),
    # issue 15: figures. The monitoring home, dashboard and drill-down: case roles (the
    # dashboard needs a region); department accounts and administrators 403.
    "monitoring:index": row(get="ooooo3333L", post="ooooo3333L"),
    "monitoring:dashboard": row(get="ooooo3333L", post="ooooo3333L"),
    "monitoring:dashboard-objects": row(get="ooooo3333L", post="ooooo3333L"),
    # The monitoring API (read-only). The routers name every detail's parameter `pk`: the rows
    # take the demo's object, open verification task and procedure of the cadre's village
    # (`Of(...)`). A helper is not paired with their households (404); department accounts and
    # administrators are refused before the method is looked at (403, then 405).
    "monitoring-object-list": row(
        get="ooooo3333L",
        post="555553333L",
        put="555553333L",
        patch="555553333L",
        delete="555553333L",
    ),
    "monitoring-object-detail": row(
        get="o4ooo3333L",
        post="555553333L",
        put="555553333L",
        patch="555553333L",
        delete="555553333L",
        pk=Of("monitoring_object_id"),
    ),
    "monitoring-task-list": row(
        get="ooooo3333L",
        post="555553333L",
        put="555553333L",
        patch="555553333L",
        delete="555553333L",
    ),
    "monitoring-task-detail": row(
        get="o4ooo3333L",
        post="555553333L",
        put="555553333L",
        patch="555553333L",
        delete="555553333L",
        pk=Of("verification_task_id"),
    ),
    "monitoring-procedure-list": row(
        get="ooooo3333L",
        post="555553333L",
        put="555553333L",
        patch="555553333L",
        delete="555553333L",
    ),
    "monitoring-procedure-detail": row(
        get="o4ooo3333L",
        post="555553333L",
        put="555553333L",
        patch="555553333L",
        delete="555553333L",
        pk=Of("monitoring_procedure_id"),
    ),
    # issue 15: the sweeps API (read-only), as the sweep pages: helpers, departments and the
    # administrators are refused (403) before the method is looked at; the demo's open sweep.
    "monitoring-sweep-list": row(
        get="o3ooo3333L",
        post="535553333L",
        put="535553333L",
        patch="535553333L",
        delete="535553333L",
    ),
    "monitoring-sweep-detail": row(
        get="o3ooo3333L",
        post="535553333L",
        put="535553333L",
        patch="535553333L",
        delete="535553333L",
    ),
    "monitoring-sweep-households": row(
        get="o3ooo3333L",
        post="535553333L",
        put="535553333L",
        patch="535553333L",
        delete="535553333L",
    ),
    # issue 15: lists (the departments' lists, exclusion scrutiny)
    "monitoring:lists": row(get="333o3333oL", post="333o3333oL"),
    "monitoring:list-upload": row(get="333o3333oL", post="333o3333oL"),
    "monitoring:list-template": row(
        get="333o3333oL", post="333o3333oL", layout_key="medical_costs"
    ),
    "monitoring:list": row(get="333o3333oL", post="333o3333oL"),
    "monitoring:scrutiny": row(get="o3ooo3333L", post="o3ooo3333L"),
    # A scrutiny task of the cadre's village. The empty POST names no action: refused (403)
    # by everyone who may open the task; a helper has no part in 剔除核查 (403).
    "monitoring:scrutiny-task": row(
        get="o3ooo3333L", post="333333333L", task_id=Of("scrutiny_task_id")
    ),
    "monitoring:cadre-relations": row(get="o3ooo3333L", post="o33o33333L"),
}

# The admin actions each role is offered, per model (`ModelAdmin.get_actions`).
ADMIN_ACTIONS: dict[str, dict[str, list[str]]] = {
    "povertyapp.CalendarDay": {"sysadmin": ["delete_selected"]},
    "axes.AccessAttempt": {"secadmin": ["cleanup_expired_attempts", "delete_selected"]},
    # Resetting a lost phone: the security administrator deletes the device.
    "otp_totp.TOTPDevice": {"secadmin": ["delete_selected"]},
    "otp_static.StaticDevice": {"secadmin": ["delete_selected"]},
}

# Each ledger export (GET ledgers:export?ledger=<key>), per role.
EXPORTS: dict[str, str] = {
    "households": "o3ooo3333L",
    "members": "o3ooo3333L",
    "registry": "o3ooo3333L",
    "round_lists": "o3ooo3333L",
    "pairings": "o3ooo3333L",
    "measures": "o3ooo3333L",
    "projects": "o3ooo3333L",
    "funds": "o3ooo3333L",
    "coverage": "o3ooo3333L",
    "findings": "o3ooo3333L",
    "rectification": "o3ooo3333L",
    # issue 15: figures
    "monitoring_objects": "o3ooo3333L",
    "monitoring_clues": "o3ooo3333L",
    "risk_elimination": "o3ooo3333L",
    "sweep_progress": "o3ooo3333L",
    # issue 16: the national system's layouts are the county office's.
    "national_households": "333o33333L",
    "national_members": "333o33333L",
    "national_round_lists": "333o33333L",
}
