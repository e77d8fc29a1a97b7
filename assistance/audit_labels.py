"""The audit targets this app writes, in words (`povertyapp.audit_targets`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from povertyapp import audit_targets


def register() -> None:
    audit_targets.register(
        {
            "offline_bundle": _("离线数据包"),
            "assistance.measures": _("帮扶措施导入"),
            "assistance.pairings": _("结对帮扶导入"),
            "assistance.projects": _("帮扶项目导入"),
        }
    )
