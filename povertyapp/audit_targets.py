"""What an audit row's target names, in words: the 审计日志's 对象 column reads "识别流程" where the
row keeps `workflow:identification`, as it was written (the rows are hash-chained and searched
by their stored text, so the words are given when shown, never stored).

A target is, in this order:
- a text an app registered (`register`, from its `AppConfig.ready`): exact, such as `household`,
  or a family of one prefix, such as `workflow:` whose rest the app names too;
- a model, `app_label.ModelName` or `app_label.model_name`: its verbose name;
- a file kind (a download's target): its label; a path (a refused request's): itself.
`tests/povertyapp/test_audit_targets.py` holds every target the code writes by a literal and
every target the demo writes against this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.utils.translation import gettext_lazy as _

_LABELS: dict[str, Any] = {}


def register(labels: Mapping[str, Any]) -> None:
    """Name targets: `{"household": _("农户"), "workflow:": _("办理流程"), ...}`. A key ending in
    ":" names the family; its members may be named one by one as well, or the family's value
    may be a function naming the rest (`ledger:` names each ledger by its title)."""
    _LABELS.update(labels)


def _model(target: str) -> str | None:
    app_label, dot, name = target.partition(".")
    if not dot:
        return None
    for model_name in (name, name.replace("_", "")):
        try:
            return str(apps.get_model(app_label, model_name)._meta.verbose_name)
        except (LookupError, ValueError):
            continue
    return None


def label(target: str) -> str:
    """The target in words, or the target itself when nothing names it."""
    if target in _LABELS:
        return str(_LABELS[target])
    head, colon, rest = target.partition(":")
    if colon and f"{head}:" in _LABELS:
        family = _LABELS[f"{head}:"]
        if callable(family):
            return str(family(rest))
        return f"{family}（{rest}）" if rest else str(family)
    model = _model(target)
    if model is not None:
        return model
    from povertyapp import files

    kind = files.kind_get(target)
    if kind is not None and kind.label:
        return str(kind.label)
    return target


def _ledger(key: str) -> str:
    from povertyapp import ledgers

    ledger = ledgers.ledger_get(key)
    return str(ledger.title) if ledger is not None else str(_("台账导出"))


def named(target: str) -> bool:
    """Whether something names the target (a path is its own name)."""
    return target.startswith("/") or label(target) != target


register(
    {
        "session": _("会话"),
        "user": _("账号"),
        "request": _("请求"),
        "audit_log": _("审计日志"),
        "audit_log_export": _("审计日志导出"),
        "audit_archive": _("审计日志归档"),
        "verify_audit": _("审计日志校验"),
        "break_glass": _("应急账号"),
        "conflict": _("并发修改"),
        "search": _("查询"),
        "export": _("导出"),
        "api": _("接口"),
        "ledger:": _ledger,
    }
)
