"""The data-quality pages: the problems of the user's area with the villages' summary, starting
a check (a job, `households.quality`), and a village's explanation and the township's review
of a problem."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households import forms as household_forms
from households import quality, selectors, services
from households.models import DataProblem
from households.views.common import _require_case_access
from povertyapp import jobs, regions, roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region


@login_required
def quality_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    user = request.user
    problems = quality.problem_list(user)
    # The region a step at a time (县, 乡镇, 行政村: povertyapp/regions.py): a province has
    # 26,000 villages, too many for one select (issue 19). `?village=<id>` (a link) still works.
    cascade = regions.cascade(user, request.GET)
    state = request.GET.get("state", "active")
    rule = request.GET.get("rule", "")
    if state == "active":
        problems = problems.filter(state__in=[DataProblem.State.OPEN, DataProblem.State.EXPLAINED])
    elif state in DataProblem.State.values:
        problems = problems.filter(state=state)
    if cascade.chosen is not None:
        problems = problems.filter(village__path__startswith=cascade.chosen.path)
    elif cascade.asked:  # a region not the user's, or a village not under the chosen township
        problems = problems.none()
    if rule in quality.RULES_BY_CODE:
        problems = problems.filter(rule=rule)
    page = Paginator(problems, 50).get_page(request.GET.get("page"))
    for problem in page.object_list:
        definition = quality.RULES_BY_CODE.get(problem.rule)
        problem.rule_label = definition.label if definition else problem.rule
        problem.field_label = quality.field_label(problem.rule, problem.field)
    selectors.name_heads(problem.household for problem in page.object_list)
    latest = quality.latest_result(user.region) if user.region is not None else None
    # The villages offered (one county's at most) carry their open problems, here and when
    # the options endpoint refills them (households/apps.py registers the labels).
    regions.label_villages(cascade, quality.VILLAGE_LABELS)
    summary_level, summary = (
        quality.summary_rows(latest.result, cascade.region)
        if latest is not None and cascade.region is not None
        else (Region.Level.VILLAGE, [])
    )
    return render(
        request,
        "households/quality.html",
        {
            "page": page,
            "cascade": cascade,
            "village_labels": quality.VILLAGE_LABELS,
            "state": state,
            "rule": rule,
            "states": DataProblem.State.choices,
            "rules": quality.RULES_UNIQUE,
            "latest": latest,
            "summary": summary,
            "summary_level": summary_level,
            "by_rule": quality.open_problem_counts_by_rule(user),
            "can_run": roles.can_write_households(user) or roles.can_review(user),
            "can_explain": user.role == "village_cadre",
            "can_review": user.role == "township_reviewer",
            "rule_labels": {rule.code: rule.label for rule in quality.RULES},
        },
    )


@login_required
@require_POST
def quality_run_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    if not (roles.can_write_households(request.user) or roles.can_review(request.user)):
        raise PermissionDenied(_("您的角色不能发起检查。"))
    code = request.POST.get("region") or (request.user.region.code if request.user.region else "")
    region = selectors.region_get_for_user(user=request.user, code=code)
    with transaction.atomic():
        job = jobs.job_enqueue(user=request.user, kind=quality.JOB_KIND, region=region)
    return redirect("job-detail", job.pk)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("households:quality")


@login_required
@require_POST
def problem_explain_view(request: AuthenticatedHttpRequest, problem_id: int) -> HttpResponse:
    problem = quality.problem_get_for_user(request.user, problem_id)
    form = household_forms.ExplainForm(request.POST)
    if form.is_valid():
        try:
            services.problem_explain(
                actor=request.user, problem=problem, explanation=form.cleaned_data["explanation"]
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("情况说明已提交，待乡镇审核。"))
    else:
        for errors in form.errors.values():
            for form_error in errors:
                messages.error(request, str(form_error))  # ErrorList yields the message strings
    return redirect(_safe_next(request))


@login_required
@require_POST
def problem_review_view(request: AuthenticatedHttpRequest, problem_id: int) -> HttpResponse:
    problem = quality.problem_get_for_user(request.user, problem_id)
    form = household_forms.ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.problem_review(
                actor=request.user,
                problem=problem,
                accept=form.cleaned_data["accept"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("已审核。"))
    else:
        for errors in form.errors.values():
            for form_error in errors:
                messages.error(request, str(form_error))  # ErrorList yields the message strings
    return redirect(_safe_next(request))
