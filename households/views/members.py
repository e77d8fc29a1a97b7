"""The household page's small forms (`member_action.html`): a member's 减员 and 迁移 to another
household, and a household's income for a year."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from households import forms as household_forms
from households import selectors, services
from households.services import INCOME_FIELDS
from households.views.common import _apply_errors, _quality_messages, _require_writer
from povertyapp.http import AuthenticatedHttpRequest


@login_required
def member_remove_view(
    request: AuthenticatedHttpRequest, household_id: int, member_id: int
) -> HttpResponse:
    _require_writer(request)
    household = selectors.household_get_for_user(
        user=request.user, household_id=household_id, for_write=True
    )
    member = selectors.member_get_for_user(user=request.user, member_id=member_id, for_write=True)
    if member.household_id != household.pk:
        raise Http404(_("未找到该成员，或您无权查看。"))
    lists = household_forms.lists_for_user(request.user)
    if request.method == "POST":
        form = household_forms.MemberRemoveForm(request.POST, lists=lists)
        if form.is_valid():
            try:
                services.member_remove(
                    actor=request.user,
                    member=member,
                    reason=form.cleaned_data["reason"],
                    effective_date=form.cleaned_data["effective_date"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                _apply_errors(error, form)
            else:
                messages.success(
                    request,
                    _("%(name)s已减员（%(reason)s）。")
                    % {"name": member.name, "reason": form.cleaned_data["reason"]},
                )
                return redirect(reverse("households:detail", args=[household.pk]) + "?tab=members")
    else:
        form = household_forms.MemberRemoveForm(
            initial={"effective_date": household_forms.today()}, lists=lists
        )
    return render(
        request,
        "households/member_action.html",
        {
            "household": household,
            "member": member,
            "form": form,
            "title": _("成员减员"),
            "submit": _("确认减员"),
        },
    )


@login_required
def member_move_view(
    request: AuthenticatedHttpRequest, household_id: int, member_id: int
) -> HttpResponse:
    _require_writer(request)
    household = selectors.household_get_for_user(
        user=request.user, household_id=household_id, for_write=True
    )
    member = selectors.member_get_for_user(user=request.user, member_id=member_id, for_write=True)
    if member.household_id != household.pk:
        raise Http404(_("未找到该成员，或您无权查看。"))
    lists = household_forms.lists_for_user(request.user)
    if request.method == "POST":
        form = household_forms.MemberMoveForm(request.POST, lists=lists)
        if form.is_valid():
            try:
                target = selectors.household_get_by_number_for_user(
                    user=request.user, number=form.cleaned_data["to_number"].strip()
                )
            except Http404:
                form.add_error("to_number", _("未找到该户编号，或不在您的管辖范围内。"))
            else:
                try:
                    joined = services.member_move(
                        actor=request.user,
                        member=member,
                        to_household=target,
                        relation=form.cleaned_data["relation"],
                        effective_date=form.cleaned_data["effective_date"],
                        reason=form.cleaned_data["reason"],
                    )
                except ValidationError as error:
                    _apply_errors(error, form)
                else:
                    messages.success(
                        request,
                        _("%(name)s已迁入%(number)s。")
                        % {"name": member.name, "number": target.number},
                    )
                    return redirect(
                        reverse("households:detail", args=[joined.household_id]) + "?tab=members"
                    )
    else:
        form = household_forms.MemberMoveForm(
            initial={"effective_date": household_forms.today()}, lists=lists
        )
    return render(
        request,
        "households/member_action.html",
        {
            "household": household,
            "member": member,
            "form": form,
            "title": _("成员迁移"),
            "submit": _("确认迁移"),
        },
    )


@login_required
def income_edit_view(
    request: AuthenticatedHttpRequest, household_id: int, year: int
) -> HttpResponse:
    _require_writer(request)
    household = selectors.household_get_for_user(
        user=request.user, household_id=household_id, for_write=True
    )
    if not 2010 <= year <= household_forms.today().year:
        raise Http404(_("收入年度不合理。"))
    income = household.incomes.filter(year=year).first()
    if request.method == "POST":
        form = household_forms.IncomeForm(request.POST)
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in INCOME_FIELDS}
            try:
                services.income_set(
                    actor=request.user,
                    household=household,
                    year=year,
                    data=data,
                    expected_version=form.cleaned_data["version"],
                )
            except ValidationError as error:
                _apply_errors(error, form)
            else:
                messages.success(request, _("%(year)s年收入已保存。") % {"year": year})
                _quality_messages(request, household)
                return redirect(reverse("households:detail", args=[household.pk]) + "?tab=income")
    else:
        initial = {name: getattr(income, name) for name in INCOME_FIELDS} if income else {}
        initial["version"] = income.version if income else None
        form = household_forms.IncomeForm(initial=initial)
    return render(
        request,
        "households/member_action.html",
        {
            "household": household,
            "form": form,
            "member": None,
            "title": _("%(year)s年收入") % {"year": year},
            "submit": _("保存"),
        },
    )
