"""Stored file names: unguessable, and still saying what the user uploaded.

Kept apart from the door (`povertyapp/files/`) because models name `PrivateUploadTo` in their
FileFields, and the door reads the models: the names import nothing of the project, so models
and door import each other in no circle.
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from typing import Any

from django.utils import timezone
from django.utils.deconstruct import deconstructible

# A stored name: `<area>/<yyyy>/<mm>/<32 hex>_<original name>`.
_TOKEN_PREFIX = re.compile(r"^[0-9a-f]{32}_")
# Characters kept of an original name (the storage keeps word characters, "-" and ".").
_ORIGINAL_NAME_MAX = 120


# The path migrations record (`povertyapp.files.PrivateUploadTo`) stays that of the package.
@deconstructible(path="povertyapp.files.PrivateUploadTo")
class PrivateUploadTo:
    """`upload_to` for every FileField: a random 128-bit token in the stored name, so that
    names cannot be guessed or enumerated, and the original name after it, so that the download
    can be named as the user named (or the system named) the file.

    `PrivateUploadTo("jobs")` stores `jobs/2026/12/<32 hex>_人员台账_黄平县_20261203.xlsx`.
    """

    def __init__(self, area: str) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_-]*", area):
            raise ValueError(f"bad upload area {area!r}")
        self.area = area

    def __call__(self, instance: Any, filename: str) -> str:
        name = _clean_original_name(filename)
        month = timezone.localdate()
        return f"{self.area}/{month:%Y/%m}/{secrets.token_hex(16)}_{name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrivateUploadTo) and other.area == self.area

    def __hash__(self) -> int:
        return hash(self.area)


def _clean_original_name(filename: str) -> str:
    """The last path component of an uploaded name, without control characters, shortened to
    `_ORIGINAL_NAME_MAX` characters (its extension kept)."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    stem, extension = os.path.splitext(name)
    extension = extension[:16]
    stem = stem[: _ORIGINAL_NAME_MAX - len(extension)] or "file"
    return stem + extension


_PRIVATE_NAME = re.compile(r"^[a-z][a-z0-9_-]*/\d{4}/\d{2}/[0-9a-f]{32}_[^/]+$")


def is_private_name(stored_name: str) -> bool:
    """Whether a stored name has the unguessable form `PrivateUploadTo` gives."""
    return bool(_PRIVATE_NAME.match(stored_name or ""))


def original_name(stored_name: str) -> str:
    """The name a stored file was given before its token was added (also right for files
    stored before the door existed, whose names have no token)."""
    base = os.path.basename(stored_name or "")
    return _TOKEN_PREFIX.sub("", base, count=1)
