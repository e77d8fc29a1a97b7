from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from povertyapp import desk, roles
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
