"""Refusing hostile uploads before anything parses them.

Checked in this order, from the bytes and the zip central directory only (nothing is inflated
except `[Content_Types].xml`, and only after its declared size passed the limits):

1. size of the upload (LEDGER_IMPORT_MAX_BYTES);
2. content, not name: the zip local-header magic `PK\\x03\\x04`, a readable central directory,
   and a `[Content_Types].xml` part (an .xlsx is an OOXML zip);
3. macros: a `vbaProject.bin` part or a macro-enabled content type (.xlsm/.xltm) is refused;
4. zip bomb: the declared uncompressed sizes (total, LEDGER_IMPORT_MAX_UNCOMPRESSED) and each
   part's compression ratio (LEDGER_IMPORT_MAX_RATIO) and the part count. Python's zipfile
   never inflates a part past its declared size, so a lying header cannot get round this;
5. XML entity tricks: this module refuses a `<!DOCTYPE` or `<!ENTITY` in the content-types
   part itself; the household import's reader (`povertyapp/ledgers/reader.py`) refuses them in
   every part it reads (and accepts only UTF-8 parts, so the check cannot be evaded), and
   openpyxl, which reads the other uploads, parses with defusedxml (`openpyxl.DEFUSEDXML`).

Row counts (LEDGER_IMPORT_MAX_ROWS) are enforced while streaming the rows, so an oversized
sheet is refused before it has all been read.
"""

from __future__ import annotations

import zipfile
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ZIP_MAGIC = b"PK\x03\x04"
MACRO_CONTENT_TYPES = (b"macroEnabled", b"vbaProject", b"ms-office.activeX")


def limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_bytes() -> int:
    return limit("LEDGER_IMPORT_MAX_BYTES", 50 * 1024 * 1024)


def max_uncompressed() -> int:
    return limit("LEDGER_IMPORT_MAX_UNCOMPRESSED", 1024 * 1024 * 1024)


def max_ratio() -> int:
    return limit("LEDGER_IMPORT_MAX_RATIO", 200)


def max_rows() -> int:
    return limit("LEDGER_IMPORT_MAX_ROWS", 500_000)


MAX_PARTS = 2000


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


XLSX_MAIN_TYPES = (b"spreadsheetml.sheet.main", b"spreadsheetml.template.main")


def check_xlsx(handle: IO[bytes], *, uncompressed_limit: int | None = None) -> None:
    """Raise ValidationError (Chinese message, a code) unless the file is a plain .xlsx.
    Every spreadsheet upload comes here through `povertyapp.uploads.check_spreadsheet`."""
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    if size > max_bytes():
        raise _refuse(
            _("文件过大（%(size).1f MB），上限为%(limit)d MB。")
            % {"size": size / 1048576, "limit": max_bytes() // 1048576},
            "too_large",
        )
    check_ooxml(handle, main_types=XLSX_MAIN_TYPES, uncompressed_limit=uncompressed_limit)


def check_ooxml(
    handle: IO[bytes], *, main_types: tuple[bytes, ...], uncompressed_limit: int | None = None
) -> None:
    """The checks 2–5 above for any OOXML container (xlsx, docx) whose main part is one of
    `main_types`; a container of another kind is refused with code `not_xlsx`."""
    limit_uncompressed = uncompressed_limit or max_uncompressed()
    handle.seek(0)
    if handle.read(4) != ZIP_MAGIC:
        raise _refuse(
            _("文件不是Excel工作簿（.xlsx）。请在Excel或WPS中“另存为”xlsx格式后再上传。"),
            "not_xlsx",
        )
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _refuse(_("文件已损坏，无法读取。"), "not_xlsx") from None
    names = {part.filename for part in parts}
    if "[Content_Types].xml" not in names:
        raise _refuse(_("文件不是Excel工作簿（.xlsx）。"), "not_xlsx")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _refuse(
            _("文件包含宏（VBA），为安全起见不予导入。请另存为不含宏的.xlsx文件。"), "macros"
        )
    if len(parts) > MAX_PARTS:
        raise _refuse(_("文件结构异常（部件过多），不予导入。"), "zip_bomb")
    total = 0
    for part in parts:
        total += part.file_size
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > 1_000_000 and ratio > max_ratio():
            raise _refuse(
                _("文件解压后异常膨胀（压缩比%(ratio)d倍），疑似压缩炸弹，不予导入。")
                % {"ratio": ratio},
                "zip_bomb",
            )
    if total > limit_uncompressed:
        raise _refuse(
            _("文件解压后过大（%(size)d MB），上限为%(limit)d MB。")
            % {"size": total // 1048576, "limit": limit_uncompressed // 1048576},
            "zip_bomb",
        )
    content_types = archive.getinfo("[Content_Types].xml")
    if content_types.file_size > 1_000_000:
        raise _refuse(_("文件结构异常，不予导入。"), "zip_bomb")
    text = archive.read(content_types)
    if any(marker in text for marker in MACRO_CONTENT_TYPES):
        raise _refuse(
            _("文件包含宏（VBA），为安全起见不予导入。请另存为不含宏的.xlsx文件。"), "macros"
        )
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        raise _refuse(_("文件包含不安全的XML声明，不予导入。"), "xml_entities")
    if not any(main_type in text for main_type in main_types):
        raise _refuse(_("文件不是Excel工作簿（.xlsx）。"), "not_xlsx")
    handle.seek(0)
