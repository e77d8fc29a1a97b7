"""Ledger pages: choose a ledger and its filters, download it (or watch its job).

The household import's pages (upload, check, errors, preview, confirm) live in the households app,
`households/views/imports.py`; `urls.py` includes them under the same namespace."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from povertyapp import files, ratelimits, regions, roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.ledgers import all_ledgers, index_filters
from povertyapp.ledgers.services import (
    ExportStart,
    job_threshold,
    ledger_export_start,
    reason_threshold,
)


def _require_ledger_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.can_use_ledgers(request.user):  # also the menu's rule (povertyapp/menu.py)
        raise PermissionDenied(_("您的角色不能使用台账。"))


@login_required
def ledger_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_ledger_access(request)
    return _index(request, request.GET)


def _index(
    request: AuthenticatedHttpRequest,
    data: QueryDict,
    *,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The ledger page, its fields filled from `data` (the query, or the export form sent back
    with its errors: nothing the user typed is lost)."""
    # The page's one filter form and its starting values are the registered ledgers' (the
    # registry's 户台账 declares both), not the platform's.
    filter_form, defaults = index_filters()
    household_filter = (
        None
        if filter_form is None
        else filter_form(
            data or None, user=request.user, queryset=filter_form._meta.model.objects.none()
        )
    )
    if household_filter is not None and hasattr(household_filter, "offer_value_lists"):
        household_filter.offer_value_lists()  # labels to choose rather than to type
    return render(
        request,
        "ledgers/index.html",
        {
            "ledgers": [ledger for ledger in all_ledgers() if ledger.may_export(request.user)]
            if roles.can_export(request.user)
            else [],
            "filter": household_filter,
            # 县, 乡镇, 行政村 a step at a time (povertyapp/regions.py): never a province's
            # villages in one select.
            "cascade": regions.cascade(request.user, data),
            "income_year": data.get("income_year") or defaults.get("income_year", ""),
            "reason": data.get("reason", ""),
            "errors": errors or {},
            "threshold": job_threshold(),
            "reason_rows": reason_threshold(),
            "can_import": roles.can_write_households(request.user),
            "masked": not roles.can_view_sensitive(request.user),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def ledger_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    # The page's form posts (its search box takes ID numbers, which never go in a URL: issue
    # 14); a GET with harmless filters (a bookmark) still works.
    data = request.POST if request.method == "POST" else request.GET
    key = data.get("ledger", "")
    filters = {
        name: data.get(name)
        for name in data
        if name not in ("ledger", "reason", "csrfmiddlewaretoken")
    }
    if ratelimits.exceeded(request, "export"):
        return ratelimits.refused(request, "export")
    try:
        start = ledger_export_start(
            user=request.user,
            key=key,
            filters=filters,
            request=request,
            reason=data.get("reason", ""),
        )
    except ValidationError as error:
        if hasattr(error, "error_dict") and "reason" in error.error_dict:
            _require_ledger_access(request)
            return _index(request, data, errors=error.message_dict, status=400)
        messages.error(request, _("；").join(error.messages))
        return redirect("ledgers:index")
    return export_started(request, start)


def export_started(request: AuthenticatedHttpRequest, start: ExportStart) -> HttpResponseBase:
    """The answer to a started export, from this page or another that posts its own form (the
    national exchange page): the workbook, or the job's page when it went to the background."""
    if start.job is not None:
        messages.info(
            request,
            _("台账超过%(rows)d行，已转为后台任务生成，完成后可在此页下载。")
            % {"rows": job_threshold()},
        )
        return redirect("job-detail", job_id=start.job.pk)
    assert start.path is not None and start.result is not None
    return files.workbook_download(start.path, start.result.filename)
