"""The audit targets this app writes, in words (`povertyapp.audit_targets`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from povertyapp import audit_targets


def register() -> None:
    audit_targets.register(
        {
            "declaration": _("农户自主申报"),
            "monitoring_object": _("监测对象"),
            "monitoring_task": _("核实任务"),
            "sweep:": _("集中排查"),
            "sweep:open": _("发起集中排查"),
            "sweep:close": _("结束集中排查"),
        }
    )
