"""The registry's pages: the household list and the household page with its tabs."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Field, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households import detail_tabs, selectors, standards
from households.filters import MAX_ID, HouseholdFilter
from households.forms import HOUSEHOLD_SECTIONS
from households.models import Household as _Household
from households.models import HouseholdIncome, ValueList
from households.services import INCOME_FIELDS
from povertyapp import roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region, User
from povertyapp.privacy import access_log_record, mask, shown, shown_health

PAGE_SIZES = (20, 50, 100)
TABS = (
    ("basic", gettext_lazy("基本信息")),
    ("members", gettext_lazy("家庭成员")),
    ("conditions", gettext_lazy("生产生活条件")),
    ("income", gettext_lazy("收入情况")),
    ("assurance", gettext_lazy("两不愁三保障")),
    ("status", gettext_lazy("状态变动")),
    ("history", gettext_lazy("修改记录")),
)


def _require_case_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.has_case_access(request.user):
        raise PermissionDenied(_("您的账号不查看农户信息。"))


@login_required
def household_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    scoped = selectors.household_list(user=request.user)
    household_filter = HouseholdFilter(request.GET or None, queryset=scoped, user=request.user)
    queryset = household_filter.qs if household_filter.is_bound else scoped
    try:
        page_size = int(request.GET.get("page_size", 20))
    except ValueError:
        page_size = 20
    page_size = page_size if page_size in PAGE_SIZES else 20
    # The counts on top come from the same scope and filters; their sum is the paginator's
    # count, so the page costs a fixed number of queries.
    status_counts = selectors.household_status_counts(
        user=request.user, household_filter=household_filter
    )
    # The id last breaks ties, so that no household shows on two pages or on none.
    queryset = queryset.order_by(*queryset.query.order_by, "pk")
    # Pages are cut on the ids alone, then the page's rows read by id: PostgreSQL evaluates
    # the select list (head, person count) for every row an OFFSET skips, so page 50 of a
    # county computed 1,000 rows' subqueries to show 20.
    paginator = Paginator(queryset.values_list("pk", flat=True), page_size)
    paginator.__dict__["count"] = sum(status_counts.values())
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = selectors.household_list_rows(list(page.object_list))
    # Display values computed once per page (get_status_display would rebuild the choices per
    # row); the detail links share one prefix (households/urls.py: "" and "<id>/").
    status_labels = dict(_Household.Status.choices)
    list_url = reverse("households:list")
    for row in page.object_list:
        row["head_id_shown"] = mask(row["head_id_number"])
        row["status_label"] = status_labels.get(row["status"], row["status"])
        row["url"] = f"{list_url}{row['pk']}/"
    filter_choices = selectors.list_filter_choices(
        user=request.user, year=timezone.localdate().year
    )
    village_choices, group_choices = _region_choices(
        request.user, household_filter.form["village"].value()
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "households/household_list.html",
        {
            "filter": household_filter,
            "page": page,
            # The filter form's inputs are written in the template and its selects built here
            # in one pass each: Django's widget templates cost more than the 20 rows.
            "form_values": {
                name: "" if value is None else value
                for name in ("q", "year")
                for value in [household_filter.form[name].value()]
            },
            "cause_options": _label_options(
                household_filter.form["cause"].value(), filter_choices[ValueList.CAUSE]
            ),
            "attribute_options": _label_options(
                household_filter.form["attribute"].value(),
                filter_choices[ValueList.POVERTY_ATTRIBUTE],
            ),
            "status_options": _options(
                household_filter.form["status"].value(), _Household.Status.choices
            ),
            "sort_options": _options(request.GET.get("ordering"), SORT_CHOICES),
            "page_size_options": _options(page_size, ((size, size) for size in PAGE_SIZES)),
            "query": query.urlencode(),
            "can_write": roles.can_write_households(request.user),
            "status_counts": [
                (label, status_counts.get(value, 0), value)
                for value, label in _Household.Status.choices
            ],
            "village_options": _options(household_filter.form["village"].value(), village_choices),
            "group_options": _options(
                household_filter.form["group"].value(),
                group_choices,
            ),
        },
    )


def _options(selected: Any, choices: Iterable[tuple[Any, Any]]) -> str:
    """The <option> elements of a select, built in one pass: a county has hundreds of villages,
    and a template loop (or a form widget's templates) cost more than the rest of the page."""
    chosen = "" if selected is None else str(selected)
    # Safe: every value and label goes through html.escape.
    return mark_safe(
        "".join(
            f'<option value="{html.escape(str(value))}"'
            f"{' selected' if str(value) == chosen else ''}>{html.escape(str(label))}</option>"
            for value, label in choices
        )
    )


def _label_options(selected: Any, labels: list[str]) -> str:
    """The <option>s of a value-list filter; a chosen label no longer in the year's list (an
    older household's cause, say) stays offered, so the form shows what was asked."""
    choices = [(label, label) for label in labels]
    if selected and selected not in labels:
        choices.append((selected, selected))
    return _options(selected, choices)


def _region_choices(
    user: User, village_id: Any
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The 行政村 in the user's scope and the 村民小组 of the chosen one (of the user's own village
    for a village cadre), in one query. No groups until a village is chosen: a county has
    hundreds, a list no one can pick from on a phone."""
    scope = roles.region_scope(user)
    wanted = Q(level=Region.Level.VILLAGE)
    own_village = user.region is not None and user.region.level == Region.Level.VILLAGE
    try:
        chosen = int(village_id)
    except (TypeError, ValueError):
        chosen = None
    if chosen is not None and 0 < chosen <= MAX_ID:  # a database id: bigger ones would not bind
        wanted |= Q(level=Region.Level.GROUP, parent_id=chosen)
    elif own_village:
        wanted |= Q(level=Region.Level.GROUP)
    villages: list[tuple[int, str]] = []
    groups: list[tuple[int, str]] = []
    for pk, name, level in scope.filter(wanted).order_by("code").values_list("pk", "name", "level"):
        (villages if level == Region.Level.VILLAGE else groups).append((pk, name))
    return villages, groups


@login_required
def group_options_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The <option>s of the 村民小组 select for the chosen 行政村 (htmx, on change)."""
    _require_case_access(request)
    village = request.GET.get("village")
    choices = _region_choices(request.user, village)[1]
    label = _("全部") if choices or not village else _("该村没有村民小组")
    return HttpResponse(
        format_html('<option value="">{}</option>', label) + _options(None, choices)
    )


SORT_CHOICES = (
    ("number", gettext_lazy("户编号")),
    ("-updated", gettext_lazy("最近修改")),
    ("head", gettext_lazy("户主姓名")),
    ("-persons", gettext_lazy("人数（多到少）")),
    ("status", gettext_lazy("状态")),
    ("cause", gettext_lazy("致贫原因")),
    ("-year", gettext_lazy("识别年度（新到旧）")),
)


@login_required
def household_detail(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    _require_case_access(request)
    household, members = selectors.household_page_get_for_user(
        user=request.user, household_id=household_id
    )
    tab = request.GET.get("tab", "basic")
    if tab not in dict(TABS):
        tab = "basic"
    today = timezone.localdate()
    context: dict[str, object] = {
        "household": household,
        "tabs": TABS,
        "tab": tab,
        "bank_account": shown(request.user, household.bank_account),
        "can_write": roles.can_write_households(request.user),
        "can_view_sensitive": roles.can_view_sensitive(request.user),
    }
    _detail_extras(request, household, context, members=members)
    if tab in ("basic", "members"):
        for member in members:
            # Display values for the template, attached to the instances it loops over.
            member.id_shown = shown(request.user, member.id_number)  # type: ignore[attr-defined]  # for the template
            member.health_shown = shown_health(request.user, member.health)  # type: ignore[attr-defined]  # for the template
            member.age = member.age_on(today)  # type: ignore[attr-defined]  # for the template
        context["members"] = members
        if roles.can_view_sensitive(request.user):
            access_log_record(
                user=request.user,
                action="view_sensitive",
                target="household",
                object_id=household.pk,
                fields=["id_number", "bank_account", "health"],
                detail={"via": "page", "tab": tab},
                request=request,
            )
    if tab == "income":
        incomes = list(household.incomes.order_by("-year"))
        # INCOME_FIELDS are concrete fields (get_field may also return relations, in general).
        income_fields = [
            cast("Field[Any, Any]", HouseholdIncome._meta.get_field(name)) for name in INCOME_FIELDS
        ]
        persons = len(standards.living_members(members))
        rows = []
        for income in incomes:
            try:
                line = standards.poverty_line(
                    year=income.year,
                    standard=household.identification_standard,
                    region=household.village,
                )
                line_error = ""
            except standards.PovertyLineMissing as missing:
                line, line_error = None, str(missing)
            per_capita = standards.per_capita_net(income, persons=persons)
            rows.append(
                {
                    "income": income,
                    "per_capita": per_capita,
                    "line": line,
                    "items": [
                        (field.verbose_name, getattr(income, field.name)) for field in income_fields
                    ],
                    "line_error": line_error,
                    "above": per_capita is not None and line is not None and per_capita > line,
                }
            )
        context.update(incomes=rows, persons=persons)
    if tab == "assurance":
        context["checks"] = standards.evaluate_two_assurances(household, members, on=today)
    if tab == "status":
        context["events"] = selectors.household_events(household)
    if tab == "history":
        history = selectors.household_change_history(household)
        for entry in history:
            for change in entry["changes"]:
                if change["field"] in MASKED_HISTORY_FIELDS:
                    change["old"] = shown(request.user, change["old"])
                    change["new"] = shown(request.user, change["new"])
                elif change["field"] in HEALTH_HISTORY_FIELDS:
                    change["old"] = shown_health(request.user, change["old"])
                    change["new"] = shown_health(request.user, change["new"])
        context["history"] = history
    if tab == "conditions":
        context["condition_fields"] = [
            (field.verbose_name, getattr(household, field.name))
            for field in household._meta.fields
            if field.name in CONDITION_FIELDS
        ]
    return render(request, "households/household_detail.html", context)


@login_required
def household_assistance_badge(
    request: AuthenticatedHttpRequest, household_id: int
) -> HttpResponse:
    """The warning count on the household page's 帮扶 tab, loaded by htmx after the page: the
    assessment evaluates every matching rule (a few queries of its own), and the page itself
    must not wait for it. The count is the assistance app's (`detail_tabs`)."""
    _require_case_access(request)
    household, members = selectors.household_page_get_for_user(
        user=request.user, household_id=household_id
    )
    warnings = detail_tabs.tab_warnings(
        "assistance", household, on=timezone.localdate(), members=members
    )
    return render(
        request, "households/partials/assistance_badge.html", {"assistance_warnings": warnings}
    )


MASKED_HISTORY_FIELDS = {"id_number", "bank_account"}
HEALTH_HISTORY_FIELDS = {"health", "illness_name", "disability_certificate", "disability_grade"}
# The conditions tab shows the form's sections after 基本情况 (生产条件, 生活条件, 两不愁), in the
# form's order: one list of fields, kept in households.forms.
CONDITION_FIELDS = tuple(field for _title, fields in HOUSEHOLD_SECTIONS[1:] for field in fields)


# --- cadre pages: create and edit, members, procedures, to-do list, data quality -------------

from django.contrib import messages  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.http import Http404, QueryDict  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.http import url_has_allowed_host_and_scheme  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from households import forms as household_forms  # noqa: E402
from households import quality, services, workflows  # noqa: E402
from households.models import (  # noqa: E402
    CaseWorkflow,
    DataProblem,
    Household,
    PublicNotice,
)
from povertyapp import jobs  # noqa: E402


def _require_writer(request: AuthenticatedHttpRequest) -> None:
    _require_case_access(request)
    if not roles.can_write_households(request.user):
        raise PermissionDenied(_("您的角色只能查看，不能修改农户信息。"))


def _apply_errors(
    error: ValidationError,
    form: Any,
    formset: Any = None,
    extra_forms: tuple[Any, ...] = (),
    row_forms: list[int] | None = None,
) -> None:
    """Put a service's errors beside the fields they name: `members.2.id_number` goes to the
    formset's third submitted row, `members` to the formset, anything else to the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, errors in error.error_dict.items():
        if key.startswith("members.") and formset is not None:
            _, index, *rest = key.split(".")
            position = int(index)
            if row_forms is not None and position < len(row_forms):
                position = row_forms[position]
            member_form = formset.forms[position] if position < len(formset.forms) else None
            field = rest[0] if rest else None
            if member_form is None:
                formset.add_non_form_error(errors)
            elif field in member_form.fields:
                for item in errors:
                    member_form.add_error(field, item)
            else:
                for item in errors:
                    member_form.add_error(None, item)
        elif key == "members" and formset is not None:
            formset.add_non_form_error(errors)
        else:
            target = next((f for f in (form, *extra_forms) if key in f.fields), None)
            for item in errors:
                if target is not None:
                    target.add_error(key, item)
                else:
                    form.add_error(None, item)


def _quality_messages(request: HttpRequest, household: Household) -> None:
    findings, completeness = quality.check_household(household)
    if findings:
        messages.warning(
            request,
            _("已保存。数据质量提示%(count)d条（信息录入率%(rate)s%%）：%(first)s")
            % {
                "count": len(findings),
                "rate": completeness,
                "first": "；".join(f.message for f in findings[:3]),
            },
        )


def _form_context(
    request: HttpRequest, form: Any, formset: Any, join_form: Any, **extra: Any
) -> dict[str, Any]:
    return {
        "form": form,
        "formset": formset,
        "join_form": join_form,
        "empty_member": formset.empty_form,
        **extra,
    }


@login_required
def household_create_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_writer(request)
    lists = household_forms.lists_for_user(request.user)
    if request.method == "POST":
        form = household_forms.HouseholdForm(request.POST, user=request.user, lists=lists)
        formset = household_forms.MemberFormSet(request.POST, prefix="members", lists=lists)
        join_form = household_forms.JoinReasonForm(request.POST, lists=lists)
        if form.is_valid() & formset.is_valid() & join_form.is_valid():
            rows = [member_form.service_row() for member_form in formset.forms]
            try:
                household = services.household_create(
                    actor=request.user,
                    data=form.service_data(),
                    members=rows,
                )
            except ValidationError as error:
                _apply_errors(error, form, formset)
            else:
                messages.success(
                    request, _("农户%(number)s已建档。") % {"number": household.number}
                )
                _quality_messages(request, household)
                return redirect("households:detail", household.pk)
    else:
        initial = {}
        if request.user.region and request.user.region.level == Region.Level.VILLAGE:
            initial["village"] = request.user.region.pk
        form = household_forms.HouseholdForm(initial=initial, user=request.user, lists=lists)
        formset = household_forms.MemberFormSet(
            prefix="members", lists=lists, initial=[{"relation": "户主", "id_type": "居民身份证"}]
        )
        join_form = household_forms.JoinReasonForm(lists=lists)
    return render(
        request,
        "households/household_form.html",
        _form_context(request, form, formset, join_form, creating=True),
    )


@login_required
def household_edit_view(request: AuthenticatedHttpRequest, household_id: int) -> HttpResponse:
    _require_writer(request)
    household = selectors.household_get_for_user(
        user=request.user, household_id=household_id, for_write=True
    )
    lists = household_forms.lists_for_user(request.user)
    active = list(household.members.filter(is_active=True).order_by("id"))
    conflict: list[dict[str, Any]] = []
    if request.method == "POST":
        # Bound with what was shown as initial: a stored value no longer offered by its select
        # stays a choice (povertyapp.forms), and the service says what is wrong with it.
        form = household_forms.HouseholdForm(
            request.POST,
            initial=household_forms.household_initial(household),
            user=request.user,
            lists=lists,
        )
        formset = household_forms.MemberFormSet(
            request.POST,
            prefix="members",
            lists=lists,
            initial=[household_forms.member_initial(member) for member in active],
        )
        join_form = household_forms.JoinReasonForm(request.POST, lists=lists)
        if form.is_valid() & formset.is_valid() & join_form.is_valid():
            rows = [member_form.service_row() for member_form in formset.forms]
            try:
                saved = services.household_update_with_members(
                    actor=request.user,
                    household=household,
                    data=form.service_data(),
                    members=rows,
                    expected_version=form.cleaned_data.get("version"),
                    join_reason=join_form.cleaned_data.get("join_reason") or "",
                )
            except services.ConflictError as error:
                conflict = error.changes
                form, formset = _merge_conflict(
                    request, household, form, formset, lists, error.changes
                )
            except ValidationError as error:
                _apply_errors(error, form, formset, extra_forms=(join_form,))
            else:
                messages.success(request, _("已保存。"))
                _quality_messages(request, saved)
                return redirect("households:detail", saved.pk)
    else:
        form = household_forms.HouseholdForm(
            initial=household_forms.household_initial(household), user=request.user, lists=lists
        )
        formset = household_forms.MemberFormSet(
            prefix="members",
            lists=lists,
            initial=[household_forms.member_initial(member) for member in active],
        )
        join_form = household_forms.JoinReasonForm(lists=lists)
    return render(
        request,
        "households/household_form.html",
        _form_context(
            request,
            form,
            formset,
            join_form,
            household=household,
            conflict=conflict,
            creating=False,
        ),
    )


def _merge_conflict(
    request: AuthenticatedHttpRequest,
    household: Household,
    form: Any,
    formset: Any,
    lists: dict[str, list[str]],
    changes: list[dict[str, Any]],
) -> tuple[Any, Any]:
    """Someone saved first. Keep this user's input; where they left a field as it was and the
    other person changed it, take the other person's value, so that nothing of either is lost.
    The form then carries the current version: the user reviews and saves again."""
    current = Household.objects.get(pk=household.pk)
    data: QueryDict = request.POST.copy()
    for change in changes:
        name = change["field"]
        if not name or name not in form.fields:
            continue
        mine = form.cleaned_data.get(name)
        change["mine"] = mine.name if hasattr(mine, "name") else mine
        change["both"] = not household_forms.same_value(mine, change["old"])
        if not change["both"]:
            value = household_forms.widget_value(form, name, change["new"])
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
    data["version"] = str(current.version)
    merged = household_forms.HouseholdForm(data, user=request.user, lists=lists)
    merged.is_valid()
    merged_formset = household_forms.MemberFormSet(data, prefix="members", lists=lists)
    merged_formset.is_valid()
    for change in changes:
        if change.get("both"):
            merged.add_error(
                change["field"],
                ValidationError(
                    _("%(who)s已改为“%(new)s”，您填写的是“%(mine)s”，请确认后再保存。"),
                    code="conflict_field",
                    params={
                        "who": change["who"] or _("他人"),
                        "new": change["new"],
                        "mine": change.get("mine"),
                    },
                ),
            )
    merged.add_error(
        None,
        ValidationError(
            _(
                "保存冲突：%(who)s在您打开之后修改了本户（见下表）。您的填写已保留，对方未与您冲突的修改"
                "已合并到表单中；请核对后再次保存。"
            ),
            code="conflict",
            params={"who": changes[0]["who"] if changes else _("他人")},
        ),
    )
    return merged, merged_formset


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


# --- procedures --------------------------------------------------------------------------


def _workflow_for_user(request: AuthenticatedHttpRequest, workflow_id: int) -> CaseWorkflow:
    """The scoped access path of a case: through its household's scope (404 outside)."""
    _require_case_access(request)
    workflow = (
        CaseWorkflow.objects.filter(roles.household_scope_q(request.user), pk=workflow_id)
        .select_related(
            "household", "household__village", "household__village__parent", "started_by"
        )
        .first()
    )
    if workflow is None:
        raise Http404(_("未找到该案件，或您无权查看。"))
    return workflow


@login_required
@require_POST
def workflow_start_view(
    request: AuthenticatedHttpRequest, household_id: int, kind: str
) -> HttpResponse:
    _require_writer(request)
    household = selectors.household_get_for_user(
        user=request.user, household_id=household_id, for_write=True
    )
    if kind not in workflows.PROCEDURES:
        raise Http404(_("没有该程序。"))
    form = household_forms.StartForm(request.POST, request.FILES, kind=kind)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))  # ErrorList yields the message strings
        return redirect(reverse("households:detail", args=[household.pk]) + "?tab=status")
    try:
        workflow = services.workflow_start(
            actor=request.user,
            household=household,
            kind=kind,
            opinion=form.cleaned_data["opinion"],
            evidence=form.cleaned_data["evidence"],
            effective_date=form.cleaned_data["effective_date"],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(reverse("households:detail", args=[household.pk]) + "?tab=status")
    messages.success(request, _("已发起%(kind)s。") % {"kind": workflow.get_kind_display()})
    return redirect("households:workflow", workflow.pk)


@login_required
def workflow_detail_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    workflow = _workflow_for_user(request, workflow_id)
    return _render_workflow(request, workflow)


def _return_choices(workflow: CaseWorkflow) -> list[tuple[str, Any]]:
    return [(step.key, step.label) for step in workflows.return_targets(workflow)]


def _render_workflow(
    request: AuthenticatedHttpRequest, workflow: CaseWorkflow, **forms_: Any
) -> HttpResponse:
    definition = workflows.procedure(workflow.kind)
    step = workflows.current_step(workflow)
    done = {record.step for record in workflow.steps.all() if record.decision == "done"}
    position = (
        definition.index(workflow.step) if workflow.state == "open" else len(definition.steps)
    )
    notice = workflow.notices.filter(step=workflow.step, is_open=True).first()
    today = household_forms.today()
    can_act = workflows.can_act(request.user, workflow)
    can_object = (
        notice is not None
        and (roles.can_write_households(request.user) or roles.can_review(request.user))
        and roles.region_in_scope(request.user, workflow.household.village)
    )
    return_choices = _return_choices(workflow)
    context = {
        "workflow": workflow,
        "household": workflow.household,
        "definition": definition,
        "step": step,
        "position": position,
        "done": done,
        "step_level": LEVEL_NAMES[step.level],
        "stages": [
            (index, item, LEVEL_NAMES[item.level]) for index, item in enumerate(definition.steps)
        ],
        "records": workflow.steps.select_related("actor").order_by("created_at", "id"),
        "notice": notice,
        "notices": workflow.notices.prefetch_related("objections"),
        "can_act": can_act,
        "can_object": can_object,
        "can_return": can_act and bool(return_choices),
        "can_withdraw": workflows.can_withdraw(request.user, workflow),
        # The batch this case is decided with (a helper sees paired households, not batches).
        "batch_link": workflow.batch_id is not None and request.user.role != User.Role.HELPER,
        "clock": workflows.case_clocks([workflow], today).get(workflow.pk),
        "notice_ready": notice is not None and today > notice.end_date,
        "overdue": workflows.is_overdue(workflow, today),
        "is_notice": step.type == workflows.NOTICE,
        "step_form": forms_.get("step_form")
        or household_forms.StepForm(initial={"acted_on": today}),
        "return_form": forms_.get("return_form")
        or household_forms.ReturnForm(
            targets=return_choices, initial={"to_step": step.returns_to or ""}
        ),
        "withdraw_form": forms_.get("withdraw_form") or household_forms.WithdrawForm(),
        "notice_form": forms_.get("notice_form")
        or household_forms.NoticeForm(
            initial={
                "start_date": today,
                "days": step.notice_days,
                "phone": request.user.phone or "",
            }
        ),
        "objection_form": forms_.get("objection_form")
        or household_forms.ObjectionForm(initial={"received_on": today}),
    }
    # A refusal that names no field (not your step, the case moved on, …) is shown once at the
    # top: the section of the form that was sent may not be shown to this user at all.
    context["action_errors"] = [
        error for form in forms_.values() for error in form.non_field_errors()
    ]
    status = 400 if forms_ else 200
    return render(request, "households/workflow_detail.html", context, status=status)


LEVEL_NAMES = workflows.LEVEL_LABELS


def _workflow_action(
    request: AuthenticatedHttpRequest,
    workflow_id: int,
    form_class: Any,
    form_key: str,
    action: Any,
    success: str,
    form_kwargs: Any = None,
) -> HttpResponse:
    workflow = _workflow_for_user(request, workflow_id)
    form = form_class(request.POST, request.FILES, **(form_kwargs(workflow) if form_kwargs else {}))
    if form.is_valid():
        try:
            action(workflow, form.cleaned_data, request.POST.get("step", ""))
        except ValidationError as error:
            _apply_errors(error, form)
        else:
            messages.success(request, success)
            return redirect("households:workflow", workflow.pk)
    workflow.refresh_from_db()
    return _render_workflow(request, workflow, **{form_key: form})


@login_required
@require_POST
def workflow_complete_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request,
        workflow_id,
        household_forms.StepForm,
        "step_form",
        lambda workflow, data, step: services.workflow_step_complete(
            actor=request.user,
            workflow=workflow,
            expected_step=step,
            opinion=data["opinion"],
            evidence=data["evidence"],
            attendance=data["attendance"],
            acted_on=data["acted_on"],
        ),
        _("已办理。"),
    )


@login_required
@require_POST
def workflow_return_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request,
        workflow_id,
        household_forms.ReturnForm,
        "return_form",
        lambda workflow, data, step: services.workflow_return(
            actor=request.user,
            workflow=workflow,
            expected_step=step,
            opinion=data["opinion"],
            to_step=data["to_step"] or None,
        ),
        _("已退回。"),
        form_kwargs=lambda workflow: {"targets": _return_choices(workflow)},
    )


@login_required
@require_POST
def workflow_withdraw_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request,
        workflow_id,
        household_forms.WithdrawForm,
        "withdraw_form",
        lambda workflow, data, step: services.workflow_withdraw(
            actor=request.user,
            workflow=workflow,
            reason=data["reason"],
            expected_step=step or None,
        ),
        _("案件已撤回。"),
    )


@login_required
@require_POST
def notice_start_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    return _workflow_action(
        request,
        workflow_id,
        household_forms.NoticeForm,
        "notice_form",
        lambda workflow, data, step: services.notice_start(
            actor=request.user,
            workflow=workflow,
            expected_step=step,
            start_date=data["start_date"],
            days=data["days"],
            phone=data["phone"],
            place=data["place"],
        ),
        _("公示已发布，可打印公示表张贴。"),
    )


@login_required
@require_POST
def notice_objection_view(request: AuthenticatedHttpRequest, workflow_id: int) -> HttpResponse:
    def record(workflow: CaseWorkflow, data: dict[str, Any], step: str) -> None:
        notice = workflow.notices.filter(is_open=True).first()
        if notice is None:
            raise ValidationError(_("当前没有进行中的公示。"), code="notice_closed")
        services.notice_objection_record(
            actor=request.user,
            notice=notice,
            content=data["content"],
            objector=data["objector"],
            received_on=data["received_on"],
        )

    return _workflow_action(
        request,
        workflow_id,
        household_forms.ObjectionForm,
        "objection_form",
        record,
        _("异议已登记，案件已退回。"),
    )


@login_required
def notice_print_view(request: AuthenticatedHttpRequest, notice_id: int) -> HttpResponse:
    """The printable A4 公示: every case of the village published at the same step on the same
    day, IDs masked whatever the viewer's role (it is posted on a wall)."""
    _require_case_access(request)
    notice = (
        PublicNotice.objects.filter(
            workflow__in=CaseWorkflow.objects.filter(roles.household_scope_q(request.user)),
            pk=notice_id,
        )
        .select_related("workflow", "workflow__household__village__parent")
        .first()
    )
    if notice is None:
        raise Http404(_("未找到该公示，或您无权查看。"))
    village = notice.workflow.household.village
    batch = list(
        PublicNotice.objects.filter(
            workflow__household__village=village,
            workflow__kind=notice.workflow.kind,
            step=notice.step,
            start_date=notice.start_date,
        )
        .select_related("workflow__household")
        .order_by("workflow__household__number")
    )
    return notice_sheet(request, notice, village, batch)


def notice_sheet(
    request: AuthenticatedHttpRequest,
    notice: PublicNotice,
    village: Region,
    batch: list[PublicNotice],
    back_url: str = "",
) -> HttpResponse:
    """The printable A4 公示 listing the households of `batch` (notices of one step and start
    date), IDs masked, signed per the step; the print is written to the access log."""
    households = [item.workflow.household for item in batch]
    heads = {
        member.household_id: member
        for member in selectors.Member.objects.filter(
            household__in=households, is_active=True, relation="户主"
        )
    }
    sizes = dict(
        selectors.Member.objects.filter(household__in=households, is_active=True)
        .values_list("household_id")
        .annotate(n=Count("id"))
    )
    rows = []
    for index, item in enumerate(batch, start=1):
        household = item.workflow.household
        head = heads.get(household.pk)
        rows.append(
            {
                "index": index,
                "number": household.number,
                "head": head.name if head else "—",
                "id_masked": mask(head.id_number) if head else "",
                "persons": sizes.get(household.pk, 0),
                "cause": household.main_cause,
                "attribute": household.poverty_attribute,
                "group": household.group,
            }
        )
    definition = workflows.procedure(notice.workflow.kind)
    step = definition.step(notice.step)
    township = village.parent
    # Who signs the sheet and what it says follow the step: the village posts its own 公示,
    # the second 公示 of 识别 follows the township's review and is signed by the township.
    signer = (
        f"{township.name}{_('人民政府')}"
        if step.level == workflows.TOWNSHIP and township is not None
        else f"{village.name}{_('村民委员会')}"
    )
    intro = str(step.notice_intro) % {
        "days": notice.days,
        "start": date_format(notice.start_date, "Y年n月j日"),
        "end": date_format(notice.end_date, "Y年n月j日"),
        "township": township.name if township is not None else "",
    }
    # The notice shows the heads' (masked) ID numbers of every household of the batch: who
    # printed which 公示 is written to the access log like the other sensitive views.
    access_log_record(
        user=request.user,
        action="print",
        target="public_notice",
        object_id=notice.pk,
        fields=["name", "id_number"],
        detail={
            "village": village.code,
            "step": notice.step,
            "start_date": notice.start_date.isoformat(),
            "households": [row["number"] for row in rows],
        },
        request=request,
    )
    return render(
        request,
        "households/notice_print.html",
        {
            "notice": notice,
            "village": village,
            "rows": rows,
            "title": f"{village.name}{step.label}",
            "step_label": step.label,
            "definition": definition,
            "signer": signer,
            "intro": intro,
            "today": household_forms.today(),
            "back_url": back_url or reverse("households:workflow", args=[notice.workflow_id]),
        },
    )


@login_required
def todo_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """待办事项: what waits for me (overdue first), my cases waiting on others, and for the
    township and county every overdue case in their area, each with its time left."""
    _require_case_access(request)
    today = household_forms.today()
    items = list(workflows.todo_list(request.user, today)[:500])
    waiting = list(workflows.waiting_list(request.user, today)[:500])
    overdue_cases = list(workflows.overdue_list(request.user, today)[:500])
    clocks = workflows.case_clocks([*items, *waiting, *overdue_cases], today)
    # Display values for the template, attached to the instances it loops over.
    for item in [*items, *waiting, *overdue_cases]:
        step = workflows.current_step(item)
        item.step_label = step.label  # type: ignore[attr-defined]  # for the template
        item.step_level = workflows.LEVEL_LABELS[step.level]  # type: ignore[attr-defined]  # for the template
        item.is_notice = step.type == workflows.NOTICE  # type: ignore[attr-defined]  # for the template
        clock = clocks.get(item.pk)
        item.clock = clock  # type: ignore[attr-defined]  # for the template
        item.overdue = bool(clock and clock.overdue)  # type: ignore[attr-defined]  # for the template
        item.notice_due = bool(  # type: ignore[attr-defined]  # for the template
            clock and clock.notice_end and today > clock.notice_end
        )
    overdue_count = len([item for item in items if getattr(item, "overdue", False)])
    problems = 0
    if request.user.role == "village_cadre":
        problems = quality.problem_list(request.user).filter(state=DataProblem.State.OPEN).count()
    elif request.user.role == "township_reviewer":
        problems = (
            quality.problem_list(request.user).filter(state=DataProblem.State.EXPLAINED).count()
        )
    # The batches with a member waiting for my level: one action there does them all.
    batches = list(
        selectors.case_batch_list(user=request.user).filter(
            state="open", pk__in=workflows.todo_list(request.user, today).values("batch")
        )[:100]
    )
    return render(
        request,
        "households/todo.html",
        {
            "batches": batches,
            "items": items,
            "waiting": waiting,
            "overdue_cases": overdue_cases,
            "supervises": request.user.role in ("township_reviewer", "county_officer"),
            "today": today,
            "problems": problems,
            "overdue_count": overdue_count,
            "level": workflows.LEVEL_LABELS.get(workflows.user_level(request.user) or "", ""),
        },
    )


# --- data quality --------------------------------------------------------------------------


@login_required
def quality_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    user = request.user
    problems = quality.problem_list(user)
    villages = list(roles.region_scope(user).filter(level=Region.Level.VILLAGE).order_by("code"))
    state = request.GET.get("state", "active")
    village = request.GET.get("village", "")
    rule = request.GET.get("rule", "")
    if state == "active":
        problems = problems.filter(state__in=[DataProblem.State.OPEN, DataProblem.State.EXPLAINED])
    elif state in DataProblem.State.values:
        problems = problems.filter(state=state)
    if village.isdigit():
        problems = problems.filter(village_id=int(village))
    if rule in quality.RULES_BY_CODE:
        problems = problems.filter(rule=rule)
    page = Paginator(problems, 50).get_page(request.GET.get("page"))
    for problem in page.object_list:
        definition = quality.RULES_BY_CODE.get(problem.rule)
        problem.rule_label = definition.label if definition else problem.rule
    latest = quality.latest_result(user.region) if user.region is not None else None
    counts = quality.open_problem_counts([v.pk for v in villages])
    summary = []
    if latest is not None:
        codes = {v.code for v in villages}
        summary = [row for row in latest.result.get("villages", []) if row["code"] in codes]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "households/quality.html",
        {
            "page": page,
            "villages": villages,
            "state": state,
            "village": village,
            "rule": rule,
            "states": DataProblem.State.choices,
            "rules": quality.RULES_UNIQUE,
            "latest": latest,
            "summary": summary,
            "counts": counts,
            "by_rule": quality.open_problem_counts_by_rule(user),
            "query": query.urlencode(),
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


def _detail_extras(
    request: AuthenticatedHttpRequest,
    household: Any,
    context: dict[str, Any],
    *,
    members: list[Any],
) -> None:
    """What the cadre pages add to the household page: data-quality warnings with the
    信息录入率 (over the members the page has loaded), the open procedure and what may be
    started."""
    findings, completeness = quality.check_household(household, members=members)
    open_workflow = household.workflows.filter(state=CaseWorkflow.State.OPEN).first()
    context.update(
        findings=findings,
        completeness=completeness,
        open_workflow=open_workflow,
        workflows=household.workflows.select_related("started_by")
        .prefetch_related("steps__actor", "notices__objections")
        .order_by("-started_at")
        if context["tab"] == "status"
        else [],
        can_start_identification=open_workflow is None
        and request.user.role == "village_cadre"
        and household.status in workflows.IDENTIFICATION.from_statuses,
        can_start_exit=open_workflow is None
        and request.user.role == "village_cadre"
        and household.status in workflows.EXIT.from_statuses,
        income_years=[timezone.localdate().year - offset for offset in (1, 0, 2)],
        start_form=household_forms.StartForm(
            initial={
                "opinion": _("农户提出申请")
                if household.status in workflows.IDENTIFICATION.from_statuses
                else "",
                "effective_date": timezone.localdate(),
            },
            kind=workflows.IDENTIFICATION.kind
            if household.status in workflows.IDENTIFICATION.from_statuses
            else workflows.EXIT.kind,
        ),
    )
    if open_workflow is not None:
        open_workflow.step_label = workflows.current_step(open_workflow).label
        context["open_clock"] = workflows.case_clocks([open_workflow]).get(open_workflow.pk)


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


# --- the home page's 工作台 panels (registered with `povertyapp.desk` by `HouseholdsConfig`) ---


def desk_counts(user: User) -> dict[str, Any]:
    """管辖范围内农户, 待我办理 and the overdue cases (issue 13): my steps past their deadline,
    or, for a township or county, the overdue cases it supervises."""
    todo = workflows.todo_list(user)
    return {
        "household_count": selectors.household_list(user=user).count(),
        "todo_count": todo.count(),
        "overdue_count": (
            workflows.overdue_list(user).count()
            if user.role in (user.Role.TOWNSHIP_REVIEWER, user.Role.COUNTY_OFFICER)
            else todo.filter(deadline__lt=timezone.localdate()).count()
        ),
    }


def desk_recent(user: User) -> dict[str, Any]:
    """The eight households of the user's scope updated last."""
    return {"recent": selectors.household_list(user=user).order_by("-updated_at")[:8]}
