"""The monitoring object pages (issue 15): the list, an object's page, identification from a
clue or a household, an income assessment, a 风险消除 proposal. Thin: access path → form →
service → redirect. Department accounts (and every role without case access) are refused."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households import selectors as household_selectors
from households import workflows
from households.models import Household
from households.services import common
from monitoring import income, measures, objects, procedures
from monitoring.forms_objects import (
    EliminateForm,
    IdentifyForm,
    IncomeForm,
    ObjectFilterForm,
    RiskResolveForm,
)
from monitoring.models import Clue, IncomeAssessment, MonitoringObject
from povertyapp import regions, roles
from povertyapp.conflicts import ConflictError
from povertyapp.forms import add_service_errors
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.privacy import mask


def _require_case_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.has_case_access(request.user):
        raise PermissionDenied(_("您的账号不查看监测对象。"))


def _require_village_cadre(request: AuthenticatedHttpRequest) -> None:
    _require_case_access(request)
    if request.user.role != request.user.Role.VILLAGE_CADRE:
        raise PermissionDenied(_("该操作由村级录入员办理。"))


@login_required
def object_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    form = ObjectFilterForm(request.GET or None)
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    # 县, 乡镇, 行政村 a step at a time (povertyapp/regions.py); a choice outside the scope (or
    # a village not under the chosen township) shows nothing, never the whole scope.
    cascade = regions.cascade(request.user, request.GET)
    if cascade.chosen is not None:
        filters["region"] = cascade.chosen
    elif cascade.asked:
        filters["region"] = None
    page = Paginator(objects.object_list(user=request.user, filters=filters), 50).get_page(
        request.GET.get("page")
    )
    for found in page.object_list:
        heads = getattr(found.household, "heads", [])
        found.head_name = heads[0].name if heads else "—"  # type: ignore[attr-defined]  # for the template
        found.head_id = mask(heads[0].id_number) if heads else ""  # type: ignore[attr-defined]  # for the template
    return render(
        request,
        "monitoring/objects/list.html",
        {"form": form, "cascade": cascade, "page": page},
    )


def _detail_context(
    request: AuthenticatedHttpRequest,
    found: MonitoringObject,
    bound: RiskResolveForm | None = None,
    bound_risk: int | None = None,
) -> dict[str, Any]:
    """The object's page; `bound` is a 风险解除 form sent back with its errors (for the risk
    `bound_risk`), shown in place of that risk's empty form."""
    today = common.today()
    cases = [case for case in (found.identification, found.elimination) if case is not None]
    clocks = workflows.case_clocks(cases, today)
    procedures_shown = []
    for case in cases:
        definition = workflows.procedure(case.kind)
        procedures_shown.append(
            {
                "case": case,
                "definition": definition,
                "step": definition.step(case.step) if case.state == "open" else None,
                "clock": clocks.get(case.pk),
                "records": case.steps.select_related("actor").order_by("created_at", "id"),
            }
        )
    plan = measures.object_plan(found, today)
    rules = (
        procedures.elimination_rules(found, today)
        if found.state == MonitoringObject.State.MONITORED
        else []
    )
    is_cadre = request.user.role == request.user.Role.VILLAGE_CADRE and roles.region_in_scope(
        request.user, found.household.village
    )
    can_resolve = is_cadre and found.state in MonitoringObject.CURRENT_STATES
    risks = []
    for risk in found.risks.all():
        form = None
        if can_resolve and risk.resolved_on is None:
            form = (
                bound
                if bound is not None and bound_risk == risk.pk
                else RiskResolveForm(
                    prefix=f"risk-{risk.pk}",
                    initial={"resolved_on": today, "version": found.version},
                )
            )
        risks.append({"risk": risk, "form": form})
    return {
        "object": found,
        "household": found.household,
        "risks": risks,
        "procedures": procedures_shown,
        "assessments": IncomeAssessment.objects.filter(household=found.household).order_by(
            "-period_end", "-id"
        )[:20],
        "plan": plan,
        "rules": rules,
        "can_record_measures": is_cadre and procedures.measures_may_start(found),
        "can_eliminate": is_cadre
        and found.state == MonitoringObject.State.MONITORED
        and found.elimination_id is None,
        "can_assess": is_cadre,
        "eliminate_form": EliminateForm(initial={"version": found.version}),
    }


@login_required
def object_detail(request: AuthenticatedHttpRequest, monitoring_object_id: int) -> HttpResponse:
    _require_case_access(request)
    found = objects.object_get_for_user(user=request.user, object_id=monitoring_object_id)
    return render(request, "monitoring/objects/detail.html", _detail_context(request, found))


@login_required
@require_POST
def risk_resolve(
    request: AuthenticatedHttpRequest, monitoring_object_id: int, risk_id: int
) -> HttpResponse:
    """风险解除 of one risk (the object's page posts here): the village cadre of the village.
    Refused on the object's page, the date typed kept and the error beside it."""
    _require_village_cadre(request)
    found = objects.object_get_for_user(user=request.user, object_id=monitoring_object_id)
    risk = found.risks.filter(pk=risk_id).first()
    if risk is None:
        raise Http404(_("未找到该风险。"))
    form = RiskResolveForm(request.POST, prefix=f"risk-{risk.pk}")
    status = 400
    if form.is_valid():
        try:
            objects.risk_resolve(
                actor=request.user,
                risk=risk,
                resolved_on=form.cleaned_data["resolved_on"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            if isinstance(error, ConflictError):
                status = 409
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("已登记%(risk)s风险解除。") % {"risk": risk.get_risk_type_display()},
            )
            return redirect("monitoring:object", found.pk)
    return render(
        request,
        "monitoring/objects/detail.html",
        _detail_context(request, found, bound=form, bound_risk=risk.pk),
        status=status,
    )


def _identify(
    request: AuthenticatedHttpRequest, household: Household, clue: Clue | None
) -> HttpResponse:
    initial: dict[str, Any] = {"clue_date": common.today(), "consent_signed_on": common.today()}
    if clue is not None:
        initial.update(clue_date=clue.received_on, risk_types=[clue.risk_type])
    consent_on_file = clue is not None and bool(clue.consent)
    form = IdentifyForm(
        request.POST or None,
        request.FILES or None,
        initial=initial,
        consent_on_file=consent_on_file,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            found = procedures.identification_start(
                actor=request.user,
                household=household,
                object_type=data["object_type"],
                risk_types=data["risk_types"],
                clue_date=data["clue_date"],
                clues=[clue] if clue is not None else [],
                green_channel=data["green_channel"],
                green_channel_reason=data["green_channel_reason"],
                consent=data.get("consent"),
                consent_signed_on=data.get("consent_signed_on"),
                opinion=data["opinion"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已发起监测对象识别。"))
            return redirect("monitoring:object", found.pk)
    existing = procedures.current_object(household)
    return render(
        request,
        "monitoring/objects/identify.html",
        {
            "form": form,
            "household": household,
            "clue": clue,
            "consent_on_file": consent_on_file,
            "existing": existing,
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def identify_from_clue(request: AuthenticatedHttpRequest, clue_id: int) -> HttpResponse:
    """Start identification from a clue: the village cadre of the clue's village only."""
    _require_village_cadre(request)
    clue = (
        Clue.objects.filter(roles.household_scope_q(request.user), pk=clue_id)
        .select_related("household", "household__village")
        .first()
    )
    if clue is None or clue.household is None:
        raise Http404(_("未找到该线索，或您无权查看。"))
    return _identify(request, clue.household, clue)


@login_required
def identify_household(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    _require_village_cadre(request)
    household = household_selectors.household_get_for_user(
        user=request.user, household_id=household_id, for_write=True
    )
    return _identify(request, household, None)


@login_required
def income_record(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    """Record an income assessment (the method monitoring and 低保 share)."""
    _require_case_access(request)
    household = household_selectors.household_get_for_user(
        user=request.user, household_id=household_id, for_write=True
    )
    initial: dict[str, Any] = {"period_end": common.today(), **income.prefill(household)}
    form = IncomeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assessment = income.assess_income(
                household=household,
                period_end=data["period_end"],
                actor=request.user,
                components={name: data[name] for name in income.COMPONENTS},
                co_residents=form.co_resident_names(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("已核算：人均纯收入%(figure)s元。") % {"figure": assessment.per_capita},
            )
            current = procedures.current_object(household)
            if current is not None:
                return redirect("monitoring:object", current.pk)
            return redirect("monitoring:income", household.pk)
    return render(
        request,
        "monitoring/objects/income.html",
        {
            "form": form,
            "household": household,
            "persons": income.registered_persons(household),
            "assessments": IncomeAssessment.objects.filter(household=household).order_by(
                "-period_end", "-id"
            )[:10],
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def eliminate(request: AuthenticatedHttpRequest, monitoring_object_id: int) -> HttpResponse:
    """Propose 风险消除 (the village): refused with every failing rule named."""
    _require_village_cadre(request)
    found = objects.object_get_for_user(user=request.user, object_id=monitoring_object_id)
    form = EliminateForm(request.POST or None, initial={"version": found.version})
    if request.method == "POST" and form.is_valid():
        try:
            procedures.elimination_propose(
                actor=request.user,
                monitoring_object=found,
                way=form.cleaned_data["way"],
                basis=form.cleaned_data["basis"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已提出风险消除。"))
            return redirect("monitoring:object", found.pk)
    return render(
        request,
        "monitoring/objects/eliminate.html",
        {
            "form": form,
            "object": found,
            "rules": procedures.elimination_rules(found, common.today()),
        },
        status=400 if form.is_bound else 200,
    )
