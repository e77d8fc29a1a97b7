"""The one door for uploaded files: every upload path of the project is checked here, before
anything parses or stores the file.

Spreadsheets (the household import, the 四类名单 upload, the assessment findings upload, the
onboarding imports):

- `check_spreadsheet(upload, inline=...)`: the size limit, then the hostile-file guard of
  `povertyapp.ledgers.safety.check_xlsx` (content, not name; macros; zip bombs; XML entities).
  A workbook validated inside a web request (`inline=True`: 四类名单, findings) has the tighter
  UPLOAD_INLINE_MAX_BYTES / UPLOAD_INLINE_MAX_UNCOMPRESSED; one read by a job (the household
  import) has LEDGER_IMPORT_MAX_BYTES / LEDGER_IMPORT_MAX_UNCOMPRESSED.
- `limited_rows(sheet, limit=...)`: the rows of a sheet, refusing past the limit (inline:
  UPLOAD_INLINE_MAX_ROWS; a job: LEDGER_IMPORT_MAX_ROWS, enforced by the import's reader), so a
  200,000-row workbook is refused after reading UPLOAD_INLINE_MAX_ROWS rows, never validated.
- `check_table(upload, inline=...)`: a workbook as above, or a CSV file named .csv that is text
  in UTF-8 or GBK (the region codes as the statistics office publishes them).
- `capped_errors(errors)`: a page shows at most UPLOAD_ERRORS_SHOWN row errors, then a count.

Evidence (procedure and 公示 evidence, 整改 evidence): `check_evidence(upload)` — the size
limit (UPLOAD_EVIDENCE_MAX_BYTES), the content by its magic bytes (`filetype`: PDF, JPEG, PNG;
docx/xlsx as OOXML zip containers, which also pass the zip guard), and a file name whose
extension agrees with the content (an .exe or HTML page renamed .pdf is refused).

Large validation runs as a job: a workbook of more than UPLOAD_INLINE_MAX_ROWS rows (counted
cheaply, `count_rows`) is kept outside MEDIA_ROOT (`upload_keep`) and validated by a job
(`upload_validation_run`, up to LEDGER_IMPORT_MAX_ROWS rows); when it fails, the job page shows
the first UPLOAD_ERRORS_SHOWN errors and the job's result file is a workbook of all of them.

Form fields: `SpreadsheetField` and `EvidenceField` run these checks in `clean`; the meta-test
tests/povertyapp/test_uploads.py finds every FileField of every form and every view that reads
`request.FILES`, and fails for one that does not go through here.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

import filetype
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from povertyapp.ledgers import safety

if TYPE_CHECKING:
    from povertyapp.jobs import Progress
    from povertyapp.models import Job

MB = 1024 * 1024
KEPT_NAME = re.compile(r"[0-9a-f]{32}\.xlsx")

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
    """The most rows a web request validates; a larger workbook is validated by a job."""
    return setting("UPLOAD_INLINE_MAX_ROWS", 500)


def job_max_rows() -> int:
    return safety.max_rows()


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


def check_table(upload: IO[bytes], *, inline: bool) -> None:
    """A spreadsheet or a CSV text file (the statistics office publishes the division codes as
    CSV, in UTF-8 or GBK). Told apart by content, never by name alone: a zip container is
    checked as a workbook (`check_spreadsheet`); anything else is a CSV only when named .csv
    and when it is text in UTF-8 or GBK (no NUL bytes, no known binary signature)."""
    head = upload.read(8)
    upload.seek(0)
    name = (getattr(upload, "name", "") or "").lower()
    if head[:4] == safety.ZIP_MAGIC or not name.endswith(".csv"):
        check_spreadsheet(upload, inline=inline)
        return
    max_bytes = setting("UPLOAD_INLINE_MAX_BYTES", 10 * MB) if inline else safety.max_bytes()
    size = _size(upload)
    if size > max_bytes:
        raise _too_large(size, max_bytes)
    data = upload.read()
    upload.seek(0)
    not_text = ValidationError(
        _("文件不是CSV文本文件（应为UTF-8或GBK编码的文本），也不是Excel工作簿。"), code="not_csv"
    )
    if b"\0" in data or filetype.guess(data[:8192]) is not None:
        raise not_text
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return
    raise not_text


def limited_rows(sheet: Any, *, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
    """The rows (values) of an openpyxl sheet; past `limit` rows (default
    UPLOAD_INLINE_MAX_ROWS, what a request validates; a job passes `job_max_rows()`), header
    included, a ValidationError ends the reading."""
    inline = limit is None
    limit = inline_max_rows() if limit is None else limit
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > limit:
            if inline:
                raise ValidationError(
                    _(
                        "工作表“%(sheet)s”超过%(limit)d行，不能在网页中直接校验。"
                        "请拆分为每个文件不超过%(limit)d行后分批上传。"
                    )
                    % {"sheet": sheet.title, "limit": limit},
                    code="too_many_rows",
                )
            raise ValidationError(
                _("工作表“%(sheet)s”超过%(limit)d行的上限，请拆分后分批上传。")
                % {"sheet": sheet.title, "limit": limit},
                code="too_many_rows",
            )
        yield row


def count_rows(upload: IO[bytes], *, stop_after: int) -> int:
    """The rows of every sheet together, counted only up to `stop_after` + 1 (so a 200,000-row
    workbook costs `stop_after` rows of reading). 0 for a workbook openpyxl cannot open: the
    validation then reports it."""
    from openpyxl import load_workbook

    upload.seek(0)
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a broken file
        upload.seek(0)
        return 0
    total = 0
    try:
        for sheet in workbook.worksheets:
            for _row in sheet.iter_rows(values_only=True):
                total += 1
                if total > stop_after:
                    return total
        return total
    finally:
        workbook.close()
        upload.seek(0)


def needs_job(upload: IO[bytes]) -> bool:
    """Whether the (already checked) workbook has more rows than a request validates."""
    return count_rows(upload, stop_after=inline_max_rows()) > inline_max_rows()


def _kept_directory() -> str:
    # The household import's directory: outside MEDIA_ROOT (personal data), cleaned nightly
    # of files older than LEDGER_IMPORT_RETENTION_HOURS.
    directory = str(getattr(settings, "LEDGER_IMPORT_DIR", settings.BASE_DIR / "var" / "imports"))
    os.makedirs(directory, exist_ok=True)
    return directory


def upload_keep(upload: IO[bytes]) -> str:
    """Keep a checked upload for the job that validates it; returns its name."""
    name = f"{uuid.uuid4().hex}.xlsx"
    upload.seek(0)
    with open(os.path.join(_kept_directory(), name), "wb") as target:
        shutil.copyfileobj(upload, target)
    upload.seek(0)
    return name


def kept_path(name: str) -> str:
    if not KEPT_NAME.fullmatch(name or ""):
        raise ValueError("bad kept upload name")
    return os.path.join(_kept_directory(), name)


def upload_validation_run(
    job: Job, progress: Progress, apply: Callable[[IO[bytes]], dict[str, Any]]
) -> dict[str, Any]:
    """The body of a large-upload job: open the kept file (job.parameters["file"]) and call
    `apply` (the service, all or nothing, with the job's row limit). Refused: the error
    workbook of every problem goes to `job.result_file`, and the job fails with the first
    UPLOAD_ERRORS_SHOWN of them. The kept file is deleted either way."""
    from povertyapp.jobs import JobFailed

    try:
        path = kept_path(str(job.parameters.get("file", "")))
    except ValueError:
        raise JobFailed(_("上传的文件不存在，请重新上传。")) from None
    if not os.path.exists(path):
        raise JobFailed(_("上传的文件已过期或不存在，请重新上传。"))
    progress.set_total(1)
    try:
        with open(path, "rb") as handle:
            result = apply(handle)
    except ValidationError as error:
        messages = error.messages
        _errors_workbook(job, messages)
        shown = "\n".join(capped_errors(messages).messages)
        raise JobFailed(
            _("发现%(count)d个问题，文件中的记录均未保存。请修改后重新上传：")
            % {"count": len(messages)}
            + "\n"
            + shown
        ) from error
    finally:
        if os.path.exists(path):
            os.unlink(path)
    progress.advance(1)
    return result


def _errors_workbook(job: Job, messages: list[str]) -> None:
    from django.core.files import File
    from openpyxl import Workbook

    from povertyapp.models import Job as JobModel

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("问题清单"))
    sheet.append([_("序号"), _("问题")])
    for number, message in enumerate(messages, start=1):
        sheet.append([number, message])
    handle_number, path = tempfile.mkstemp(suffix=".xlsx", prefix="upload-errors-")
    os.close(handle_number)
    try:
        workbook.save(path)
        with open(path, "rb") as handle:
            job.result_file.save(_("问题清单.xlsx"), File(handle), save=False)
        JobModel.objects.filter(pk=job.pk).update(result_file=job.result_file.name)
    finally:
        os.unlink(path)


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
            % {"kinds": _("、").join(EVIDENCE_LABELS[kind] for kind in accept)},
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


class TableField(forms.FileField):
    """A FileField for an .xlsx workbook or a CSV file: `check_table` in `clean`."""

    def __init__(self, *args: Any, inline: bool = False, **kwargs: Any) -> None:
        self.inline = inline
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload:
            check_table(upload, inline=self.inline)
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


class MultiplePhotoInput(forms.ClearableFileInput):
    """A file input for photos taken on the spot: several at once, the back camera offered
    first (`capture="environment"`), enhanced by static/js/photo-resize.js (resize on the phone,
    the time taken, the location if the user ticks 记录位置)."""

    allow_multiple_selected = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(
            {
                "accept": "image/*",
                "capture": "environment",
                "multiple": True,
                "data-photo-input": "",
                **(attrs or {}),
            }
        )


class PhotoField(forms.FileField):
    """Photos of a visit or an 入户核实: each through `photos.photo_process` (JPEG/PNG by
    content, decoded, no bomb, re-encoded without EXIF) in `clean`; returns the processed
    photos (a list, empty when none was chosen)."""

    widget = MultiplePhotoInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        from povertyapp import photos

        uploads = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(uploads) > photos.max_per_owner():
            raise ValidationError(
                _("每条记录最多%(limit)d张照片（本次选择了%(count)d张）。")
                % {"limit": photos.max_per_owner(), "count": len(uploads)},
                code="too_many_photos",
            )
        result = []
        for upload in uploads:
            super().clean(upload, initial)
            try:
                result.append(photos.photo_process(upload))
            except ValidationError as error:
                name = (getattr(upload, "name", "") or "").rsplit("/", 1)[-1]
                raise ValidationError(
                    _("照片“%(name)s”：%(error)s") % {"name": name, "error": error.messages[0]},
                    code=error.code,
                ) from None
        return result


GUARDED_FIELDS = (SpreadsheetField, TableField, EvidenceField, PhotoField)

__all__ = [
    "EvidenceField",
    "PhotoField",
    "SpreadsheetField",
    "TableField",
    "capped_errors",
    "check_evidence",
    "check_spreadsheet",
    "check_table",
    "limited_rows",
]
