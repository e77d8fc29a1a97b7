"""账号安全: the user's own account pages (second factor, password, sessions) and the sign-in
steps after the password (verify or enrol a second factor)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.security import second_factor, sessions, steps
from povertyapp.security.forms import CodeForm, PasswordConfirmForm


def _next_url(request: AuthenticatedHttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


@login_required
def account_security(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "account/security.html",
        {
            "has_device": second_factor.has_device(user),
            "required": second_factor.required(user),
            "backup_codes_left": second_factor.backup_codes_left(user),
            "session_count": sessions.sessions_for_user(user=user).count(),
            "password_changed_at": user.password_changed_at,
        },
    )


@login_required
def second_factor_verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    if second_factor.verified(request) or not second_factor.has_device(request.user):
        steps.complete(request, steps.SECOND_FACTOR_VERIFY)
        return HttpResponseRedirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.verify(request=request, user=request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            return HttpResponseRedirect(_next_url(request))
    return render(
        request,
        "account/second_factor_verify.html",
        {"form": form, "next": _next_url(request)},
    )


@login_required
def second_factor_enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if second_factor.has_device(user):
        messages.info(request, _("已启用双因素认证；如需更换手机，请先关闭后重新绑定。"))
        return redirect("account:security")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor.enrolment_confirm(
                request=request, user=user, code=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            return _backup_codes_page(request, codes, enrolled=True)
    device = second_factor.enrolment_device(user=user)
    return render(
        request,
        "account/second_factor_enrol.html",
        {
            "form": form,
            "qr_svg": second_factor.qr_svg(device),
            "secret": second_factor.secret_text(device),
            "required": second_factor.required(user),
            "next": _next_url(request),
        },
    )


def _backup_codes_page(
    request: AuthenticatedHttpRequest, codes: list[str], *, enrolled: bool = False
) -> HttpResponse:
    # Shown this once; never stored where a later page could show them again.
    return render(
        request,
        "account/backup_codes.html",
        {"codes": codes, "enrolled": enrolled, "next": _next_url(request)},
    )


@login_required
@require_POST
def backup_codes_generate(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not second_factor.has_device(request.user):
        messages.error(request, _("请先启用双因素认证，再生成备用验证码。"))
        return redirect("account:security")
    codes = second_factor.backup_codes_generate(request=request, user=request.user)
    return _backup_codes_page(request, codes)


@login_required
def second_factor_disable(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.second_factor_disable(
                request=request, user=request.user, password=form.cleaned_data["password"]
            )
        except ValidationError as error:
            form.add_error("password", error)
        else:
            if second_factor.required(request.user) and not second_factor.demo_exempt():
                messages.warning(request, _("您的角色必须使用双因素认证，请重新绑定身份验证器。"))
                request.session[steps.SESSION_KEY] = [
                    steps.SECOND_FACTOR_ENROL,
                    *steps.pending(request),
                ]
                return redirect("account:second-factor-enrol")
            messages.success(request, _("已关闭双因素认证。"))
            return redirect("account:security")
    return render(
        request,
        "account/second_factor_disable.html",
        {"form": form, "required": second_factor.required(request.user)},
    )


@login_required
def session_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = [
        {
            "row": row,
            "last_seen": sessions.last_seen(row),
            "current": row.session_id == request.session.session_key,
        }
        for row in sessions.sessions_for_user(user=request.user)
    ]
    return render(request, "account/sessions.html", {"rows": rows})


@login_required
@require_POST
def session_end(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.POST.get("all_others"):
        count = sessions.sessions_end_others(request=request, user=request.user)
        messages.success(request, _("已结束其他%(count)d个会话。") % {"count": count})
        return redirect("account:sessions")
    try:
        user_session_id = int(request.POST.get("session", ""))
    except ValueError:
        messages.error(request, _("请选择要结束的会话。"))
        return redirect("account:sessions")
    try:
        sessions.session_end(request=request, user=request.user, user_session_id=user_session_id)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("已结束该会话，该设备需重新登录。"))
    return redirect("account:sessions")
