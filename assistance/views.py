"""Assistance pages: thin views — access helper → form → service → redirect.

Every household comes through `households.selectors.household_get_for_user` (404 outside the
user's scope: a helper sees only the households paired with them); read-only roles get 403 on
writes. Projects come through `selectors.project_get_for_user`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.forms import ChoiceField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from assistance import costs, exit_plans, forms, matching, reconcile, selectors, services
from assistance.models import VISIT_QUESTIONS, Measure, Project
from assistance.tasks import COVERAGE_JOB
from households.filters import members_named
from households.models import Household
from households.selectors import household_get_for_user, household_members, name_heads
from povertyapp import forms as house_forms
from povertyapp import jobs, ratelimits, regions, roles
from povertyapp.conflicts import ConflictError
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region, User
from povertyapp.privacy import access_log_record, shown, shown_health

# Lazy: the labels are read per request, in the user's language (issue 17).
HOUSEHOLD_TABS = (
    ("measures", gettext_lazy("帮扶措施")),
    ("plan", gettext_lazy("一户一策")),
    ("visits", gettext_lazy("走访记录")),
    ("pairing", gettext_lazy("结对帮扶")),
    ("cards", gettext_lazy("卡册打印")),
    ("assets", gettext_lazy("资产收益")),
    ("events", gettext_lazy("帮扶记录")),
)


def _require_case_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.has_case_access(request.user):
        raise PermissionDenied(_("您的账号不查看帮扶信息。"))


def _require_recorder(request: AuthenticatedHttpRequest) -> None:
    if not roles.can_record_visits(request.user):
        raise PermissionDenied(_("您的角色只能查看，不能录入帮扶信息。"))


_apply_errors = house_forms.add_service_errors


def _household(request: AuthenticatedHttpRequest, household_id: int) -> Household:
    _require_case_access(request)
    return household_get_for_user(user=request.user, household_id=household_id)


# --- index and household list -----------------------------------------------------------------


@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The helper's (and everyone's) list of households with what is due."""
    _require_case_access(request)
    today = timezone.localdate()
    due = request.GET.get("due", "")
    if due in selectors.DUE_KINDS:
        return _due_list(request, due, today)
    rows = selectors.helper_due(user=request.user, on=today)
    due_rows = [row for row in rows if row["due"]]
    name_heads(row["household"] for row in due_rows[:200])
    return render(
        request,
        "assistance/index.html",
        {
            "rows": due_rows[:200],
            "household_count": len(rows),
            "due_count": len(due_rows),
            "is_helper": request.user.role == "helper",
            "can_manage_funds": services.can_manage_funds(request.user),
            "can_import": roles.can_write_households(request.user),
        },
    )


def _due_list(request: AuthenticatedHttpRequest, due: str, today: datetime.date) -> HttpResponse:
    """The households with one kind of work due (`?due=visit|measure|plan`): the list a work
    desk count links to, paged, each row with everything that is due for it."""
    households = selectors.households_due(user=request.user, on=today, due=due)
    page = Paginator(households, 50).get_page(request.GET.get("page"))
    name_heads(page.object_list)
    titles = {
        "visit": _("本月应走访的户"),
        "measure": _("有逾期未完成措施的户"),
        "plan": _("未制定今年一户一策的户"),
    }
    return render(
        request,
        "assistance/due_list.html",
        {
            "page": page,
            "rows": selectors.due_rows(list(page.object_list), on=today),
            "title": titles[due],
            "due": due,
            "is_helper": request.user.role == "helper",
        },
    )


@login_required
def household_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    queryset = selectors.assistance_households(user=request.user)
    # The search box posts; its term (a 户编号) comes from a session token, never the URL.
    query = (request.GET.get("q") or "").strip()
    if query and ratelimits.exceeded(request, "search"):
        return ratelimits.refused(request, "search")
    if query.isdigit():
        queryset = queryset.filter(number__contains=query)
    elif query:  # a village's name, or a member's (the head's, as the list shows it)
        queryset = queryset.filter(
            Q(village__name__contains=query) | Q(pk__in=members_named(query, request.user))
        )
    if request.GET.get("short") == "1":
        minimum = matching.standard_for(year=timezone.localdate().year).min_measures
        queryset = queryset.filter(Q(measure_count__lt=minimum) | Q(measure_count__isnull=True))
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    name_heads(page.object_list)
    return render(
        request,
        "assistance/household_list.html",
        {
            "page": page,
            "q": query,
            "short": request.GET.get("short") == "1",
        },
    )


@login_required
def offline(request: AuthenticatedHttpRequest) -> HttpResponse:
    """离线走访: the visit form that works without signal (docs/offline.md). The page is a
    shell: static/js/offline.js fills it from the bundle API, keeps it in IndexedDB under the
    user's key and syncs the entries through the sync API."""
    _require_case_access(request)
    _require_recorder(request)
    return render(
        request,
        "assistance/offline.html",
        {"user_key": selectors.offline_user_key(request.user), "section": "offline"},
    )


# --- household assistance page ----------------------------------------------------------------


@login_required
def household_page(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    household = _household(request, household_id)
    tab = request.GET.get("tab", "measures")
    if tab not in dict(HOUSEHOLD_TABS):
        tab = "measures"
    today = timezone.localdate()
    data = selectors.household_assistance(household)
    can_record = roles.can_record_visits(request.user)
    context: dict[str, Any] = {
        "household": household,
        "tabs": HOUSEHOLD_TABS,
        "tab": tab,
        **data,
        "assessment": matching.assess_household(household, on=today),
        "can_record": can_record,
        "can_pair": roles.can_write_households(request.user),
        # A helper sees no project page (`selectors.project_list`): the name, without a link.
        "can_see_projects": request.user.role != User.Role.HELPER,
        "current_pairing": next((p for p in data["pairings"] if p.end_date is None), None),
        "questions": {key: text for key, text, _choices in VISIT_QUESTIONS},
    }
    if tab == "measures" and can_record:
        context["measure_form"] = forms.MeasureForm(household=household)
        status_field = cast(ChoiceField, forms.MeasureStatusForm.base_fields["status"])
        context["status_choices"] = status_field.choices
    if tab == "plan":
        context["progress"] = [selectors.plan_progress(household, plan) for plan in data["plans"]]
        current = next((p for p in data["plans"] if p.year == today.year), None)
        context["plan_form"] = forms.PlanForm(
            initial={
                "year": today.year,
                "goals": current.goals if current else "",
                "expected_income": current.expected_income if current else "",
                "exit_target": current.exit_target if current else False,
                "version": current.version if current else None,
            }
        )
    if tab == "visits" and can_record:
        context["visit_form"] = forms.VisitForm(
            can_update_household=roles.can_write_households(request.user),
            initial={"version": household.version},
        )
    if tab == "pairing" and context["can_pair"]:
        context["pairing_form"] = forms.PairingForm()
    if tab == "assets":
        context["distributions"] = selectors.household_asset_distributions(household)
    return render(request, "assistance/household_page.html", context)


def _back(household: Household, tab: str) -> HttpResponse:
    return redirect(f"{reverse('assistance:household', args=[household.pk])}?tab={tab}")


def _rerender(
    request: HttpRequest, household: Household, template: str, **context: Any
) -> HttpResponse:
    return render(request, template, {"household": household, **context}, status=400)


@login_required
@require_POST
def measure_create(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    household = _household(request, household_id)
    _require_recorder(request)
    form = forms.MeasureForm(request.POST, household=household)
    if form.is_valid():
        try:
            services.measure_create(actor=request.user, household=household, data=form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("帮扶措施已添加。"))
            return _back(household, "measures")
    return _rerender(request, household, "assistance/measure_form.html", form=form)


@login_required
def measure_edit(request: AuthenticatedHttpRequest, measure_id: int) -> HttpResponse:
    _require_case_access(request)
    measure = selectors.measure_get_for_user(
        user=request.user, measure_id=measure_id, for_write=True
    )
    household = household_get_for_user(user=request.user, household_id=measure.household_id)
    initial = {name: getattr(measure, name) for name in services.MEASURE_FIELDS}
    form = forms.MeasureForm(request.POST or None, household=household, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.measure_update(
                actor=request.user,
                measure=measure,
                data=form.cleaned_data,
                expected_version=int(request.POST.get("version", 0)),
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("帮扶措施已修改。"))
            return _back(household, "measures")
    return render(
        request,
        "assistance/measure_form.html",
        {"household": household, "form": form, "measure": measure},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def measure_status(request: AuthenticatedHttpRequest, measure_id: int) -> HttpResponse:
    _require_case_access(request)
    measure = selectors.measure_get_for_user(
        user=request.user, measure_id=measure_id, for_write=True
    )
    form = forms.MeasureStatusForm(request.POST)
    if form.is_valid():
        try:
            services.measure_change_status(
                actor=request.user,
                measure=measure,
                status=form.cleaned_data["status"],
                on=form.cleaned_data["on"],
                result=form.cleaned_data["result"],
                income_effect=form.cleaned_data["income_effect"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            messages.error(request, _("；").join(error.messages))
        else:
            messages.success(request, _("措施状态已更新。"))
    else:
        messages.error(request, _("请填写完整的状态信息。"))
    return _back(measure.household, "measures")


@login_required
@require_POST
def plan_save(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    household = _household(request, household_id)
    _require_recorder(request)
    form = forms.PlanForm(request.POST)
    if form.is_valid():
        try:
            services.plan_set(
                actor=request.user,
                household=household,
                year=form.cleaned_data["year"],
                goals=form.cleaned_data["goals"],
                expected_income=form.cleaned_data["expected_income"],
                exit_target=form.cleaned_data["exit_target"],
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as error:
            messages.error(request, _("；").join(error.messages))
        else:
            messages.success(request, _("一户一策已保存。"))
    else:
        messages.error(request, _("请完整填写帮扶目标和预期收入。"))
    return _back(household, "plan")


@login_required
def visit_create(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    household = _household(request, household_id)
    _require_recorder(request)
    form = forms.VisitForm(
        request.POST or None,
        request.FILES or None,
        can_update_household=roles.can_write_households(request.user),
        initial={"version": household.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.visit_record(
                actor=request.user,
                household=household,
                date=data["date"],
                seen=data["seen"],
                done=data["done"],
                next_steps=data["next_steps"],
                answers=form.answers(),
                contact_card_given=data["contact_card_given"],
                benefit_card_given=data["benefit_card_given"],
                household_updates=form.household_updates(),
                expected_version=data.get("version"),
                photos=form.photos_checked(),
            )
        except ConflictError as error:
            form.add_error(None, error.messages[0])
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("走访记录已保存。"))
            return _back(household, "visits")
    return render(
        request,
        "assistance/visit_form.html",
        {"household": household, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def pairing_change(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    household = _household(request, household_id)
    if not roles.can_write_households(request.user):
        raise PermissionDenied(_("只有村级录入员和县扶贫办可以调整结对帮扶。"))
    form = forms.PairingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.pairing_change(actor=request.user, household=household, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("帮扶责任人已调整，原结对记录保留。"))
            return _back(household, "pairing")
    return render(
        request,
        "assistance/pairing_form.html",
        {"household": household, "form": form},
        status=400 if request.method == "POST" else 200,
    )


# --- printable cards --------------------------------------------------------------------------

CARDS = {
    "contact-card": ("assistance/print/contact_card.html", gettext_lazy("帮扶联系卡")),
    "benefit-card": ("assistance/print/benefit_card.html", gettext_lazy("帮扶明白卡")),
    "record-book": ("assistance/print/record_book.html", gettext_lazy("脱贫记录册")),
}


@login_required
def household_print(
    request: AuthenticatedHttpRequest, household_id: int, card: str
) -> HttpResponse:
    """A4 pages generated from the records (never typed twice); print from the browser."""
    household = _household(request, household_id)
    if card not in CARDS:
        from django.http import Http404

        raise Http404(_("没有这种卡册。"))
    template, title = CARDS[card]
    today = timezone.localdate()
    data = selectors.household_assistance(household)
    members = household_members(household, include_inactive=False)
    for member in members:
        # Display values for the template, attached to the instances it loops over.
        member.id_shown = shown(request.user, member.id_number)  # type: ignore[attr-defined]  # for the template
        member.health_shown = shown_health(request.user, member.health)  # type: ignore[attr-defined]  # for the template
        member.age = member.age_on(today)  # type: ignore[attr-defined]  # for the template
    effective = [m for m in data["measures"] if m.status != Measure.Status.CANCELLED]
    current_pairing = next((p for p in data["pairings"] if p.end_date is None), None)
    assessment = matching.assess_household(household, on=today)
    benefits = [need for need in assessment.needs if need.rule.kind == "benefit" and need.fulfilled]
    progress = [selectors.plan_progress(household, plan) for plan in data["plans"]]
    income = household.incomes.order_by("-year").first()
    if card == "record-book" and roles.can_view_sensitive(request.user):
        access_log_record(
            user=request.user,
            action="print",
            target="household",
            object_id=household.pk,
            fields=["id_number", "health"],
            detail={"card": card},
            request=request,
        )
    return render(
        request,
        template,
        {
            "household": household,
            "title": title,
            "today": today,
            "members": members,
            "measures": effective,
            "pairing": current_pairing,
            "pairings": data["pairings"],
            "benefits": benefits,
            "visits": data["visits"][:10],
            "progress": progress,
            "measure_total": sum((m.amount for m in effective), start=_decimal_zero()),
            "effect_total": sum((m.income_effect for m in effective), start=_decimal_zero()),
            "income": income,
        },
    )


def _decimal_zero() -> Any:
    from decimal import Decimal

    return Decimal("0.00")


# --- coverage ---------------------------------------------------------------------------------


@login_required
def coverage(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    user = request.user
    if user.role == "helper" or user.region is None:
        raise PermissionDenied(_("防漏表按区域查看，帮扶责任人请在“我的帮扶户”中查看。"))
    region = user.region
    # The region a step at a time (县, 乡镇, 行政村: povertyapp/regions.py), never every
    # region of a province in one select; `?region=<id>` (a link) still names one.
    cascade = regions.cascade(user, request.GET)
    if request.GET.get("region"):
        region = selectors.village_in_scope(user=user, region_id=request.GET["region"])
    elif cascade.chosen is not None:
        region = cascade.chosen
    elif cascade.asked:
        raise Http404(_("未找到该区划，或您无权查看。"))
    run = selectors.coverage_run_for(user=user, region=region)
    context: dict[str, Any] = {
        "region": region,
        "run": run,
        "cascade": cascade,
        # A read-only role sees the table and no button that would answer 403.
        "can_run": jobs.may_start(user, COVERAGE_JOB),
    }
    if run is not None:
        context["table"] = selectors.coverage_table(run=run, region=region)
        context["by_county"] = region.level in (Region.Level.CITY, Region.Level.PROVINCE)
        context["rules"] = selectors.rules_summary(run, region)
        context["summary"] = selectors.coverage_summary(run=run, region=region)
    return render(request, "assistance/coverage.html", context)


@login_required
@require_POST
def coverage_run(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    user = request.user
    if user.role == "helper" or user.region is None:
        raise PermissionDenied(_("帮扶责任人不能发起区域核查。"))
    region = selectors.village_in_scope(user=user, region_id=request.POST.get("region") or 0)
    job = jobs.job_enqueue(user=user, kind=COVERAGE_JOB, region=region)
    messages.info(request, _("已开始核查%(region)s，完成后可刷新查看。") % {"region": region.name})
    return redirect("job-detail", job_id=job.pk)


@login_required
def coverage_village(
    request: AuthenticatedHttpRequest, run_id: int, village_id: int
) -> HttpResponse:
    _require_case_access(request)
    from assistance.models import CoverageRun

    village = selectors.village_in_scope(user=request.user, region_id=village_id)
    run = CoverageRun.objects.filter(pk=run_id).select_related("region").first()
    if run is None or not village.path.startswith(run.region.path):
        raise Http404(_("未找到该核查结果。"))
    gaps = selectors.coverage_gaps(user=request.user, run=run, village=village)
    page = Paginator(gaps, 100).get_page(request.GET.get("page"))
    name_heads(gap.household for gap in page.object_list)
    return render(
        request, "assistance/coverage_village.html", {"run": run, "village": village, "page": page}
    )


# --- projects and funds -----------------------------------------------------------------------


@login_required
def project_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    projects = selectors.project_list(user=request.user)
    if request.GET.get("year"):
        projects = projects.filter(year=request.GET["year"])
    page = Paginator(projects.order_by("-year", "region__code", "name"), 50).get_page(
        request.GET.get("page")
    )
    for project in page.object_list:
        project.rate = selectors.rate(project.reimbursed_total, project.allocated_total)  # type: ignore[attr-defined]  # for the template
    return render(
        request,
        "assistance/project_list.html",
        {
            "page": page,
            "can_manage": services.can_declare_projects(request.user),
            "can_import": services.can_manage_funds(request.user),
        },
    )


@login_required
def project_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    if not services.can_declare_projects(request.user):
        raise PermissionDenied(_("只有乡镇和县扶贫办可以申报项目。"))
    form = forms.ProjectForm(request.POST or None, regions=roles.region_scope(request.user))
    if request.method == "POST" and form.is_valid():
        numbers = form.beneficiary_numbers()
        households = list(
            roles.household_scope(
                request.user, Household.objects.filter(number__in=numbers)
            ).select_related("village")
        )
        unknown = sorted(set(numbers) - {h.number for h in households})
        if unknown:
            form.add_error(
                "beneficiaries", _("未找到户编号：%(numbers)s") % {"numbers": _("、").join(unknown)}
            )
        else:
            data = {
                k: v
                for k, v in form.cleaned_data.items()
                if not k.startswith("fund_") and k != "beneficiaries"
            }
            try:
                project = services.project_create(
                    actor=request.user,
                    data=data,
                    fundings=form.fundings(),
                    beneficiaries=households,
                )
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("项目已申报入库，待县扶贫办审批和公告公示。"))
                return redirect("assistance:project", project_id=project.pk)
    return render(
        request,
        "assistance/project_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def project_detail(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    _require_case_access(request)
    project = selectors.project_get_for_user(user=request.user, project_id=project_id)
    can_manage = services.can_manage_funds(request.user)
    movements = list(project.movements.select_related("household", "created_by"))
    beneficiaries = list(project.beneficiaries.select_related("village").order_by("number"))
    linked_measures = list(
        selectors.measure_list(user=request.user)
        .filter(project=project)
        .order_by("household__number", "id")
    )
    measure_check = reconcile.project_measure_differences(project)
    name_heads(
        [
            *(movement.household for movement in movements),
            *beneficiaries,
            *(measure.household for measure in linked_measures),
            *(line.household for line in measure_check.lines),
        ]
    )
    return render(
        request,
        "assistance/project_detail.html",
        {
            "project": project,
            "sources": selectors.project_source_table(project),
            "reconciliation": selectors.project_reconciliation(project),
            "movements": movements,
            "beneficiaries": beneficiaries,
            "linked_measures": linked_measures,
            "measure_check": measure_check,
            "events": project.events.select_related("actor")[:50],
            "rate": selectors.rate(project.reimbursed_total, project.allocated_total),
            "can_manage": can_manage and not project.is_closed,
            "publicity_passed": project.publicity_passed(timezone.localdate()),
            "movement_form": forms.MovementForm() if can_manage else None,
            "approve_form": forms.ApproveForm() if can_manage else None,
            "publish_form": forms.PublishForm() if can_manage else None,
            "progress_form": forms.ProgressForm(
                initial={
                    "progress_percent": project.progress_percent,
                    "version": project.version,
                    "actual_start": project.actual_start,
                }
            )
            if can_manage
            else None,
            "accept_form": forms.AcceptForm(initial={"settled_amount": project.spent_total})
            if can_manage
            else None,
        },
    )


def _project_for_write(request: AuthenticatedHttpRequest, project_id: int) -> Project:
    _require_case_access(request)
    return selectors.project_get_for_user(user=request.user, project_id=project_id, for_write=True)


@login_required
@require_POST
def project_movement(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _project_for_write(request, project_id)
    form = forms.MovementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请完整填写资金流水。"))
        return redirect("assistance:project", project_id=project.pk)
    data = form.cleaned_data
    household = None
    if data["household_number"]:
        household = roles.household_scope(
            request.user, Household.objects.filter(number=data["household_number"])
        ).first()
        if household is None:
            messages.error(
                request, _("未找到户编号%(number)s。") % {"number": data["household_number"]}
            )
            return redirect("assistance:project", project_id=project.pk)
    return _project_step(
        request,
        project,
        lambda: services.fund_movement_record(
            actor=request.user,
            project=project,
            kind=data["kind"],
            source=data["source"],
            amount=data["amount"],
            date=data["date"],
            document_number=data["document_number"],
            voucher=data["voucher"],
            household=household,
            note=data["note"],
        ),
        _("资金流水已记录。"),
    )


def _project_step(
    request: AuthenticatedHttpRequest, project: Project, step: Callable[[], Any], done: str
) -> HttpResponse:
    """Run one write on a project's page (a service call): its refusal or `done` as the
    page's message, then back to the project."""
    try:
        step()
    except ValidationError as error:
        messages.error(request, _("；").join(error.messages))
    else:
        messages.success(request, done)
    return redirect("assistance:project", project_id=project.pk)


@login_required
@require_POST
def project_approve(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    """审批 by the county office."""
    project = _project_for_write(request, project_id)
    form = forms.ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写审批日期。"))
        return redirect("assistance:project", project_id=project.pk)
    return _project_step(
        request,
        project,
        lambda: services.project_approve(actor=request.user, project=project, **form.cleaned_data),
        _("项目已审批。"),
    )


@login_required
@require_POST
def project_publish(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    """公告公示 by the county office."""
    project = _project_for_write(request, project_id)
    form = forms.PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写公示开始日期和公示天数。"))
        return redirect("assistance:project", project_id=project.pk)
    return _project_step(
        request,
        project,
        lambda: services.project_publish(actor=request.user, project=project, **form.cleaned_data),
        _("项目已公告公示。"),
    )


@login_required
@require_POST
def project_progress(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _project_for_write(request, project_id)
    form = forms.ProgressForm(request.POST)
    if form.is_valid():
        try:
            services.project_update_progress(
                actor=request.user,
                project=project,
                expected_version=form.cleaned_data.pop("version"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            messages.error(request, _("；").join(error.messages))
        else:
            messages.success(request, _("项目进度已更新。"))
    else:
        messages.error(request, _("进度应为0到100之间的整数。"))
    return redirect("assistance:project", project_id=project.pk)


@login_required
@require_POST
def project_accept(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _project_for_write(request, project_id)
    form = forms.AcceptForm(request.POST)
    if not form.is_valid():
        return redirect("assistance:project", project_id=project.pk)
    return _project_step(
        request,
        project,
        lambda: services.project_accept(actor=request.user, project=project, **form.cleaned_data),
        _("项目已验收。"),
    )


@login_required
@require_POST
def project_close(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = _project_for_write(request, project_id)
    return _project_step(
        request,
        project,
        lambda: services.project_close(actor=request.user, project=project),
        _("项目已关闭。"),
    )


@login_required
def funds(request: AuthenticatedHttpRequest) -> HttpResponse:
    """报账率 by village, township and source; idle allocations; the two ledgers."""
    _require_case_access(request)
    today = timezone.localdate()
    standard = matching.standard_for(year=today.year, village=request.user.region)
    ledgers = costs.two_ledgers(user=request.user)
    name_heads(row["household"] for row in ledgers["household_rows"][:200])
    return render(
        request,
        "assistance/funds.html",
        {
            "rates": selectors.reimbursement_rates(user=request.user),
            "idle": selectors.idle_funds(
                selectors.project_list(user=request.user), on=today, days=standard.idle_fund_days
            ),
            "idle_days": standard.idle_fund_days,
            "ledgers": ledgers,
        },
    )


@login_required
def teams(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    from povertyapp.models import VillageYear

    latest = (
        VillageYear.objects.filter(village__in=roles.region_scope(request.user))
        .order_by("-year")
        .values_list("year", flat=True)
        .first()
    )
    try:
        year = int(request.GET.get("year") or latest or timezone.localdate().year)
    except ValueError:
        year = latest or timezone.localdate().year
    rows = selectors.village_teams(user=request.user, year=year)
    return render(
        request,
        "assistance/teams.html",
        {"rows": rows, "year": year, "flagged": sum(1 for row in rows if row["flagged"])},
    )


# --- 资产收益 ------------------------------------------------------------------------------------


def _asset_form(request: AuthenticatedHttpRequest, **kwargs: Any) -> forms.AssetForm:
    return forms.AssetForm(
        request.POST or None,
        projects=selectors.project_list(user=request.user),
        villages=roles.region_scope(request.user),
        **kwargs,
    )


def _asset_households(
    request: AuthenticatedHttpRequest, form: forms.AssetForm
) -> list[Household] | None:
    """The 到户 households typed in the form, in the user's scope; None (with the error on the
    form) when a number is not found."""
    numbers = form.household_numbers()
    households = list(
        roles.household_scope(request.user, Household.objects.filter(number__in=numbers))
    )
    unknown = sorted(set(numbers) - {h.number for h in households})
    if unknown:
        form.add_error(
            "households", _("未找到户编号：%(numbers)s") % {"numbers": _("、").join(unknown)}
        )
        return None
    return households


@login_required
def asset_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The asset register (资产收益) of the user's region."""
    _require_case_access(request)
    assets = selectors.asset_list(user=request.user).annotate(income=Sum("incomes__amount"))
    page = Paginator(assets.order_by("village__code", "name", "pk"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "assistance/asset_list.html",
        {"page": page, "can_keep": services.can_keep_assets(request.user)},
    )


@login_required
def asset_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    if not services.can_keep_assets(request.user):
        raise PermissionDenied(_("只有乡镇和县扶贫办可以登记扶贫资产。"))
    form = _asset_form(request)
    if request.method == "POST" and form.is_valid():
        households = _asset_households(request, form)
        if households is not None:
            data = {
                k: v for k, v in form.cleaned_data.items() if k not in ("households", "version")
            }
            try:
                asset = services.asset_create(actor=request.user, data=data, households=households)
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("资产已登记。"))
                return redirect("assistance:asset", asset_id=asset.pk)
    return render(
        request,
        "assistance/asset_form.html",
        {"form": form, "asset": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def asset_edit(request: AuthenticatedHttpRequest, asset_id: int) -> HttpResponse:
    _require_case_access(request)
    asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id, for_write=True)
    initial = {
        "project": asset.project_id,
        "kind": asset.kind,
        "name": asset.name,
        "village": asset.village_id,
        "value": asset.value,
        "ownership": asset.ownership,
        "manager": asset.manager,
        "formed_on": asset.formed_on,
        "households": " ".join(
            asset.households.order_by("number").values_list("number", flat=True)
        ),
        "note": asset.note,
        "version": asset.version,
    }
    form = _asset_form(request, initial=initial)
    form.fields["project"].disabled = True
    form.fields["village"].disabled = True
    if request.method == "POST" and form.is_valid():
        households = _asset_households(request, form)
        if households is not None:
            data = {
                k: v
                for k, v in form.cleaned_data.items()
                if k not in ("households", "version", "project", "village")
            }
            try:
                services.asset_update(
                    actor=request.user,
                    asset=asset,
                    data=data,
                    households=households,
                    expected_version=form.cleaned_data.get("version"),
                )
            except ConflictError as conflict:
                form.add_error(None, conflict.messages[0])
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("资产信息已保存。"))
                return redirect("assistance:asset", asset_id=asset.pk)
    return render(
        request,
        "assistance/asset_form.html",
        {"form": form, "asset": asset},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def asset_detail(request: AuthenticatedHttpRequest, asset_id: int) -> HttpResponse:
    _require_case_access(request)
    asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id)
    can_keep = services.can_keep_assets(request.user)
    years = selectors.asset_years(asset)
    households = list(asset.households.order_by("number"))
    name_heads([*households, *(line.household for row in years for line in row["lines"])])
    return render(
        request,
        "assistance/asset_detail.html",
        {
            "asset": asset,
            "years": years,
            "households": households,
            "can_keep": can_keep,
            "income_form": forms.AssetIncomeForm() if can_keep else None,
            "distribution_form": forms.AssetDistributionForm() if can_keep else None,
        },
    )


@login_required
@require_POST
def asset_income(request: AuthenticatedHttpRequest, asset_id: int) -> HttpResponse:
    _require_case_access(request)
    asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id, for_write=True)
    form = forms.AssetIncomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写收益年度和收益金额。"))
        return redirect("assistance:asset", asset_id=asset.pk)
    try:
        services.asset_income_set(actor=request.user, asset=asset, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, _("；").join(error.messages))
    else:
        messages.success(request, _("资产收益已登记。"))
    return redirect("assistance:asset", asset_id=asset.pk)


@login_required
@require_POST
def asset_distribution(request: AuthenticatedHttpRequest, asset_id: int) -> HttpResponse:
    _require_case_access(request)
    asset = selectors.asset_get_for_user(user=request.user, asset_id=asset_id, for_write=True)
    form = forms.AssetDistributionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请完整填写收益分配。"))
        return redirect("assistance:asset", asset_id=asset.pk)
    data = form.cleaned_data
    household = roles.household_scope(
        request.user, Household.objects.filter(number=data["household_number"])
    ).first()
    if household is None:
        messages.error(
            request, _("未找到户编号%(number)s。") % {"number": data["household_number"]}
        )
        return redirect("assistance:asset", asset_id=asset.pk)
    try:
        services.asset_distribution_set(
            actor=request.user,
            asset=asset,
            year=data["year"],
            household=household,
            amount=data["amount"],
            paid_on=data["paid_on"],
        )
    except ValidationError as error:
        messages.error(request, _("；").join(error.messages))
    else:
        messages.success(request, _("收益分配已保存。"))
    return redirect("assistance:asset", asset_id=asset.pk)


# --- 退出规划 ------------------------------------------------------------------------------------


@login_required
def exit_plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Planned exits by year and village, the village 出列 plan, and the progress against them."""
    _require_case_access(request)
    if request.user.role == request.user.Role.HELPER:
        raise PermissionDenied(_("帮扶责任人不查看退出规划。"))
    year_text = request.GET.get("year") or ""
    year = int(year_text) if year_text.isdigit() and 2010 <= int(year_text) <= 2100 else None
    return render(
        request,
        "assistance/exit_plan.html",
        {"plan": exit_plans.exit_progress(user=request.user, year=year), "year": year},
    )
