"""The year-end sign-off pages (年度签署) and the review list of edits after approval.

Thin views: the access path and the rules are in `years.signoff` and `years.lock_reviews`.
A refused action renders the page again with the message beside the field it concerns."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.selectors import name_heads, region_get_for_user
from povertyapp import roles
from povertyapp.forms import add_service_errors
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region, User, YearLock
from years import lock_reviews, signoff
from years.forms_signoff import ReasonForm, SignForm
from years.lock import REGISTRY
from years.models import SignOff


def _year(value: Any) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise Http404(_("年度无效。")) from None
    if not 2010 <= year <= 2100:
        raise Http404(_("年度无效。"))
    return year


def _default_year() -> int:
    return signoff.default_year()


def _require_access(user: User) -> Region:
    if not roles.has_case_access_in_region(user) or user.region is None:
        raise PermissionDenied(_("您的账号不能查看年度签署。"))
    return user.region


def _own_action(user: User, region: Region, year: int, *, state: str, locked: bool) -> str:
    """What the user's level may do on the page now: submit (village cadre), sign (township
    reviewer, county office), or nothing: never a button the service would refuse for the
    state alone (a locked year, a village already submitted or its township signed, a region
    already signed). What else may still refuse it (an open item, a level below not done)
    says so when it is pressed."""
    if locked:
        return ""
    role = user.role
    if role == User.Role.VILLAGE_CADRE:
        township = region.parent
        if state == SignOff.State.SUBMITTED or (
            township is not None
            and signoff.state_of(region=township, year=year) == SignOff.State.SIGNED
        ):
            return ""
        return "submit"
    if role in (User.Role.TOWNSHIP_REVIEWER, User.Role.COUNTY_OFFICER):
        return "" if state == SignOff.State.SIGNED else "sign"
    return ""


def _page(
    request: AuthenticatedHttpRequest,
    year: int,
    *,
    sign_form: SignForm | None = None,
    reason_form: ReasonForm | None = None,
    failed_action: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    region = _require_access(user)
    area = signoff.area_sign_offs(user=user, year=year)
    county = area["county"]
    lock = YearLock.objects.filter(county=county, year=year).select_related("locked_by").first()
    own_state = signoff.state_of(region=region, year=year)
    context = {
        "year": year,
        "years": list(range(timezone.localdate().year, timezone.localdate().year - 6, -1)),
        "area": area,
        "region": region,
        "own_state_label": SignOff.State(own_state).label,
        "items": signoff.open_items(region=region, year=year),
        "action": _own_action(
            user,
            region,
            year,
            state=own_state,
            locked=lock is not None and lock.locked_at is not None,
        ),
        "is_county_officer": user.role == User.Role.COUNTY_OFFICER,
        # 重新开启: the county office, of a signed year only (else the service refuses).
        "can_reopen": user.role == User.Role.COUNTY_OFFICER
        and signoff.state_of(region=county, year=year) == SignOff.State.SIGNED,
        "is_township_reviewer": user.role == User.Role.TOWNSHIP_REVIEWER,
        "lock": lock,
        "events": signoff.sign_off_events(user=user, year=year)[:100],
        "sign_form": sign_form or SignForm(),
        "reason_form": reason_form or ReasonForm(),
        "failed_action": failed_action,
        "locked_records": [str(entry[2]) for entry in REGISTRY],
    }
    return render(request, "years/signoff.html", context, status=status)


@login_required
def signoff_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    year = _year(request.GET.get("year", _default_year()))
    return _page(request, year)


def _done(request: AuthenticatedHttpRequest, year: int, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("years:signoff") + f"?year={year}")


@login_required
@require_POST
def signoff_submit_view(request: AuthenticatedHttpRequest, year: int) -> HttpResponse:
    year = _year(year)
    region = _require_access(request.user)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            signoff.signoff_submit(
                actor=request.user,
                village=region,
                year=year,
                explanation=form.cleaned_data["explanation"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(request, year, _("本村年度数据已提交乡镇。"))
    return _page(request, year, sign_form=form, failed_action="sign", status=400)


@login_required
@require_POST
def signoff_sign_view(request: AuthenticatedHttpRequest, year: int) -> HttpResponse:
    year = _year(year)
    region = _require_access(request.user)
    signoff.require_may_sign(request.user)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            signoff.signoff_sign(
                actor=request.user,
                region=region,
                year=year,
                explanation=form.cleaned_data["explanation"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(request, year, _("已签署。"))
    return _page(request, year, sign_form=form, failed_action="sign", status=400)


@login_required
@require_POST
def signoff_return_view(request: AuthenticatedHttpRequest, year: int, code: str) -> HttpResponse:
    year = _year(year)
    _require_access(request.user)
    signoff.require_may_sign(request.user)
    region = region_get_for_user(user=request.user, code=code)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            signoff.signoff_return(
                actor=request.user, region=region, year=year, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(request, year, _("已退回%(name)s。") % {"name": region.name})
    return _page(request, year, reason_form=form, failed_action="reason", status=400)


@login_required
@require_POST
def signoff_reopen_view(request: AuthenticatedHttpRequest, year: int) -> HttpResponse:
    year = _year(year)
    region = _require_access(request.user)
    signoff.require_may_reopen(request.user)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            signoff.signoff_reopen(
                actor=request.user, county=region, year=year, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(request, year, _("本年度已重新开启，年度数据解除只读。"))
    return _page(request, year, reason_form=form, failed_action="reason", status=400)


@login_required
def edit_review_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    reviews = list(
        lock_reviews.edit_review_list(user=request.user, pending_only=not show_all)[:500]
    )
    name_heads(review.household for review in reviews)
    return render(
        request,
        "years/edit_reviews.html",
        {"reviews": reviews, "show_all": show_all},
    )


@login_required
@require_POST
def edit_review_mark_view(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = lock_reviews.edit_review_get_for_user(user=request.user, review_id=review_id)
    try:
        lock_reviews.edit_review_mark(actor=request.user, review=review)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已标记为已复核。"))
    return redirect("years:edit-reviews")
