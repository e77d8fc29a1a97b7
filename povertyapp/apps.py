from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AdminConfig(admin_apps.AdminConfig):
    """The admin site, requiring a second factor (povertyapp.security.admin_site)."""

    default = False
    default_site = "povertyapp.security.admin_site.AdminSite"


# django-axes, named in Chinese where the security administrator meets it (the admin's app list):
# its own config names it by its label ("Axes"). django-otp's devices are listed as proxies of
# this app instead (`povertyapp.models.SecondFactorDevice`): their names are not translatable.
class AxesConfig(axes_apps.AppConfig):
    default = False
    verbose_name = _("登录防护")


class PovertyappConfig(AppConfig):
    default = True
    name = "povertyapp"
    verbose_name = _("区划与账号")

    def ready(self) -> None:
        # `field__any_of=[…]`: a long list of values as one parameter (povertyapp.lookups).
        from povertyapp import lookups

        lookups.register()

        # Job kinds register themselves on import; the web process (which enqueues) and the
        # worker (which runs) both need them.
        from povertyapp import ledgers
        from povertyapp.ledgers import services  # noqa: F401  (the ledger_export job kind)

        ledgers.discover()
        # API tokens are revoked when a password changes or an account is disabled.
        from povertyapp import tokens  # noqa: F401  (connects its signal receivers)

        register_file_kinds()

        # The work desk's own panels: my jobs, the administrators' pages (povertyapp.desk).
        from povertyapp import desk

        desk.register_platform_panels()

        # The audit rows of sign-in, failure, lockout and logout (issue 14, 安全审计).
        from povertyapp import audit_events

        audit_events.connect()

        # Sign-in: the steps after the password, the absolute limit, 我的会话 (issue 14).
        from povertyapp.security import sessions

        sessions.connect()

        # One wording for an empty required value, model checks included (povertyapp.forms).
        from django.apps import apps

        from povertyapp.forms import model_messages_install

        model_messages_install(apps.get_models(include_auto_created=True))

        # Issue 14 (三权分立): role and scope changes are audit rows; the break-glass account's
        # sign-ins are logged; a system check warns of any everyday superuser.
        from povertyapp.security import account_audit, break_glass

        account_audit.connect()
        break_glass.connect()


def register_file_kinds() -> None:
    """The platform's own stored files: job results (ledgers, reports, import error workbooks),
    for the job's owner only — a job's file was written with the owner's rights (masking), so
    nobody else may take it, and it lives JOB_FILE_RETENTION_DAYS."""
    from django.urls import reverse

    from povertyapp import files, jobs

    files.register(
        "job_result",
        model="povertyapp.Job",
        field="result_file",
        get_for_user=lambda user, object_id: jobs.job_result_get_for_user(
            user=user, job_id=object_id
        ),
        page_url=lambda job: reverse("job-detail", args=[job.pk]),
        deleted_at=lambda job: job.result_file_deleted_at,
        label=_("后台任务结果文件"),
    )
