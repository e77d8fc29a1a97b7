"""The one door for uploaded files: every upload path of the project is checked here, before
anything parses or stores the file.

Spreadsheets (the household import, the 四类名单 upload, the assessment findings upload):

- `check_spreadsheet(upload, inline=...)`: the size limit, then the hostile-file guard of
  `povertyapp.ledgers.safety.check_xlsx` (content, not name; macros; zip bombs; XML entities).
  A workbook validated inside a web request (`inline=True`: 四类名单, findings) has the tighter
  UPLOAD_INLINE_MAX_BYTES / UPLOAD_INLINE_MAX_UNCOMPRESSED; one read by a job (the household
  import) has LEDGER_IMPORT_MAX_BYTES / LEDGER_IMPORT_MAX_UNCOMPRESSED.
- `limited_rows(sheet, limit=...)`: the rows of a sheet, refusing past the limit (inline:
  UPLOAD_INLINE_MAX_ROWS; a job: LEDGER_IMPORT_MAX_ROWS, enforced by the import's reader), so a
  200,000-row workbook is refused after reading UPLOAD_INLINE_MAX_ROWS rows, never validated.
- `capped_errors(errors)`: a page shows at most UPLOAD_ERRORS_SHOWN row errors, then a count.

Evidence (procedure and 公示 evidence, 整改 evidence): `check_evidence(upload)` — the size
limit (UPLOAD_EVIDENCE_MAX_BYTES), the content by its magic bytes (`filetype`: PDF, JPEG, PNG;
docx/xlsx as OOXML zip containers, which also pass the zip guard), and a file name whose
extension agrees with the content (an .exe or HTML page renamed .pdf is refused).

Form fields: `SpreadsheetField` and `EvidenceField` run these checks in `clean`; the meta-test
tests/povertyapp/test_uploads.py finds every FileField of every form and every view that reads
`request.FILES`, and fails for one that does not go through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import filetype
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from povertyapp.ledgers import safety

MB = 1024 * 1024

# Evidence: what the content may be, and the extensions each content may carry.
EVIDENCE_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": ("pdf",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
    "docx": ("docx",),
    "xlsx": ("xlsx",),
}
EVIDENCE_LABELS = {
    "application/pdf": "PDF",
    "image/jpeg": "JPG",
    "image/png": "PNG",
    "docx": "Word（docx）",
    "xlsx": "Excel（xlsx）",
}
IMAGES_AND_PDF = ("application/pdf", "image/jpeg", "image/png")
OOXML_MAIN_TYPES = {
    "docx": (b"wordprocessingml.document.main",),
    "xlsx": (b"spreadsheetml.sheet.main",),
}


def setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def inline_max_rows() -> int:
    return setting("UPLOAD_INLINE_MAX_ROWS", 5000)


def errors_shown() -> int:
    return setting("UPLOAD_ERRORS_SHOWN", 50)


def evidence_max_bytes() -> int:
    return setting("UPLOAD_EVIDENCE_MAX_BYTES", 20 * MB)


def _size(upload: IO[bytes]) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    upload.seek(0)
    return int(size)


def _too_large(size: int, limit: int) -> ValidationError:
    return ValidationError(
        _("文件过大（%(size).1f MB），上限为%(limit)d MB。")
        % {"size": size / MB, "limit": limit // MB},
        code="too_large",
    )


def check_spreadsheet(upload: IO[bytes], *, inline: bool) -> None:
    """Raise ValidationError (a Chinese message, a code) unless `upload` is a plain .xlsx within
    the limits of its path (`inline`: validated in a web request)."""
    if inline:
        max_bytes = setting("UPLOAD_INLINE_MAX_BYTES", 10 * MB)
        max_uncompressed = setting("UPLOAD_INLINE_MAX_UNCOMPRESSED", 100 * MB)
    else:
        max_bytes, max_uncompressed = safety.max_bytes(), safety.max_uncompressed()
    size = _size(upload)
    if size > max_bytes:
        raise _too_large(size, max_bytes)
    safety.check_xlsx(upload, uncompressed_limit=max_uncompressed)


def limited_rows(sheet: Any, *, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
    """The rows (values) of an openpyxl sheet; past `limit` rows (default
    UPLOAD_INLINE_MAX_ROWS, header included) a ValidationError ends the reading."""
    limit = inline_max_rows() if limit is None else limit
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > limit:
            raise ValidationError(
                _(
                    "工作表“%(sheet)s”超过%(limit)d行，不能在网页中直接校验。"
                    "请拆分为每个文件不超过%(limit)d行后分批上传。"
                )
                % {"sheet": sheet.title, "limit": limit},
                code="too_many_rows",
            )
        yield row


def capped_errors(errors: list[str], *, code: str = "invalid_row") -> ValidationError:
    """The row errors as one ValidationError, at most UPLOAD_ERRORS_SHOWN of them and a line
    saying how many more there are (a page with 200,000 messages helps nobody)."""
    shown = errors_shown()
    items = [ValidationError(error, code=code) for error in errors[:shown]]
    if len(errors) > shown:
        items.append(
            ValidationError(
                _("另有%(more)d条问题未列出（共%(total)d条）。请先修改以上问题后重新上传。")
                % {"more": len(errors) - shown, "total": len(errors)},
                code="more_errors",
            )
        )
    return ValidationError(items)


def check_evidence(upload: Any, *, accept: tuple[str, ...] = tuple(EVIDENCE_TYPES)) -> None:
    """Raise ValidationError unless `upload` is, by its content, one of `accept` (keys of
    EVIDENCE_TYPES: PDF, JPEG, PNG, docx, xlsx), named with a matching extension, within
    UPLOAD_EVIDENCE_MAX_BYTES. A hostile container (zip bomb, macros, XML entities) is refused
    as such whatever `accept` says."""
    size = _size(upload)
    if size > evidence_max_bytes():
        raise ValidationError(
            _("佐证材料不能超过%(limit)d MB（该文件%(size).1f MB）。")
            % {"limit": evidence_max_bytes() // MB, "size": size / MB},
            code="too_large",
        )
    if size == 0:
        raise ValidationError(_("文件是空的。"), code="empty")
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    content = kind.mime if kind is not None else ""
    if head[:4] == safety.ZIP_MAGIC:
        content = _ooxml_kind(upload)  # by the parts it declares, never by its name
    if content not in accept:
        raise ValidationError(
            _("佐证材料只能是以下格式：%(kinds)s；该文件的内容不是这些格式。")
            % {"kinds": "、".join(EVIDENCE_LABELS[kind] for kind in accept)},
            code="bad_type",
        )
    name = (getattr(upload, "name", "") or "").rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EVIDENCE_TYPES[content]:
        raise ValidationError(
            _("文件名的扩展名（.%(extension)s）与文件内容（%(content)s）不符，请检查后重新上传。")
            % {"extension": extension, "content": EVIDENCE_TYPES[content][0]},
            code="name_mismatch",
        )


def _ooxml_kind(upload: Any) -> str:
    """'docx' or 'xlsx' for a safe OOXML container, else '' (a zip that is neither, a bomb,
    macros: refused by the caller or here)."""
    for kind, main_types in OOXML_MAIN_TYPES.items():
        try:
            safety.check_ooxml(upload, main_types=main_types)
        except ValidationError as error:
            if error.code == "not_xlsx":
                continue  # another kind of container
            raise
        return kind
    upload.seek(0)
    return ""


class SpreadsheetField(forms.FileField):
    """A FileField for an .xlsx workbook: `check_spreadsheet` in `clean`."""

    def __init__(self, *args: Any, inline: bool = True, **kwargs: Any) -> None:
        self.inline = inline
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload:
            check_spreadsheet(upload, inline=self.inline)
        return upload


class EvidenceField(forms.FileField):
    """A FileField for evidence: `check_evidence` in `clean`, for the content kinds `accept`
    (default: every kind of EVIDENCE_TYPES)."""

    def __init__(self, *args: Any, accept: tuple[str, ...] = tuple(EVIDENCE_TYPES), **kwargs: Any):
        self.accept = accept
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload:
            check_evidence(upload, accept=self.accept)
        return upload


GUARDED_FIELDS = (SpreadsheetField, EvidenceField)

__all__ = [
    "EvidenceField",
    "SpreadsheetField",
    "capped_errors",
    "check_evidence",
    "check_spreadsheet",
    "limited_rows",
]
