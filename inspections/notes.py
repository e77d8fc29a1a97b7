"""The notes of an assessment draw (`Campaign.draw_notes`, `SampleVillage.notes`): what the fill
rule did, stored as the msgid and its parameters, never as formatted text, so that each reader
sees them in the language of the page (issue 17; the way `households.DataProblem.message_source`
keeps a problem's message).

A stored note is ``{"msgid": …, "params": {…}}``. Parameters that are themselves labels are
stored as their stable value and translated when shown: ``kind`` (a `SampleKind` value,
named by the labels the caller hands over),
``target`` and ``used`` (a village class, 好/中/差), ``names`` (a list, joined in the reader's
language). Names of places are data and shown as stored. A note stored as text (before
migration 0003 could read it back) is shown as stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, gettext_noop

# The notes' msgids (marked for makemessages; translated when shown).
TOWNSHIPS_SHORT = gettext_noop("全县仅有%(n)d个乡镇可抽，少于方案的%(want)d个。")
VILLAGES_SHORT = gettext_noop("%(township)s村数不足，少抽%(n)d个村。")
CLASS_SUBSTITUTED = gettext_noop(
    "%(township)s无未抽取的“%(target)s”类村，按补足规则从“%(used)s”类村中抽取。"
)
KIND_SHORT = gettext_noop(
    "%(village)s%(kind)s仅%(have)d户，不足%(quota)d户，差额按补足规则由其他类型补足。"
)
HOUSEHOLDS_SHORT = gettext_noop("%(village)s可抽农户不足，实抽%(taken)d户（方案%(quota)d户）。")
UNCLASSED = gettext_noop("以下村未登记本年度村情分类，按“中”类参与抽样：%(names)s")
MSGIDS = (
    TOWNSHIPS_SHORT,
    VILLAGES_SHORT,
    CLASS_SUBSTITUTED,
    KIND_SHORT,
    HOUSEHOLDS_SHORT,
    UNCLASSED,
)


def note(msgid: str, **params: Any) -> dict[str, Any]:
    """A note to store: one of `MSGIDS` with its parameters (JSON values)."""
    if msgid not in MSGIDS:
        raise ValueError(f"not a draw note: {msgid!r}")
    return {"msgid": msgid, "params": params}


def _param(key: str, value: Any, kind_labels: Mapping[str, Any]) -> Any:
    if key == "kind":
        return str(kind_labels.get(value, value))
    if key in ("target", "used") and isinstance(value, str):
        return gettext(value)
    if key == "names" and isinstance(value, list):
        return gettext("、").join(str(name) for name in value)
    return value


def note_text(stored: Any, kind_labels: Mapping[str, Any] | None = None) -> str:
    """The note in the active language; text stored as text is shown as stored. `kind_labels`
    name the `SampleKind` values (`inspections.models.notes_shown` hands them over: this module
    sits below the models)."""
    if not isinstance(stored, dict) or not stored.get("msgid"):
        return str(stored)
    labels = kind_labels or {}
    params = {
        key: _param(key, value, labels) for key, value in (stored.get("params") or {}).items()
    }
    try:
        return gettext(stored["msgid"]) % params
    except (KeyError, TypeError, ValueError):  # parameters out of step with the msgid
        return gettext(stored["msgid"])


def notes_text(stored: Any, kind_labels: Mapping[str, Any] | None = None) -> list[str]:
    """Every note of a stored list, in the active language."""
    return [note_text(item, kind_labels) for item in stored or []]
