"""The page 我的API令牌: the signed-in user's API tokens, to read and to revoke."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from povertyapp import tokens
from povertyapp.http import AuthenticatedHttpRequest


@login_required
def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "povertyapp/account_tokens.html",
        {
            "tokens": tokens.tokens_for_user(user=request.user),
            "ttl_hours": settings.API_TOKEN_TTL_HOURS,
            "limit": settings.API_TOKEN_LIMIT_PER_USER,
        },
    )


@login_required
@require_POST
def token_revoke(request: AuthenticatedHttpRequest, prefix: str) -> HttpResponse:
    if tokens.token_revoke(user=request.user, prefix=prefix, request=request):
        messages.success(request, _("已吊销API令牌 %(prefix)s…。") % {"prefix": prefix})
    else:
        messages.error(request, _("您没有这个API令牌（可能已过期或已吊销）。"))
    return redirect("account-tokens")


@login_required
@require_POST
def token_revoke_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    revoked = tokens.token_revoke_all(user=request.user, request=request)
    messages.success(request, _("已吊销全部API令牌（%(count)d个）。") % {"count": revoked})
    return redirect("account-tokens")
