"""The optimistic-lock conflict every app's services raise (保存冲突).

A form or API client sends the version of the record it loaded; when the stored version moved
on meanwhile, the service raises `ConflictError` instead of saving. The platform owns it so
that the API's exception handler (`povertyapp.api.exception_handlers`, a 409 with what
changed) and every app's views treat a conflict the same way, whichever app raised it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class ConflictError(ValidationError):
    """Someone else saved the record after this user loaded it. Carries what changed.

    `changes` lists dicts with `field`, `label` (the field's verbose name), `old`, `new` and
    `who` (who saved meanwhile); the message names the first `who` and every label.
    """

    def __init__(self, changes: list[dict[str, Any]]) -> None:
        self.changes = changes
        labels = "、".join(change["label"] for change in changes) or _("（成员或状态）")
        super().__init__(
            _(
                "保存冲突：该记录在您打开之后已被%(who)s修改（%(fields)s）。您的修改尚未保存，"
                "请核对后重新提交。"
            )
            % {"who": changes[0]["who"] if changes else _("他人"), "fields": labels},
            code="conflict",
        )
