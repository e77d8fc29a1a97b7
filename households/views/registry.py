"""The registry's pages: the household list (with its filters) and the household page with its
tabs, creating and editing a household with its members (the edit merges a concurrent save)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Field
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households import (
    detail_tabs,
    quality,
    selectors,
    sensitive_reads,
    services,
    standards,
    value_lists,
    workflows,
)
from households import forms as household_forms
from households.filters import HouseholdFilter
from households.forms import HOUSEHOLD_SECTIONS
from households.models import CaseWorkflow, DataProblem, Household, HouseholdIncome, ValueList
from households.national import marks
from households.national.forms import NationalMarkForm
from households.services import INCOME_FIELDS
from households.views.common import (
    _apply_errors,
    _quality_messages,
    _require_case_access,
    _require_writer,
)
from povertyapp import ratelimits, roles, search_terms
from povertyapp.conflicts import shown_changes
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region
from povertyapp.privacy import mask, shown, shown_health
from povertyapp.regions import cascade as region_cascade
from povertyapp.regions import options_html

PAGE_SIZES = (20, 50, 100)
TABS = (
    ("basic", gettext_lazy("基本信息")),
    ("members", gettext_lazy("家庭成员")),
    ("conditions", gettext_lazy("生产生活条件")),
    ("income", gettext_lazy("收入情况")),
    ("assurance", gettext_lazy("两不愁三保障")),
    ("status", gettext_lazy("状态变动")),
    ("history", gettext_lazy("修改记录")),
    ("photos", gettext_lazy("照片")),
)


# The list's free-text search (names, ID numbers, 户编号) never travels in its URL: the form
# posts it, and the list is shown at `?qt=<token>` (povertyapp/search_terms.py). Names too:
# a name is personal information, and one rule is simpler to keep than a test of each term.
SEARCH_TERMS = ("q",)


# The list's filters in the phone's drawer (household_list.html): all but the search box and
# the page size.
DRAWER_FILTERS = (
    "county",
    "township",
    "village",
    "group",
    "status",
    "cause",
    "attribute",
    "year",
    "national",
)


@login_required
def household_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_case_access(request)
    if getattr(request, "search_token", None) is None and any(
        name in request.GET for name in SEARCH_TERMS
    ):
        # An old bookmark or a typed ?q=: moved into a token, never run from the URL.
        return search_terms.redirect_with_terms(
            request, {name: request.GET.getlist(name) for name in SEARCH_TERMS}
        )
    params = request.GET  # with the token's terms (povertyapp.search_terms)
    if any(params.get(name, "").strip() for name in SEARCH_TERMS) and ratelimits.exceeded(
        request, "search"
    ):
        return ratelimits.refused(request, "search")
    scoped = selectors.household_list_page_scope(
        user=request.user, ordering=params.get("ordering", "")
    )
    household_filter = HouseholdFilter(params or None, queryset=scoped, user=request.user)
    try:
        page_size = int(params.get("page_size", 20))
    except ValueError:
        page_size = 20
    page_size = page_size if page_size in PAGE_SIZES else 20
    # The counts on top come from the same scope and filters; their sum is the paginator's
    # count, so the page costs a fixed number of queries. A filter the kept counts cannot
    # answer is counted up to the cap (LIST_COUNT_CAP): past it the page says "more
    # than N", pages through the first N (a name search: the first N matches it found, in
    # 户编号 order) and shows no status figures (those of the first matches found would not
    # be the whole search's; the 状态 filter narrows it instead).
    counts = selectors.household_list_counts(
        user=request.user,
        household_filter=household_filter,
        cap=settings.LIST_COUNT_CAP,
    )
    ids: Any
    if counts.ids is not None and not params.get("ordering"):
        # A name search: its count read the matches' ids and 户编号 already (all of them
        # under the cap, the first N found past it), so the page is cut from them, in the
        # list's order, instead of reading the matches again (or building their statement).
        ids = counts.ids
    else:
        queryset = household_filter.qs if household_filter.is_bound else scoped
        # The id last breaks ties, so that no household shows on two pages or on none.
        queryset = queryset.order_by(*queryset.query.order_by, "pk")
        # Pages are cut on the ids alone, then the page's rows read by id: PostgreSQL
        # evaluates the select list (head, person count) for every row an OFFSET skips, so
        # page 50 of a county computed 1,000 rows' subqueries to show 20.
        ids = queryset.values_list("pk", flat=True)
    paginator = Paginator(ids, page_size)
    paginator.__dict__["count"] = counts.total
    page = paginator.get_page(params.get("page"))
    # The line of warnings: what each app warns of (procedure overdue, work due, monitoring
    # risk; `detail_tabs.list_warnings`), read with the page's rows in one statement.
    page.object_list = selectors.household_list_rows(
        list(page.object_list), warnings=detail_tabs.list_warnings(on=timezone.localdate())
    )
    # Display values computed once per page (get_status_display would rebuild the choices per
    # row); the detail links share one prefix (households/urls.py: "" and "<id>/").
    status_labels = dict(Household.Status.choices)
    list_url = reverse("households:list")
    for row in page.object_list:
        row["head_id_shown"] = mask(row["head_id_number"])
        row["status_label"] = status_labels.get(row["status"], row["status"])
        row["url"] = f"{list_url}{row['pk']}/"
        if row["first_problem"]:  # in the reader's language, as on the quality page
            row["first_problem"] = DataProblem(
                message=row["first_problem"], message_source=row.pop("first_problem_source")
            ).message_shown
    filter_choices = value_lists.list_filter_choices(
        user=request.user, year=timezone.localdate().year
    )
    # The 县, 乡镇, 行政村 cascade of the platform (povertyapp/regions.py), with the groups of
    # the chosen village.
    regions = region_cascade(
        request.user,
        {name: household_filter.form[name].value() for name in ("county", "township", "village")},
        groups=True,
    )
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
            "status_options": options_html(
                household_filter.form["status"].value(), Household.Status.choices
            ),
            "national_options": options_html(
                household_filter.form["national"].value(),
                household_filter.filters["national"].extra["choices"],
            ),
            "sort_options": options_html(params.get("ordering"), SORT_CHOICES),
            "page_size_options": options_html(page_size, ((size, size) for size in PAGE_SIZES)),
            # The drawer's summary says how many filters are set; a refused filter opens it.
            "filters_active": sum(
                1
                for name in DRAWER_FILTERS
                if str(household_filter.form[name].value() or "").strip()
            ),
            "filter_errors": any(household_filter.form[name].errors for name in DRAWER_FILTERS),
            "can_write": roles.can_write_households(request.user),
            "status_counts": [
                (label, counts.by_status.get(value, 0), value)
                for value, label in Household.Status.choices
            ],
            "count_capped": counts.capped,
            # Past the cap a name search is narrowed by the full name or a village.
            "name_capped": counts.capped
            and household_filter.is_bound
            and household_filter.is_valid()
            and bool(household_filter.name_searched()),
            "cascade": regions,
            "region_errors": {
                name: household_filter.form[name].errors
                for name in ("county", "township", "village")
            },
            "group_options": options_html(household_filter.form["group"].value(), regions.groups),
        },
    )


def _label_options(selected: Any, labels: list[str]) -> str:
    """The <option>s of a value-list filter; a chosen label no longer in the year's list (an
    older household's cause, say) stays offered, so the form shows what was asked."""
    choices = [(label, label) for label in labels]
    if selected and selected not in labels:
        choices.append((selected, selected))
    return options_html(selected, choices)


@login_required
def group_options_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The <option>s of the 村民小组 select for the chosen 行政村 (htmx, on change)."""
    _require_case_access(request)
    village = request.GET.get("village")
    choices = region_cascade(request.user, {"village": village}, groups=True).groups
    label = _("全部") if choices or not village else _("该村没有村民小组")
    return HttpResponse(
        format_html('<option value="">{}</option>', label) + options_html(None, choices)
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
    if tab == "photos":
        # The field photos of visits and 入户核实 (each app registers its own); the household
        # itself came through the user's scope above, so a user who cannot see it sees none.
        context["photos"] = detail_tabs.household_photos(household)
    # The fields this tab shows in full to the roles that see them: its access-log row names
    # them (`sensitive_reads`).
    shown_fields: list[str] = []
    if tab == "basic":
        context["national_entry"] = marks.household_page_mark(household)
        if roles.can_exchange_with_national_system(request.user):
            context["national_form"] = NationalMarkForm(initial={"entered_on": today})
        shown_fields = sensitive_reads.household_fields(household)
    if tab == "members":
        for member in members:
            # Display values for the template, attached to the instances it loops over.
            member.id_shown = shown(request.user, member.id_number)  # type: ignore[attr-defined]  # for the template
            member.health_shown = shown_health(request.user, member.health)  # type: ignore[attr-defined]  # for the template
            member.age = member.age_on(today)  # type: ignore[attr-defined]  # for the template
        context["members"] = members
        shown_fields = sensitive_reads.member_fields(members)
    if tab == "income":
        incomes = household.income_rows  # type: ignore[attr-defined]  # latest first, read with the household
        # INCOME_FIELDS are concrete fields (get_field may also return relations, in general).
        income_fields = [
            cast("Field[Any, Any]", HouseholdIncome._meta.get_field(name)) for name in INCOME_FIELDS
        ]
        persons = len(standards.living_members(members))
        rows = []
        for income in incomes:
            # Each year's line came with the incomes (`standards.poverty_line_expression`).
            line = income.line_amount
            line_error = (
                str(standards.PovertyLineMissing(income.year, household.identification_standard))
                if line is None
                else ""
            )
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
                else:
                    continue
                if change["old"] or change["new"]:
                    shown_fields.append(
                        "health" if change["field"] in HEALTH_HISTORY_FIELDS else change["field"]
                    )
        context["history"] = history
    if tab == "conditions":
        context["condition_fields"] = [
            (field.verbose_name, getattr(household, field.name))
            for field in household._meta.fields
            if field.name in CONDITION_FIELDS
        ]
    sensitive_reads.record_read(
        request,
        target="household",
        object_id=household.pk,
        fields=shown_fields,
        via="page",
        tab=tab,
    )
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
        user=request.user, household_id=household_id, page_reads=False
    )
    warnings = detail_tabs.tab_warnings(
        "assistance", household, on=timezone.localdate(), members=members
    )
    return render(
        request, "households/partials/assistance_badge.html", {"assistance_warnings": warnings}
    )


MASKED_HISTORY_FIELDS = {"id_number", "bank_account"}
HEALTH_HISTORY_FIELDS = set(sensitive_reads.HEALTH_FIELDS)
# The conditions tab shows the form's sections after 基本情况 (生产条件, 生活条件, 两不愁), in the
# form's order: one list of fields, kept in households.forms.
CONDITION_FIELDS = tuple(field for _title, fields in HOUSEHOLD_SECTIONS[1:] for field in fields)


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
    # The loader's `open_workflow_id` says whether there is one: read only then.
    open_workflow = (
        household.workflows.filter(state=CaseWorkflow.State.OPEN).first()
        if getattr(household, "open_workflow_id", True) is not None
        else None
    )
    can_start_identification = (
        open_workflow is None
        and request.user.role == "village_cadre"
        and household.status in workflows.IDENTIFICATION.from_statuses
    )
    can_start_exit = (
        open_workflow is None
        and request.user.role == "village_cadre"
        and household.status in workflows.EXIT.from_statuses
    )
    context.update(
        findings=findings,
        completeness=completeness,
        open_workflow=open_workflow,
        workflows=household.workflows.select_related("started_by")
        .prefetch_related("steps__actor", "notices__objections")
        .order_by("-started_at")
        if context["tab"] == "status"
        else [],
        can_start_identification=can_start_identification,
        can_start_exit=can_start_exit,
        income_years=[timezone.localdate().year - offset for offset in (1, 0, 2)],
        # Links of the apps above (monitoring's 识别为监测对象, 收入核算).
        page_links=detail_tabs.page_links(household, user=request.user),
        # The form of the procedure the cadre may start (none for anyone else: not built).
        start_form=household_forms.StartForm(
            initial={
                "opinion": _("农户提出申请") if can_start_identification else "",
                "effective_date": timezone.localdate(),
            },
            kind=workflows.IDENTIFICATION.kind if can_start_identification else workflows.EXIT.kind,
        )
        if can_start_identification or can_start_exit
        else None,
    )
    if open_workflow is not None:
        open_workflow.step_label = workflows.current_step(open_workflow).label
        context["open_clock"] = workflows.case_clocks([open_workflow]).get(open_workflow.pk)


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
    return household_create_page(request)


# save(data, members) -> the new household; the default is `services.household_create`.
CreateSave = Callable[[dict[str, Any], list[dict[str, Any]]], Household]


def household_create_page(
    request: AuthenticatedHttpRequest,
    *,
    initial: dict[str, Any] | None = None,
    head_initial: dict[str, Any] | None = None,
    save: CreateSave | None = None,
    saved: Callable[[Household], HttpResponse] | None = None,
    template: str = "households/household_form.html",
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The page that registers a household with its members (新建农户), for `households:create`
    and for the apps above that register a household from their own records (monitoring: a
    待登记 clue) without the registry importing them. The caller has checked the user is a
    writer. `initial` and `head_initial` prefill the household and its first member (户主);
    `save(data, members)` writes (it may do more in the same transaction, and a ValidationError
    it raises is shown on the form, nothing written); `saved(household)` answers after the
    save (default: the household's page); `template` may extend the registry's form and
    `context` adds to it. Answers 409 when `save` reports a conflict (保存冲突)."""
    lists = household_forms.lists_for_user(request.user)
    status = 200
    if request.method == "POST":
        form = household_forms.HouseholdForm(request.POST, user=request.user, lists=lists)
        formset = household_forms.MemberFormSet(request.POST, prefix="members", lists=lists)
        join_form = household_forms.JoinReasonForm(request.POST, lists=lists)
        if form.is_valid() & formset.is_valid() & join_form.is_valid():
            rows = [member_form.service_row() for member_form in formset.forms]
            try:
                if save is None:
                    household = services.household_create(
                        actor=request.user, data=form.service_data(), members=rows
                    )
                else:
                    household = save(form.service_data(), rows)
            except ValidationError as error:
                if isinstance(error, services.ConflictError):
                    status = 409
                _apply_errors(error, form, formset)
            else:
                messages.success(
                    request, _("农户%(number)s已建档。") % {"number": household.number}
                )
                _quality_messages(request, household)
                if saved is not None:
                    return saved(household)
                return redirect("households:detail", household.pk)
    else:
        initial = dict(initial or {})
        if "village" not in initial and (
            request.user.region and request.user.region.level == Region.Level.VILLAGE
        ):
            initial["village"] = request.user.region.pk
        form = household_forms.HouseholdForm(initial=initial, user=request.user, lists=lists)
        formset = household_forms.MemberFormSet(
            prefix="members",
            lists=lists,
            initial=[{"relation": "户主", "id_type": "居民身份证", **(head_initial or {})}],
        )
        join_form = household_forms.JoinReasonForm(lists=lists)
    return render(
        request,
        template,
        _form_context(request, form, formset, join_form, creating=True, **(context or {})),
        status=status,
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
                # The other person's values as this user may see them (logged when in full);
                # the merge takes the stored ones.
                conflict = shown_changes(request, error)
                form, formset = _merge_conflict(
                    request, household, form, formset, lists, error.changes, conflict
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
        # The form holds the bank account and the members' ID numbers and health in full.
        sensitive_reads.record_read(
            request,
            target="household",
            object_id=household.pk,
            fields=sensitive_reads.household_fields(household)
            + sensitive_reads.member_fields(active),
            via="edit",
        )
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
    shown: list[dict[str, Any]],
) -> tuple[Any, Any]:
    """Someone saved first. Keep this user's input; where they left a field as it was and the
    other person changed it, take the other person's value, so that nothing of either is lost.
    The form then carries the current version: the user reviews and saves again. `shown` are
    the changes as the user may see them (`povertyapp.conflicts.shown_changes`): what the
    messages quote, and where this marks what was merged."""
    current = Household.objects.get(pk=household.pk)
    data: QueryDict = request.POST.copy()
    for change, seen in zip(changes, shown, strict=True):
        name = change["field"]
        if not name or name not in form.fields:
            continue
        mine = form.cleaned_data.get(name)
        seen["mine"] = mine.name if hasattr(mine, "name") else mine
        seen["both"] = not household_forms.same_value(mine, change["old"])
        if not seen["both"]:
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
    for seen in shown:
        if seen.get("both"):
            merged.add_error(
                seen["field"],
                ValidationError(
                    _("%(who)s已改为“%(new)s”，您填写的是“%(mine)s”，请确认后再保存。"),
                    code="conflict_field",
                    params={
                        "who": seen["who"] or _("他人"),
                        "new": seen["new"],
                        "mine": seen.get("mine"),
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
