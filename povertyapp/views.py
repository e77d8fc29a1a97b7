from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from povertyapp import roles
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.jobs import job_get_for_user, kind_label


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"
    success_url = "/"


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    from households.selectors import household_list

    user = request.user
    context: dict[str, object] = {"has_case_access": roles.has_case_access(user)}
    if roles.has_case_access(user):
        households = household_list(user=user)
        context["household_count"] = households.count()
        context["recent"] = households.order_by("-updated_at")[:8]
        # The work desk's 待办 counts (issue 13): my steps, and the overdue cases a township or
        # county supervises. Imported here, like the registry above: the platform imports no
        # domain module at load time.
        from households import workflows

        context["todo_count"] = workflows.todo_list(user).count()
        context["overdue_count"] = (
            workflows.overdue_list(user).count()
            if user.role in (user.Role.TOWNSHIP_REVIEWER, user.Role.COUNTY_OFFICER)
            else workflows.todo_list(user).filter(deadline__lt=timezone.localdate()).count()
        )
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
