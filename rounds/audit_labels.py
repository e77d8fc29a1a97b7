"""The audit targets this app writes, in words (`povertyapp.audit_targets`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from povertyapp import audit_targets


def register() -> None:
    audit_targets.register(
        {
            "round:": _("动态调整批次"),
            "round_change:": _("动态调整名单"),
            "round:open": _("开启动态调整批次"),
            "round:close": _("关闭动态调整批次"),
            "round_change:review": _("动态调整名单乡镇审核"),
            "round_change:decide": _("动态调整名单县级审定"),
            "rounds.changes": _("动态调整名单导入"),
            "rounds.rollup": _("指标汇总计算"),
        }
    )
