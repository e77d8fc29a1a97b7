from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from povertyapp import desk, regions, roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.jobs import job_get_for_user, kind_label
from povertyapp.security import passwords, steps


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    """The user's own password change; forced at sign-in once the password has expired."""

    template_name = "registration/password_change.html"
    success_url = "/"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = steps.PASSWORD_CHANGE in steps.pending(self.request)
        context["max_age_days"] = settings.PASSWORD_MAX_AGE_DAYS
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        passwords.password_changed(request=self.request, user=form.user)
        messages.success(self.request, _("密码已修改。"))
        return response


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The 工作台: the panels the apps registered (`povertyapp.desk`) that the user's role
    admits — the case roles' work, and for the other roles what they may act on."""
    user = request.user
    context = {"has_case_access": roles.has_case_access(user), "panels": desk.panels_for(user)}
    return render(request, "povertyapp/home.html", context)


@login_required
def job_detail(request: AuthenticatedHttpRequest, job_id: int) -> HttpResponse:
    """A job's progress (polled by htmx every 2 s until it is done)."""
    job = job_get_for_user(user=request.user, job_id=job_id)
    template = (
        "povertyapp/partials/job_progress.html"
        if request.headers.get("HX-Request")
        else "povertyapp/job_detail.html"
    )
    return render(request, template, {"job": job, "kind_label": kind_label(job.kind)})


# --- the installable web app (docs/offline.md) ------------------------------------------------


@require_GET
def web_manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest: what a phone installs (name, icons, start page). No data."""
    manifest = {
        "name": _("精准扶贫管理系统"),
        "short_name": _("离线走访"),
        "lang": get_language(),
        "start_url": reverse("assistance:offline"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f5f7fa",
        "theme_color": "#b42318",
        "icons": [
            {"src": static(f"icons/app-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
            for size in (192, 512)
        ],
    }
    return JsonResponse(
        manifest,
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """The icon every browser asks each site for at /favicon.ico: the web manifest's, where it
    was a 404 and a rendered error page per visit. Not a `<link rel="icon">` on every page: the
    login page would fetch that shell file after a sign-out and the service worker would cache
    it again (tried 2026-12-07). `no-store` like every answer (`povertyapp/headers.py`): a
    redirect costs less than the error page did, and browsers keep icons in a store of their
    own."""
    return redirect(static("icons/app-192.png"))


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from the site's root so that its scope is the whole site
    (`Service-Worker-Allowed: /`). It holds no data: the offline page keeps the user's data in
    IndexedDB and its own page copy in a cache named by the user's key. `no-store` like every
    answer (povertyapp/headers.py): a new version is picked up at the next page load."""
    response = render(request, "pwa/sw.js", content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def region_options(request: HttpRequest) -> HttpResponse:
    """The region cascade's select below the one changed (htmx; `povertyapp.regions`): after a
    县 (`changed=county`) the 乡镇 select's <option>s, with the 行政村 select's swapped out of
    band; after a 乡镇 the 行政村 select's <option>s. Scoped to the user like the pages, never
    more than one county's regions; `public=1` answers the public declaration page (no
    account) over every region, as that page names any village of the system. `labels=<name>`
    names the villages as the page does (`regions.register_village_labels`)."""
    public = request.GET.get("public") == "1"
    if not public:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not roles.has_case_access(request.user):
            raise PermissionDenied(_("您的账号不查看农户信息。"))
    user = request.user if request.user.is_authenticated else None
    found = regions.cascade(user, request.GET, public=public)
    if not public:
        regions.label_villages(found, request.GET.get("labels", ""))
    changed_county = request.GET.get("changed") == "county"
    return render(
        request,
        "povertyapp/partials/region_options.html",
        {
            "options": found.options("township" if changed_county else "village"),
            "village_select": changed_county,
            "cascade": found,
            "public": public,
        },
    )
