"""The round pages: list and open rounds; the round with its 四类名单, proposals, review,
approval, workbook import and closing. Thin views over `rounds.services`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households import forms as household_forms
from households.models import Household, ValueList
from households.selectors import province_of, region_get_for_user
from households.value_lists import value_lists
from povertyapp import files, roles, uploads
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region
from rounds import dashboards, rates
from rounds import services as rounds
from rounds.models import AdjustmentRound, RoundChange

PAGE_SIZE = 50


def _require_case_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.has_case_access(request.user):
        raise PermissionDenied(_("您的账号不能查看动态调整。"))


def _fail(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
def round_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    user = request.user
    counties = []
    if roles.can_configure(user):
        counties = list(roles.region_scope(user).filter(level="county").order_by("code"))
    listed = list(rounds.round_list(user=user))
    for round in listed:  # each round's figures, of the user's own region within its county
        round.figures_code = dashboards.figures_region_of_round(  # type: ignore[attr-defined]  # for the template
            user=user, county=round.county
        ).code
    return render(
        request,
        "dashboards/rounds/round_list.html",
        {
            "rounds": listed,
            "counties": counties,
        },
    )


@login_required
@require_POST
def round_open_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    county = region_get_for_user(user=request.user, code=request.POST.get("county", ""))
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        messages.error(request, _("请填写年度。"))
        return redirect("rounds:list")
    try:
        round = rounds.round_open(
            actor=request.user, county=county, year=year, name=request.POST.get("name", "").strip()
        )
    except ValidationError as error:
        _fail(request, error)
        return redirect("rounds:list")
    messages.success(
        request,
        _("已开启%(name)s，基期已冻结（%(count)d户）。")
        % {"name": round.display_name, "count": round.baseline.count()},
    )
    return redirect("rounds:detail", round_id=round.pk)


@login_required
def round_detail(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    _require_case_access(request)
    user = request.user
    round = rounds.round_get_for_user(user=user, round_id=round_id)
    changes = rounds.change_list(user=user, round=round)
    state = request.GET.get("state", "")
    kind = request.GET.get("kind", "")
    village = request.GET.get("village", "")
    if state in RoundChange.State.values:
        changes = changes.filter(state=state)
    if kind in RoundChange.Kind.values:
        changes = changes.filter(kind=kind)
    if village.isdigit():
        changes = changes.filter(village__code=village)
    page = Paginator(changes.select_related("member"), PAGE_SIZE).get_page(request.GET.get("page"))
    for change in page.object_list:
        change.summary = rounds.change_summary(change, user)  # type: ignore[attr-defined]  # for the template
    lists = value_lists(year=round.year, province=province_of(round.county))
    query = request.GET.copy()
    query.pop("page", None)
    in_scope_county = roles.region_in_scope(user, round.county)
    can_decide = roles.can_configure(user) and in_scope_county
    is_open = round.status == AdjustmentRound.Status.OPEN
    # Shown in place of 关闭批次 while the service would refuse it.
    close_blocker = rounds.round_close_blocker(round) if can_decide and is_open else None
    return render(
        request,
        "dashboards/rounds/round_detail.html",
        {
            "round": round,
            "figures_code": dashboards.figures_region_of_round(user=user, county=round.county).code,
            "counts": rounds.list_counts(user=user, round=round),
            "page": page,
            "query": query.urlencode(),
            "states": RoundChange.State.choices,
            "kinds": RoundChange.Kind.choices,
            "filters": {"state": state, "kind": kind, "village": village},
            "is_open": is_open,
            "close_blocker": " ".join(close_blocker.messages) if close_blocker else "",
            "can_propose": roles.can_write_households(user) and user.role == "village_cadre",
            "can_review": roles.can_review(user),
            "review_form": review_form(user, round) if roles.can_review(user) else None,
            "figures_final": rates.round_figures_final(round),
            "can_decide": can_decide,
            "grounds": rounds.removal_grounds(round),
            "status_kinds": [
                (kind, RoundChange.Kind(kind).label) for kind in RoundChange.STATUS_KINDS
            ],
            "natural": rounds.natural_change_counts(user=user, round=round),
            "join_reasons": lists.get(ValueList.JOIN_REASON, []),
            "leave_reasons": lists.get(ValueList.LEAVE_REASON, []),
            "relations": lists.get(ValueList.RELATION, []),
            "correctable": rounds.correctable_fields(),
            "under_approval": (
                rounds.village_under_approval(user.region)
                if user.region and user.region.level == "village"
                else None
            ),
        },
    )


def _back(round_id: int, request: HttpRequest) -> HttpResponse:
    target = reverse("rounds:detail", kwargs={"round_id": round_id})
    query = request.POST.get("return_query", "")
    return redirect(f"{target}?{query}" if query else target)


@login_required
@require_POST
def change_propose_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    _require_case_access(request)
    round = rounds.round_get_for_user(user=request.user, round_id=round_id)
    number = request.POST.get("number", "").strip()
    household = (
        roles.household_scope(request.user, Household.objects.all()).filter(number=number).first()
    )
    if household is None:
        messages.error(
            request, _("户编号%(number)s不存在，或不在您的管辖范围内。") % {"number": number}
        )
        return _back(round.pk, request)
    try:
        rounds.change_propose(
            actor=request.user,
            round=round,
            household=household,
            kind=request.POST.get("kind", ""),
            persons=request.POST.get("persons", ""),
            head_name=request.POST.get("head_name", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        _fail(request, error)
    else:
        messages.success(request, _("已提出：%(number)s。") % {"number": number})
    return _back(round.pk, request)


@login_required
@require_POST
def natural_propose_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    """A village proposes one 自然增减 line (a person joins or leaves a household)."""
    _require_case_access(request)
    round = rounds.round_get_for_user(user=request.user, round_id=round_id)
    post = request.POST
    number = post.get("number", "").strip()
    try:
        rounds.natural_change_propose(
            actor=request.user,
            round=round,
            number=number,
            action=post.get("action", ""),
            reason=post.get("reason", ""),
            effective_date=post.get("effective_date", ""),
            member=post.get("member", ""),
            data={key: post.get(key, "") for key in ("name", "id_number", "relation")},
            note=post.get("note", ""),
        )
    except ValidationError as error:
        _fail(request, error)
    else:
        messages.success(request, _("已提出自然增减：%(number)s。") % {"number": number})
    return _back(round.pk, request)


@login_required
@require_POST
def correction_propose_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    """A village proposes one 信息更正 line (one field of a household or a member)."""
    _require_case_access(request)
    round = rounds.round_get_for_user(user=request.user, round_id=round_id)
    post = request.POST
    number = post.get("number", "").strip()
    try:
        rounds.correction_propose(
            actor=request.user,
            round=round,
            number=number,
            member=post.get("member", ""),
            field=post.get("field", ""),
            value=post.get("value", ""),
            reason=post.get("reason", ""),
        )
    except ValidationError as error:
        _fail(request, error)
    else:
        messages.success(request, _("已提出信息更正：%(number)s。") % {"number": number})
    return _back(round.pk, request)


@login_required
@require_POST
def change_import_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    _require_case_access(request)
    round = rounds.round_get_for_user(user=request.user, round_id=round_id)
    upload = request.FILES.get("workbook")
    if upload is None:
        messages.error(request, _("请选择要上传的四类名单文件。"))
        return _back(round.pk, request)
    try:
        uploads.check_spreadsheet(upload, inline=True)
        if uploads.needs_job(upload):
            job = rounds.changes_import_start(
                actor=request.user, round=round, file=upload, filename=upload.name or ""
            )
            messages.info(
                request,
                _("名单超过%(rows)d行，已转为后台任务校验和导入，完成后在此页查看结果。")
                % {"rows": uploads.inline_max_rows()},
            )
            return redirect("job-detail", job_id=job.pk)
        created = rounds.changes_import(actor=request.user, round=round, file=upload)
    except ValidationError as error:
        messages.error(request, _("导入未完成，文件中的记录均未保存。请修改以下问题后重新上传："))
        _fail(request, uploads.capped_errors(error.messages))
    else:
        messages.success(request, _("已导入%(count)d条名单。") % {"count": len(created)})
    return _back(round.pk, request)


@login_required
def change_template_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    _require_case_access(request)
    rounds.round_get_for_user(user=request.user, round_id=round_id)
    response = HttpResponse(
        rounds.changes_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    files.mark_download(response, _("四类名单.xlsx"))
    return response


@login_required
@require_POST
def change_act_view(request: AuthenticatedHttpRequest, change_id: int) -> HttpResponse:
    """Withdraw (village), review (township), decide (county) one change."""
    _require_case_access(request)
    change = rounds.change_get_for_user(user=request.user, change_id=change_id)
    action = request.POST.get("action", "")
    opinion = request.POST.get("opinion", "")
    actions: dict[str, Any] = {
        "withdraw": lambda: rounds.change_withdraw(actor=request.user, change=change),
        "review_pass": lambda: rounds.change_review(
            actor=request.user, change=change, approve=True, opinion=opinion
        ),
        "review_return": lambda: rounds.change_review(
            actor=request.user, change=change, approve=False, opinion=opinion
        ),
        "approve": lambda: rounds.change_decide(
            actor=request.user, change=change, approve=True, opinion=opinion
        ),
        "reject": lambda: rounds.change_decide(
            actor=request.user, change=change, approve=False, opinion=opinion
        ),
    }
    if action not in actions:
        messages.error(request, _("未知的操作。"))
        return _back(change.round_id, request)
    try:
        done = actions[action]()
    except ValidationError as error:
        _fail(request, error)
    else:
        messages.success(
            request,
            _("%(number)s：%(state)s。")
            % {"number": change.household.number, "state": done.get_state_display()},
        )
    return _back(change.round_id, request)


def _review_regions(user: Any, round: AdjustmentRound) -> list[tuple[str, str]]:
    """The villages with proposed lines in the user's scope, each township first (its whole
    area), for the bulk review's select."""
    villages = (
        Region.objects.filter(
            pk__in=rounds.change_list(user=user, round=round)
            .filter(state=RoundChange.State.PROPOSED)
            .values("village")
        )
        .select_related("parent")
        .order_by("code")
    )
    choices: list[tuple[str, str]] = []
    seen: set[int] = set()
    for village in villages:
        township = village.parent
        if (
            township is not None
            and township.pk not in seen
            and roles.region_in_scope(user, township)
        ):
            seen.add(township.pk)
            choices.append((township.code, _("%(name)s（全乡镇）") % {"name": township.name}))
        choices.append((village.code, f"{township.name if township else ''} {village.name}"))
    return choices


def review_form(
    user: Any, round: AdjustmentRound, data: Any = None, region: Region | None = None
) -> household_forms.RoundReviewForm:
    lines: list[tuple[int, str]] = []
    if region is not None:
        lines = [
            (change.pk, change.household.number)
            for change in rounds.change_list(user=user, round=round).filter(
                state=RoundChange.State.PROPOSED, village__path__startswith=region.path
            )
        ]
    return household_forms.RoundReviewForm(data, regions=_review_regions(user, round), lines=lines)


@login_required
@require_POST
def changes_review_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    """The township reviews every proposed line of a village (or of the township) in one post;
    a line given a reason is returned, the others pass (`rounds.changes_review_many`)."""
    _require_case_access(request)
    round = rounds.round_get_for_user(user=request.user, round_id=round_id)
    if not roles.can_review(request.user):
        raise PermissionDenied(_("只有乡镇审核员或县扶贫办可以审核名单。"))
    region = region_get_for_user(user=request.user, code=request.POST.get("region", ""))
    form = review_form(request.user, round, request.POST, region)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back(round.pk, request)
    try:
        result = rounds.changes_review_many(
            actor=request.user,
            round=round,
            region=region,
            opinion=form.cleaned_data["opinion"],
            exceptions=form.exceptions(),
        )
    except ValidationError as error:
        _fail(request, error)
    else:
        messages.success(
            request,
            _("已审核%(region)s的名单：通过%(passed)d条，退回%(returned)d条。")
            % {"region": region.name, **result},
        )
    return _back(round.pk, request)


@login_required
@require_POST
def changes_decide_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    """The county approves every reviewed change of a village or township at once."""
    _require_case_access(request)
    round = rounds.round_get_for_user(user=request.user, round_id=round_id)
    if not roles.can_configure(request.user):
        raise PermissionDenied(_("只有县扶贫办可以审定名单。"))
    region = region_get_for_user(user=request.user, code=request.POST.get("region", ""))
    result = rounds.changes_decide_many(
        actor=request.user,
        round=round,
        region=region,
        approve=True,
        opinion=request.POST.get("opinion", ""),
    )
    messages.success(request, _("已审定%(count)d条。") % {"count": result["decided"]})
    for failure in result["failed"]:
        messages.error(request, failure)
    return _back(round.pk, request)


@login_required
@require_POST
def round_close_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    _require_case_access(request)
    round = rounds.round_get_for_user(user=request.user, round_id=round_id)
    try:
        rounds.round_close(actor=request.user, round=round)
    except ValidationError as error:
        _fail(request, error)
    else:
        messages.success(request, _("批次已关闭，指标正在计算，完成后即为最终结果。"))
    return redirect("rounds:detail", round_id=round.pk)


@login_required
@require_POST
def round_compute_view(request: AuthenticatedHttpRequest, round_id: int) -> HttpResponse:
    """Recompute the round's snapshots now (county office or township reviewer, in scope)."""
    _require_case_access(request)
    round = rounds.round_get_for_user(user=request.user, round_id=round_id)
    if not roles.can_review(request.user):
        raise PermissionDenied(_("只有乡镇审核员或县扶贫办可以计算指标。"))
    user_region = request.user.region
    region = (
        user_region
        if user_region is not None and user_region.path.startswith(round.county.path)
        else round.county
    )
    try:
        job = rates.rates_enqueue(user=request.user, round=round, region=region)
    except ValidationError as error:
        _fail(request, error)
        return redirect("rounds:detail", round_id=round.pk)
    return redirect("job-detail", job_id=job.pk)
