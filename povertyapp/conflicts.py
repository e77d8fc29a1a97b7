"""The optimistic-lock conflict every app's services raise (保存冲突).

A form or API client sends the version of the record it loaded; when the stored version moved
on meanwhile, the service raises `ConflictError` instead of saving. The platform owns it so
that the API's exception handler (`povertyapp.api.exception_handlers`, a 409 with what
changed) and every app's views treat a conflict the same way, whichever app raised it.

A conflict shows the other person's values, which may be sensitive (a bank account changed
meanwhile): what reaches the user goes through `shown_changes`, which masks them for a role
without the right and writes the access-log row for one with it, as every page does.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from povertyapp import privacy, roles


class ConflictError(ValidationError):
    """Someone else saved the record after this user loaded it. Carries what changed.

    `changes` lists dicts with `field`, `label` (the field's verbose name), `old`, `new` and
    `who` (who saved meanwhile); the message names the first `who` and every label. A change
    whose values are sensitive also names their kind as an access-log row does, `sensitive`:
    `id_number`, `bank_account` or `health`. `target` and `object_id` name the record for that
    row.
    """

    def __init__(
        self, changes: list[dict[str, Any]], *, target: str = "", object_id: str | int = ""
    ) -> None:
        self.changes = changes
        self.target = target
        self.object_id = object_id
        labels = "、".join(change["label"] for change in changes) or _("（成员或状态）")
        super().__init__(
            _(
                "保存冲突：该记录在您打开之后已被%(who)s修改（%(fields)s）。您的修改尚未保存，"
                "请核对后重新提交。"
            )
            % {"who": changes[0]["who"] if changes else _("他人"), "fields": labels},
            code="conflict",
        )


def shown_changes(request: Any, error: ConflictError) -> list[dict[str, Any]]:
    """The conflict's changes as the request's user may see them (copies; `error.changes`
    keeps the stored values for merging). A sensitive value is masked for a role without the
    right; a role with it sees it in full and one access-log row names the kinds it showed.
    An unmarked value has its ID and account numbers masked for a role without the right all
    the same (`privacy.mask_text`), so that a change no service marked leaks nothing."""
    full = roles.can_view_sensitive(request.user)
    shown, kinds = [], set()
    for change in error.changes:
        change = dict(change)
        kind = change.get("sensitive")
        for key in ("old", "new"):
            value = change.get(key)
            if value in (None, ""):
                continue
            if kind:
                kinds.add(kind)
                if not full:
                    change[key] = (
                        privacy.shown_health(request.user, str(value))
                        if kind == "health"
                        else privacy.mask(str(value))
                    )
            elif not full and isinstance(value, str):
                change[key] = privacy.mask_text(value)
        shown.append(change)
    if full and kinds:
        privacy.access_log_record(
            user=request.user,
            action="view_sensitive",
            target=error.target or "conflict",
            object_id=error.object_id,
            fields=sorted(kinds),
            detail={"via": "conflict"},
            request=request,
        )
    return shown
