"""The audit targets this app writes, in words (`povertyapp.audit_targets`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from povertyapp import audit_targets


def _procedure(kind: str) -> str:
    from households.models import CaseWorkflow

    return str(dict(CaseWorkflow.Kind.choices).get(kind, kind))


def register() -> None:
    audit_targets.register(
        {
            "household": _("农户"),
            "households_import": _("农户导入"),
            "public_notice": _("公示公告"),
            "workflow:": _procedure,
            "national:": _("国家系统"),
            "national:mark": _("录入国家系统标记"),
            "national:unmark": _("撤销录入国家系统标记"),
            "national:reconcile": _("与国家系统比对"),
            "povertyapp.regions": _("行政区划导入"),
            "povertyapp.village_years": _("村年度信息导入"),
            "povertyapp.resident_teams": _("驻村工作队导入"),
        }
    )
