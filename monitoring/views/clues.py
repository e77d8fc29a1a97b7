"""Pages of the 风险线索 inbox: thin views — access helper → form → service → page.

- `declare`: the farmer's own declaration, public (no sign-in), rate-limited per IP;
- `clue_add`: a cadre's entry (hotline call, 基层干部排查);
- `clue_list` / `clue_detail`: the inbox and one clue, with the village's work on it;
- `department_home`, `list_results`, `list_results_export`: what a department account reads.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from households.models import Household
from households.selectors import name_heads
from households.services import common
from households.views import registry as household_pages
from monitoring import clues as clue_door
from monitoring import identities, inbox, layouts, results
from monitoring.forms_clues import (
    AttachForm,
    ClueAddForm,
    ClueFilterForm,
    DeclarationForm,
    NotIncludeForm,
    RegisterFromClueForm,
    VerifyForm,
    declarable_villages,
    village_choices,
)
from monitoring.models import Clue, DepartmentList
from povertyapp import audit, ratelimits, regions, roles
from povertyapp import forms as house_forms
from povertyapp.conflicts import ConflictError
from povertyapp.files import workbook_download
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import AccessLog
from povertyapp.photos import photos_with_meta
from povertyapp.privacy import mask

# --- 农户自主申报 ------------------------------------------------------------------------------


def declaration_rate() -> str:
    """Self-declarations per declarant address (settings.RATE_LIMIT_DECLARATION)."""
    return str(settings.RATE_LIMIT_DECLARATION)


LOCAL_PROXIES = ("", "127.0.0.1", "::1")


def declarant_address(group: str, request: HttpRequest) -> str:
    """The address a declaration is counted against: the connection's, or, when it came
    through the local proxy (deploy/nginx-site.conf: a loopback or socket connection), the
    address nginx appended last to X-Forwarded-For (the only entry a client cannot forge)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if remote in LOCAL_PROXIES:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return remote or "unknown"


def declare(request: HttpRequest) -> HttpResponse:
    """The public declaration page: the farmer's own phone, no account."""
    villages = declarable_villages()
    # 县, then 乡镇, then 村 (povertyapp/regions.py): a select of every village of a province
    # would be 26,000 options on a farmer's phone. Without script the form is sent with the
    # 县 chosen and comes back with its villages.
    cascade = regions.cascade(None, request.POST, public=True)
    # The county's villages under their townships (an <optgroup> each), as before the cascade.
    offered = (
        cascade.villages
        if cascade.township is not None
        else village_choices(villages.filter(pk__in=[pk for pk, _name in cascade.villages]))[1:]
    )
    if request.method != "POST":
        form = DeclarationForm(villages=villages, offered=offered)
        return render(request, "monitoring/clues/declare.html", {"form": form, "cascade": cascade})
    form = DeclarationForm(request.POST, villages=villages, offered=offered)
    if is_ratelimited(
        request,
        group="monitoring.declare",
        key=declarant_address,
        rate=declaration_rate(),
        increment=True,
    ):
        audit.record(
            AccessLog.Action.RATE_LIMITED,
            request=request,
            target="declaration",
            outcome=AccessLog.Outcome.REFUSED,
            reason=f"RATE_LIMIT_DECLARATION {declaration_rate()}",
            detail={"path": request.path, "method": request.method},
        )
        return render(
            request,
            "monitoring/clues/declare.html",
            {"form": form, "cascade": cascade, "refused": ratelimits.MESSAGE},
            status=429,
        )
    if form.is_valid():
        data = form.cleaned_data
        try:
            clue = clue_door.clue_create(
                channel=Clue.Channel.SELF_DECLARATION,
                name=data["name"],
                id_number=data["id_number"],
                phone=data["phone"],
                difficulty=data["difficulty"],
                risk_type=data["risk_type"],
                region=data["village"],
                received_on=common.today(),
                actor=None,
            )
        except ValidationError as error:
            house_forms.add_service_errors(form, error)
        else:
            return render(
                request,
                "monitoring/clues/receipt.html",
                {
                    "reference": clue_door.reference(clue),
                    "received_on": clue.received_on,
                    "callback_due": clue_door.callback_due(clue),
                },
            )
    return render(
        request, "monitoring/clues/declare.html", {"form": form, "cascade": cascade}, status=400
    )


# --- a cadre's entry ----------------------------------------------------------------------


@login_required
def clue_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    """热线代录 or 基层干部排查, entered by the village cadre (or the county office)."""
    if not inbox.can_work_inbox(request.user):
        raise PermissionDenied(_("您的角色不能登记风险线索。"))
    villages = declarable_villages(request.user)
    if request.method == "POST":
        form = ClueAddForm(request.POST, villages=villages)
        if form.is_valid():
            data = form.cleaned_data
            hotline = data["source"] == ClueAddForm.HOTLINE
            try:
                clue = clue_door.clue_create(
                    channel=(
                        Clue.Channel.SELF_DECLARATION if hotline else Clue.Channel.CADRE_CHECK
                    ),
                    via_hotline=hotline,
                    name=data["name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    difficulty=data["difficulty"],
                    risk_type=data["risk_type"],
                    region=data["village"],
                    received_on=data["received_on"],
                    actor=request.user,
                )
            except ValidationError as error:
                house_forms.add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("线索已登记（受理编号%(reference)s）。")
                    % {"reference": clue_door.reference(clue)},
                )
                return redirect("monitoring:clue", clue.pk)
        status = 400
    else:
        initial: dict[str, Any] = {"received_on": common.today()}
        if request.user.region is not None and villages.filter(pk=request.user.region.pk):
            initial["village"] = request.user.region.pk
        form = ClueAddForm(villages=villages, initial=initial)
        status = 200
    return render(request, "monitoring/clues/clue_add.html", {"form": form}, status=status)


# --- the inbox ----------------------------------------------------------------------------


@login_required
def clue_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not inbox.can_read_inbox(request.user):
        raise PermissionDenied(_("您的账号不处理风险线索。"))
    today = common.today()
    scoped = inbox.clues_for_user(request.user)
    overdue_count = scoped.filter(inbox.overdue_q(today)).count()
    form = ClueFilterForm(request.GET or None)
    queryset = scoped
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    if filters.get("channel"):
        queryset = queryset.filter(channel=filters["channel"])
    if filters.get("department"):
        queryset = queryset.filter(department=filters["department"])
    state = filters.get("state") or ""
    if state == "":
        queryset = queryset.filter(state__in=Clue.OPEN_STATES)
    elif state != "all":
        queryset = queryset.filter(state=state)
    if filters.get("risk_type"):
        queryset = queryset.filter(risk_type=filters["risk_type"])
    if filters.get("overdue"):
        queryset = queryset.filter(inbox.overdue_q(today))
    page = Paginator(queryset.order_by("decide_due", "verify_due", "id"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "monitoring/clues/clue_list.html",
        {
            "form": form,
            "page": page,
            "rows": inbox.clocks(list(page.object_list), today),
            "overdue_count": overdue_count,
            "late_class": inbox.overdue_class(request.user),
            "can_work": inbox.can_work_inbox(request.user),
        },
    )


def _detail_context(request: AuthenticatedHttpRequest, clue: Clue, **forms: Any) -> dict[str, Any]:
    today = common.today()
    name_heads([clue.household])
    show_full = roles.can_view_sensitive(request.user) and request.GET.get("full") == "1"
    shown_fields = [name for name in ("id_number", "phone") if getattr(clue, name)]
    if show_full and shown_fields:
        audit.record(
            AccessLog.Action.VIEW_SENSITIVE,
            request=request,
            target="monitoring.Clue",
            object_id=clue.pk,
            fields=shown_fields,
        )
    can_work = inbox.can_work_inbox(request.user)
    context: dict[str, Any] = {
        "clue": clue,
        "clock": inbox.clocks([clue], today)[0],
        "late_class": inbox.overdue_class(request.user),
        "reference": clue_door.reference(clue),
        "id_number": clue.id_number if show_full else mask(clue.id_number),
        "phone": clue.phone if show_full else mask(clue.phone),
        "show_full": show_full,
        "can_unmask": roles.can_view_sensitive(request.user) and not show_full,
        "can_work": can_work,
        "can_register": can_work and roles.can_write_households(request.user),
        "photos": inbox.clue_photos(clue),
    }
    if can_work and clue.state == Clue.State.PENDING:
        context["verify_form"] = forms.get("verify_form") or VerifyForm(
            initial={"verified_on": today, "consent_signed_on": today, "version": clue.version}
        )
    if can_work and clue.state == Clue.State.VERIFIED:
        context["not_include_form"] = forms.get("not_include_form") or NotIncludeForm(
            initial={"version": clue.version}
        )
    if can_work and clue.state == Clue.State.UNREGISTERED:
        candidates = inbox.attach_candidates(user=request.user, clue=clue)
        context["attach_form"] = forms.get("attach_form") or AttachForm(
            households=candidates, initial={"version": clue.version}
        )
        context["attach_candidates"] = candidates
    return context


@login_required
def clue_detail(request: AuthenticatedHttpRequest, clue_id: int) -> HttpResponse:
    clue = inbox.clue_get_for_user(user=request.user, clue_id=clue_id)
    return render(request, "monitoring/clues/clue_detail.html", _detail_context(request, clue))


def _rerender(
    request: AuthenticatedHttpRequest, clue: Clue, error: ValidationError | None, **forms: Any
) -> HttpResponse:
    status = 409 if isinstance(error, ConflictError) else 400
    return render(
        request,
        "monitoring/clues/clue_detail.html",
        _detail_context(request, clue, **forms),
        status=status,
    )


@login_required
@require_POST
def clue_verify(request: AuthenticatedHttpRequest, clue_id: int) -> HttpResponse:
    clue = inbox.clue_get_for_user(user=request.user, clue_id=clue_id, for_write=True)
    form = VerifyForm(request.POST, request.FILES)
    error = None
    if form.is_valid():
        try:
            inbox.clue_verify(
                actor=request.user,
                clue=clue,
                verified_on=form.cleaned_data["verified_on"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
                consent=form.cleaned_data["consent"],
                consent_signed_on=form.cleaned_data["consent_signed_on"],
                photos=photos_with_meta(
                    form.cleaned_data.get("photos") or [],
                    form.cleaned_data.get("photo_meta"),
                    uploaded_at=timezone.now(),
                ),
            )
        except ValidationError as caught:
            error = caught
            house_forms.add_service_errors(form, caught)
        else:
            messages.success(request, _("入户核实已记录。"))
            return redirect("monitoring:clue", clue.pk)
    if request.FILES.getlist("photos") and not form.has_error("photos"):
        form.add_error(
            "photos",
            ValidationError(
                _("所选的照片尚未保存（本次未办结），请重新选择后提交。"), code="choose_again"
            ),
        )
    if request.FILES.get("consent") and not form.has_error("consent"):
        # What was typed comes back in the form; a browser never re-sends a chosen file.
        form.add_error(
            "consent",
            ValidationError(
                _("所选的承诺授权书扫描件尚未保存（本次未办结），请重新选择后提交。"),
                code="choose_again",
            ),
        )
    return _rerender(request, clue, error, verify_form=form)


@login_required
@require_POST
def clue_not_include(request: AuthenticatedHttpRequest, clue_id: int) -> HttpResponse:
    clue = inbox.clue_get_for_user(user=request.user, clue_id=clue_id, for_write=True)
    form = NotIncludeForm(request.POST)
    error = None
    if form.is_valid():
        try:
            inbox.clue_not_include(
                actor=request.user,
                clue=clue,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as caught:
            error = caught
            house_forms.add_service_errors(form, caught)
        else:
            messages.success(request, _("已作出不纳入决定，结果将反馈给线索来源。"))
            return redirect("monitoring:clue", clue.pk)
    return _rerender(request, clue, error, not_include_form=form)


@login_required
@require_POST
def clue_attach(request: AuthenticatedHttpRequest, clue_id: int) -> HttpResponse:
    clue = inbox.clue_get_for_user(user=request.user, clue_id=clue_id, for_write=True)
    candidates = inbox.attach_candidates(user=request.user, clue=clue)
    form = AttachForm(request.POST, households=candidates)
    error = None
    if form.is_valid():
        try:
            household = inbox.household_for_attach(
                user=request.user, household_id=form.cleaned_data["household"]
            )
            attached = inbox.clue_attach(
                actor=request.user,
                clue=clue,
                household=household,
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as caught:
            error = caught
            house_forms.add_service_errors(form, caught)
        else:
            messages.success(
                request,
                _("线索已关联农户，状态：%(state)s。") % {"state": attached.get_state_display()},
            )
            return redirect("monitoring:clue", clue.pk)
    return _rerender(request, clue, error, attach_form=form)


@login_required
def clue_register(request: AuthenticatedHttpRequest, clue_id: int) -> HttpResponse:
    """登记新户 for a 待登记 clue: the registry's own form, prefilled server-side from the clue
    (name, ID number, phone, village: only the clue's id travels in the URL); saving registers
    the household and attaches the clue to it in one transaction (`inbox.clue_register_household`).
    The village cadre of the clue's village and the county office, like the rest of the inbox."""
    clue = inbox.clue_get_for_user(user=request.user, clue_id=clue_id, for_write=True)
    if not roles.can_write_households(request.user):
        raise PermissionDenied(_("您的角色只能查看，不能登记农户。"))
    if clue.state != Clue.State.UNREGISTERED:
        messages.info(
            request,
            _("该线索不是待登记任务（当前状态：%(state)s）。")
            % {"state": clue.get_state_display()},
        )
        return redirect("monitoring:clue", clue.pk)
    version_form = RegisterFromClueForm(
        request.POST if request.method == "POST" else None,
        initial={"clue_version": clue.version},
    )
    if request.method != "POST":
        # The form shows the clue's ID number and phone in full.
        audit.record(
            AccessLog.Action.VIEW_SENSITIVE,
            request=request,
            target="monitoring.Clue",
            object_id=clue.pk,
            fields=["id_number", "phone"],
            reason=str(_("登记新户")),
        )

    context: dict[str, Any] = {
        "clue": clue,
        "reference": clue_door.reference(clue),
        "version_form": version_form,
    }

    def save(data: dict[str, Any], members: list[dict[str, Any]]) -> Household:
        if not version_form.is_valid():
            raise ValidationError(
                _("页面缺少线索版本，请从线索页面重新打开“登记新户”。"), code="stale_form"
            )
        try:
            attached = inbox.clue_register_household(
                actor=request.user,
                clue=clue,
                data=data,
                members=members,
                expected_version=version_form.cleaned_data["clue_version"],
            )
        except ConflictError:
            # The form comes back, everything typed kept, with the clue as it stands now: the
            # cadre checks the clue and saves again.
            current = Clue.objects.only("version").get(pk=clue.pk)
            context["version_form"] = RegisterFromClueForm(
                initial={"clue_version": current.version}
            )
            raise
        assert attached.household is not None  # attached to the household just registered
        return attached.household

    def saved(household: Household) -> HttpResponse:
        clue.refresh_from_db()
        messages.success(
            request,
            _("线索已关联新登记的农户%(number)s，状态：%(state)s。")
            % {"number": household.number, "state": clue.get_state_display()},
        )
        return redirect("monitoring:clue", clue.pk)

    household, head = inbox.register_prefill(user=request.user, clue=clue)
    return household_pages.household_create_page(
        request,
        initial=household,
        head_initial=head,
        save=save,
        saved=saved,
        template="monitoring/clues/register.html",
        context=context,
    )


# --- the departments ------------------------------------------------------------------------


@login_required
def department_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not roles.is_department(request.user):
        raise PermissionDenied(_("只有行业部门账号可以查看本部门名单结果。"))
    lists = inbox.lists_for_department(request.user)
    counts = inbox.list_counts(lists)
    empty = {
        "total": 0,
        "matched": 0,
        "unmatched": 0,
        "duplicate": 0,
        "included": 0,
        "not_included": 0,
        "pending": 0,
    }
    shown = list(lists[:200])
    counts.update(identities.list_counts(shown))
    rows = [(item, counts.get(item.pk, empty)) for item in shown]
    for item, _counts in rows:
        item.layout_label = layouts.layout_label(item.layout)  # type: ignore[attr-defined]  # for the template
    return render(
        request,
        "monitoring/clues/department_home.html",
        {"rows": rows, "department": request.user.get_department_display()},
    )


@login_required
def list_results(request: AuthenticatedHttpRequest, list_id: int) -> HttpResponse:
    source_list = inbox.department_list_get(user=request.user, list_id=list_id)
    rows = inbox.department_results(source_list)
    # A 身份共享 list's rows carry the identity each recorded (身份类别, 认定日期, 终止日期).
    columns = (
        results.detail_columns(rows)
        if source_list.purpose == DepartmentList.Purpose.IDENTITY
        else []
    )
    for row in rows:
        row["id_masked"] = mask(row["id_number"])
        del row["id_number"]
        row["shown_details"] = [row["details"].get(column, "") for column in columns]
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "monitoring/clues/list_results.html",
        {
            "list": source_list,
            "layout_label": layouts.layout_label(source_list.layout),
            "page": page,
            "total": len(rows),
            "detail_columns": columns,
        },
    )


@login_required
def list_results_export(request: AuthenticatedHttpRequest, list_id: int) -> HttpResponseBase:
    source_list = inbox.department_list_get(user=request.user, list_id=list_id)
    if ratelimits.exceeded(request, "export"):
        return ratelimits.refused(request, "export")
    workbook = results.write_results(source_list)
    audit.record(
        AccessLog.Action.EXPORT,
        request=request,
        target="monitoring.DepartmentList",
        object_id=source_list.pk,
        sha256=workbook.sha256,
        detail={"rows": workbook.rows, "filename": workbook.filename},
    )
    return workbook_download(workbook.path, workbook.filename)
