"""The file door: how every stored file is named, stored, served and expired.

Every `FileField` of the project stores under a name nobody can guess
(`<area>/<yyyy>/<mm>/<32 hex>_<original name>`, `PrivateUploadTo`), and is read back only
through one view, `files:download` (`povertyapp.files.views.download`), which:

1. requires a signed-in user (anonymous → the login page);
2. fetches the object through the file kind's scoped access helper (404 outside the user's
   scope, unknown ids included) — the kind was registered by the app that owns the model, so
   the platform imports no domain app;
3. checks the link's signed, time-limited token (bound to the user, the object and the stored
   name; `FILE_LINK_MAX_AGE`);
4. answers 410 with a readable page when the file has expired (deleted by the nightly clean-up)
   or is missing;
5. writes an `AccessLog` row (who, which object, the file's SHA-256);
6. serves the file through django-sendfile2: streamed by Django (`FILE_SERVING=django`) or
   handed to nginx with `X-Accel-Redirect` (`FILE_SERVING=nginx`), with `Cache-Control:
   no-store`, `X-Content-Type-Options: nosniff` and `Content-Disposition: attachment` naming
   the file in Chinese (RFC 5987 `filename*=` plus an ASCII fallback).

`MEDIA_ROOT` itself is never routed (`PrivateFileSystemStorage.url` refuses to make a link).

An app registers each of its file fields in its `AppConfig.ready()`:

    files.register(
        "workflow_evidence",
        model="households.WorkflowStep",
        field="evidence",
        get_for_user=lambda user, object_id: ...,  # raises Http404 outside the scope
        page_url=lambda record: reverse(...),       # where the link is shown
    )

and links to a file with `{% load file_links %}{% file_url "workflow_evidence" record %}` in a
template or `files.download_url(user=..., kind=..., obj=...)` in Python.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core import signing
from django.core.signals import setting_changed
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.dispatch import receiver
from django.http import FileResponse, HttpResponseBase
from django.urls import reverse
from django.utils.http import content_disposition_header

from povertyapp.filenames import PrivateUploadTo as PrivateUploadTo  # re-exported: the door's names
from povertyapp.filenames import is_private_name, original_name

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from povertyapp.models import User

_SIGNING_SALT = "povertyapp.files.download"
# Ids beyond a 64-bit primary key cannot exist (and do not bind on SQLite): 404 without a query.
MAX_OBJECT_ID = 2**63 - 1


@receiver(setting_changed)
def _sendfile_follows_settings(*, setting: str, value: Any, **kwargs: Any) -> None:
    """Settings are read once at start-up in production; tests change them. django-sendfile2
    resolves paths against SENDFILE_ROOT (derived from MEDIA_ROOT in settings) and caches its
    backend, so keep both in step with what a test sets."""
    if setting == "MEDIA_ROOT" and value is not None:
        settings.SENDFILE_ROOT = str(value)
    if setting == "SENDFILE_BACKEND":
        from django_sendfile.utils import _get_sendfile

        _get_sendfile.cache_clear()


# --- file kinds --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    """A FileField that the door serves.

    `get_for_user(user, object_id)` is the owning app's scoped access path: it returns the object
    or raises Http404 when the user may not see it. `download_name(obj)` is the name the user's
    browser saves (default: the original name of the stored file). `page_url(obj)` is the page
    that shows the link, offered when a link has expired. `deleted_at(obj)` says when the file
    was deleted on purpose (the job clean-up), if it was.
    """

    key: str
    model: str
    field: str
    get_for_user: Callable[[User, int], Model]
    download_name: Callable[[Model], str] | None = None
    page_url: Callable[[Model], str] | None = None
    deleted_at: Callable[[Model], datetime | None] | None = None
    label: str | StrPromise = ""
    # An image kind (field photos) may also be served inline (`files:inline`), to be shown in
    # the page; every other kind is only ever a download.
    image: bool = False

    def file_of(self, obj: Model) -> FieldFile:
        return getattr(obj, self.field)

    def name_of(self, obj: Model) -> str:
        if self.download_name is not None:
            name = self.download_name(obj)
            if name:
                return name
        return original_name(self.file_of(obj).name or "")


_KINDS: dict[str, FileKind] = {}


def register(
    key: str,
    *,
    model: str,
    field: str,
    get_for_user: Callable[[User, int], Model],
    download_name: Callable[[Any], str] | None = None,
    page_url: Callable[[Any], str] | None = None,
    deleted_at: Callable[[Any], datetime | None] | None = None,
    label: str | StrPromise = "",
    image: bool = False,
) -> FileKind:
    """Register a FileField with the door (an app's `AppConfig.ready()`). Registering the same
    key twice with a different model or field is a programming error."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise ValueError(f"bad file kind key {key!r}")
    existing = _KINDS.get(key)
    if existing is not None and (existing.model, existing.field) != (model, field):
        raise ValueError(f"file kind {key!r} is already registered for {existing.model}")
    kind = FileKind(
        key=key,
        model=model,
        field=field,
        get_for_user=get_for_user,
        download_name=download_name,
        page_url=page_url,
        deleted_at=deleted_at,
        label=label,
        image=image,
    )
    _KINDS[key] = kind
    return kind


def kinds() -> list[FileKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.key)


def kind_get(key: str) -> FileKind | None:
    return _KINDS.get(key)


def kind_for_field(model: str, field: str) -> FileKind | None:
    """The kind registered for `app_label.ModelName` and field (model label case-insensitive)."""
    for kind in _KINDS.values():
        if kind.model.lower() == model.lower() and kind.field == field:
            return kind
    return None


@dataclass
class RenameReport:
    renamed: int = 0
    missing: list[str] = dataclass_field(default_factory=list)


def legacy_names_privatise(*, dry_run: bool = False) -> RenameReport:
    """Give every stored file of every registered kind stored before the door existed (names
    such as `rectification/2026/12/整改佐证-12.pdf`) its unguessable name, moving the file on
    disk and the name on its row. Idempotent: private names are left alone. Files a row names
    but the disk lacks are reported, not touched."""
    from django.apps import apps

    report = RenameReport()
    for kind in kinds():
        model = apps.get_model(kind.model)
        field = model._meta.get_field(kind.field)
        rows = model._default_manager.exclude(**{kind.field: ""}).only("pk", kind.field)
        for obj in rows.iterator():
            old_name = getattr(obj, kind.field).name
            if is_private_name(old_name):
                continue
            storage = getattr(obj, kind.field).storage
            if not storage.exists(old_name):
                report.missing.append(f"{kind.key} {obj.pk}: {old_name}")
                continue
            report.renamed += 1
            if dry_run:
                continue
            new_name = storage.get_available_name(
                field.generate_filename(obj, original_name(old_name)),
                max_length=field.max_length,
            )
            new_path = storage.path(new_name)
            os.makedirs(os.path.dirname(new_path), exist_ok=True)
            os.replace(storage.path(old_name), new_path)
            model._default_manager.filter(pk=obj.pk).update(**{kind.field: new_name})
    return report


# --- links ---------------------------------------------------------------------------------------


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SIGNING_SALT)


def _signed_value(kind: FileKind, obj: Model, user: User) -> str:
    return f"{kind.key}:{obj.pk}:{user.pk}:{kind.file_of(obj).name or ''}"


def download_url(*, user: User, kind: str, obj: Model, inline: bool = False) -> str:
    """The door's link to `obj`'s file for `user`: valid for `FILE_LINK_MAX_AGE` seconds, for
    this user, this object and this stored file only (a replaced file needs a new link).
    `inline`: the link that shows an image kind's file in the page (`files:inline`), with the
    same checks."""
    file_kind = _KINDS[kind]
    if inline and not file_kind.image:
        raise ValueError(f"file kind {kind!r} is not an image kind")
    value = _signed_value(file_kind, obj, user)
    token = _signer().sign(value)[len(value) + 1 :]
    view = "files:inline" if inline else "files:download"
    url = reverse(view, kwargs={"kind": kind, "object_id": obj.pk})
    return f"{url}?{urlencode({'t': token})}"


class LinkExpired(Exception):
    """The link's signature is right but older than `FILE_LINK_MAX_AGE`."""


class LinkInvalid(Exception):
    """The link was not issued for this user, object and file (or was altered)."""


def link_check(*, user: User, kind: FileKind, obj: Model, token: str) -> None:
    value = _signed_value(kind, obj, user)
    try:
        _signer().unsign(f"{value}:{token}", max_age=settings.FILE_LINK_MAX_AGE)
    except signing.SignatureExpired as error:
        raise LinkExpired from error
    except signing.BadSignature as error:
        raise LinkInvalid from error


# --- responses --------------------------------------------------------------------------------


def ascii_fallback(filename: str, default_stem: str = "download") -> str:
    """An ASCII-only name for clients that ignore `filename*`: the name with non-ASCII letters
    dropped, or `default_stem` plus the extension when nothing readable is left."""
    stem, extension = os.path.splitext(filename)
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    folded = re.sub(r"[^A-Za-z0-9._-]+", "_", folded).strip("._-")
    extension = re.sub(r"[^A-Za-z0-9.]", "", extension)
    if not re.search(r"[A-Za-z]", folded):
        folded = f"{default_stem}-{folded}" if folded else default_stem
    return folded + extension


def content_disposition(filename: str, *, default_stem: str = "download") -> str:
    """`attachment; filename="<ASCII fallback>"; filename*=UTF-8''<the name, RFC 5987>`.

    Quoting is Django's (`content_disposition_header`) for the fallback and the standard
    library's percent-encoding for the UTF-8 name, so no character of a user's file name can
    end the header or add one."""
    fallback = ascii_fallback(filename, default_stem)
    header = content_disposition_header(True, fallback) or "attachment"
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def mark_download(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    """The headers every download carries, whether a stored file or one generated for the
    request: attachment with its Chinese name, never stored by a browser or proxy cache, never
    sniffed into something executable."""
    response["Content-Disposition"] = content_disposition(filename)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def mark_inline_image(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    """The headers of an image shown in the page (`files:inline`): as `mark_download`, but
    `inline` so that the browser draws it; the content type is the image's own and nosniff
    keeps the browser from reading it as anything else."""
    mark_download(response, filename)
    response["Content-Disposition"] = (
        "inline" + response["Content-Disposition"][len("attachment") :]
    )
    return response


def workbook_download(path: str, filename: str) -> HttpResponseBase:
    """A workbook written for this request (not stored): streamed, then gone, with the headers
    of every download (`mark_download`). The ledger pages and the household import's template
    send theirs this way."""
    handle = open(path, "rb")  # noqa: SIM115 - closed by the response
    os.unlink(path)  # the open handle keeps the data until the response is sent
    response = FileResponse(
        handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return mark_download(response, filename)


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The file's SHA-256, read in blocks (never the whole file in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
