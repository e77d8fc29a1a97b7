"""The audit targets this app writes, in words (`povertyapp.audit_targets`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from povertyapp import audit_targets


def register() -> None:
    audit_targets.register(
        {
            "inspection:": _("考核评估"),
            "inspection:finding": _("确认入户核查结果"),
            "inspection:campaign": _("完成考核评估"),
            "inspection:correction_task": _("纠错任务销号"),
            "inspection:rectification": _("督查整改状态变更"),
            "inspections.visit_sheet": _("入户核查表"),
            "inspections.workbook": _("入户核查结果表"),
        }
    )
