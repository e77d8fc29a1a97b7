"""A streaming .xlsx sheet reader on the standard library (zipfile + pyexpat).

Why not openpyxl: its read-only mode builds a cell object and a dict per cell through several
Python calls; the import reads ~15 million cells for 100k households, and that per-cell
overhead was 28 % of the import. Here the sheet's XML goes through pyexpat with a few small
callbacks per cell (no element objects), and rows are yielded as plain value tuples, one at a
time (memory does not grow with the sheet). The small parts (workbook, relationships, styles,
shared strings) are read with the C ElementTree pull parser.

Values are what openpyxl's read-only, data-only mode returns: str (shared, inline and formula
strings; rich text joined, phonetic runs left out; the `_xHHHH_` escapes of shared and inline
strings decoded, where openpyxl decodes them in shared strings only), int or float for
numbers, bool, datetime for numbers in a date format (the workbook's 1900/1904 calendar),
the cached value of a formula, None for an empty cell. Error cells (#N/A...) are returned as
their text.

Safety (with `safety.check_xlsx`, which has already checked sizes and ratios from the central
directory before this module inflates anything):
- every part is read through zipfile, which never inflates past the declared size;
- a part declaring a DOCTYPE (the only place entities can be declared) is refused with
  `UnsafeXml` before the parser sees it: each chunk is searched for `<!DOCTYPE` and `<!ENTITY`
  (in UTF-8 XML these bytes can only be markup: text holds `&lt;`), and a part must be UTF-8
  (no BOM of UTF-16/32, no other declared encoding) so that the search cannot be evaded;
  without a DTD, expat refuses any entity other than the five predefined ones. The sheet
  parser also refuses a DOCTYPE, entity declarations and external entities in its handlers
  (defence in depth, as defusedxml does);
- the shared-string table and the styles are read once, each part at most its declared size.
"""

from __future__ import annotations

import datetime
import pyexpat
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # ISO strict
)
RELATIONSHIP_NAMESPACES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
CHUNK = 1 << 16
# Built-in number formats that show dates, including the CJK ones (27–36, 50–58) whose codes
# openpyxl does not list.
BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_UNSAFE = (b"<!DOCTYPE", b"<!ENTITY")
_OVERLAP = max(len(marker) for marker in _UNSAFE) - 1
_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class UnsafeXml(Exception):
    """A part declares a DOCTYPE or entities, or uses an encoding the guard cannot check."""


class UnreadableWorkbook(Exception):
    """The package is not a readable workbook (missing parts, malformed XML)."""


def _tags(local: str) -> frozenset[str]:
    return frozenset(f"{{{namespace}}}{local}" for namespace in MAIN_NAMESPACES)


TEXT, RUN = _tags("t"), _tags("r")
SHEET, STRING_ITEM, NUMBER_FORMAT, WORKBOOK_PROPERTIES = (
    _tags(name) for name in ("sheet", "si", "numFmt", "workbookPr")
)


class _Guard:
    """Checks the raw bytes of one part before they reach the parser."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tail = b""
        self.first = True

    def check(self, chunk: bytes) -> None:
        if self.first:
            self.first = False
            head = chunk.lstrip(b"\xef\xbb\xbf")  # a UTF-8 BOM is fine
            if (
                head[:2] in (b"\xff\xfe", b"\xfe\xff")
                or head[:1] == b"\x00"
                or (head[:1] == b"<" and head[1:2] == b"\x00")
            ):
                raise UnsafeXml(self.name)
            declared = _ENCODING.match(head)
            if declared and declared.group(1).lower().replace(b"_", b"-") not in (
                b"utf-8",
                b"utf8",
            ):
                raise UnsafeXml(self.name)
        window = self.tail + chunk
        if any(marker in window for marker in _UNSAFE):
            raise UnsafeXml(self.name)
        self.tail = window[-_OVERLAP:]


def _text_of(element: ElementTree.Element) -> str:
    """The text of a shared string item or inline string: plain `<t>`, or the runs' `<t>`,
    without phonetic (furigana) runs."""
    parts = []
    for child in element:
        tag = child.tag
        if tag in TEXT:
            parts.append(child.text or "")
        elif tag in RUN:
            for grandchild in child:
                if grandchild.tag in TEXT:
                    parts.append(grandchild.text or "")
    return "".join(parts)


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def decode_escapes(text: str) -> str:
    """Undo the OOXML `_xHHHH_` escapes of shared and inline strings (ST_Xstring): a CR is
    stored as `_x000D_`, a literal `_x000D_` as `_x005F_x000D_`. Decoded once, here."""
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


_COLUMNS: dict[str, int] = {}


def column_index(letters: str) -> int:
    """0-based index of a column's letters (A → 0, AB → 27)."""
    index = _COLUMNS.get(letters)
    if index is None:
        index = 0
        for letter in letters:
            index = index * 26 + (ord(letter) - 64)
        index -= 1
        if len(_COLUMNS) < 20000:
            _COLUMNS[letters] = index
    return index


class XlsxReader:
    """Open with `XlsxReader(path)`; `sheets()` lists (title, part); `rows(part)` streams."""

    def __init__(self, path: str) -> None:
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise UnreadableWorkbook(str(error)) from None
        try:
            self._workbook()
            self._styles()
            self._shared_strings()
        except BaseException:
            self.archive.close()
            raise

    def close(self) -> None:
        self.archive.close()

    def __enter__(self) -> XlsxReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- whole parts ------------------------------------------------------------------------

    def _events(self, name: str, wanted: frozenset[str] | None = None) -> Iterator[Any]:
        """End events of a part's elements (all, or those whose tag is in `wanted`)."""
        try:
            stream = self.archive.open(name)
        except KeyError:
            return
        except (zipfile.BadZipFile, OSError, RuntimeError) as error:
            raise UnreadableWorkbook(f"{name}: {error}") from None
        guard = _Guard(name)
        parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(
            events=("end",)
        )
        try:
            with stream:
                while True:
                    try:
                        chunk = stream.read(CHUNK)
                    except (zipfile.BadZipFile, OSError, EOFError) as error:
                        raise UnreadableWorkbook(f"{name}: {error}") from None
                    if not chunk:
                        break
                    guard.check(chunk)
                    parser.feed(chunk)
                    yield from _ended(parser, wanted)
                parser.close()
                yield from _ended(parser, wanted)
        except ElementTree.ParseError as error:
            raise UnreadableWorkbook(f"{name}: {error}") from None

    def _relationships(self, name: str) -> dict[str, str]:
        folder, _slash, base = name.rpartition("/")
        targets = {}
        for element in self._events(f"{folder}/_rels/{base}.rels"):
            if element.tag == f"{{{PACKAGE_RELATIONSHIPS}}}Relationship":
                target = element.get("Target", "")
                if target.startswith("/"):
                    path = target[1:]
                else:
                    parts = (folder.split("/") if folder else []) + target.split("/")
                    resolved: list[str] = []
                    for part in parts:
                        if part == "..":
                            if resolved:
                                resolved.pop()
                        elif part and part != ".":
                            resolved.append(part)
                    path = "/".join(resolved)
                targets[element.get("Id", "")] = path
        return targets

    def _workbook_part(self) -> str:
        for element in self._events("_rels/.rels"):
            if element.tag == f"{{{PACKAGE_RELATIONSHIPS}}}Relationship" and element.get(
                "Type", ""
            ).endswith("/officeDocument"):
                return element.get("Target", "").lstrip("/")
        return "xl/workbook.xml"

    def _workbook(self) -> None:
        self.workbook_part = self._workbook_part()
        relationships = self._relationships(self.workbook_part)
        self._sheets: list[tuple[str, str]] = []
        self.epoch = CALENDAR_WINDOWS_1900
        found = False
        for element in self._events(self.workbook_part):
            if element.tag in WORKBOOK_PROPERTIES:
                if element.get("date1904", "").lower() in ("1", "true"):
                    self.epoch = CALENDAR_MAC_1904
            elif element.tag in SHEET:
                found = True
                rid = next(
                    (
                        element.get(f"{{{ns}}}id")
                        for ns in RELATIONSHIP_NAMESPACES
                        if element.get(f"{{{ns}}}id")
                    ),
                    None,
                )
                target = relationships.get(rid or "")
                if target:
                    self._sheets.append((element.get("name", ""), target))
        if not found:
            raise UnreadableWorkbook("no sheets")
        self._parts = {
            "styles": next(
                (t for t in relationships.values() if t.endswith("styles.xml")), "xl/styles.xml"
            ),
            "strings": next(
                (t for t in relationships.values() if t.endswith("haredStrings.xml")),
                "xl/sharedStrings.xml",
            ),
        }

    def _styles(self) -> None:
        """Which cell formats (`s` attribute values) show numbers as dates."""
        custom: dict[int, str] = {}
        self.date_styles: set[str] = set()
        cell_xfs = _tags("cellXfs")
        for element in self._events(self._parts["styles"], NUMBER_FORMAT | cell_xfs):
            if element.tag in NUMBER_FORMAT:
                try:
                    custom[int(element.get("numFmtId", "-1"))] = element.get("formatCode", "")
                except ValueError:
                    continue
                continue
            # The end of <cellXfs>: its children are the cell formats, numbered in order.
            for index, xf in enumerate(element):
                try:
                    number_format = int(xf.get("numFmtId", "0"))
                except ValueError:
                    continue
                code = custom.get(number_format, BUILTIN_FORMATS.get(number_format, ""))
                if (code and is_date_format(code)) or number_format in BUILTIN_DATE_FORMATS:
                    self.date_styles.add(str(index))

    def _shared_strings(self) -> None:
        self.strings: list[str] = []
        append = self.strings.append
        for element in self._events(self._parts["strings"], STRING_ITEM):
            text = _text_of(element)
            append(decode_escapes(text) if "_x" in text else text)
            element.clear()

    # --- sheets -----------------------------------------------------------------------------

    def sheets(self) -> list[tuple[str, str]]:
        """(title, part name) of each worksheet, in workbook order."""
        return [(title, part) for title, part in self._sheets if part in self.archive.NameToInfo]

    def rows(self, part: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(Excel row number, values from column A) of each row present in the sheet.

        Parsed with pyexpat callbacks (no element objects): a cell costs a handful of Python
        calls. A DOCTYPE or entity declaration raises UnsafeXml from the parser itself too."""
        strings = self.strings
        known_columns = _COLUMNS
        date_styles = self.date_styles
        epoch = self.epoch
        done: list[tuple[int, tuple[Any, ...]]] = []
        tags: dict[str, str] = {}
        number = 0
        values: list[Any] = []
        column = -1
        cell_reference: str | None = None
        skipped: str | None = None  # the reference of the last empty cell, if it was the last
        cell_kind: str | None = None
        cell_style: str | None = None
        text: list[str] = []
        capture = False
        phonetic = False
        inline = False

        def start(name: str, attributes: dict[str, str]) -> None:
            nonlocal number, values, column, cell_reference, cell_kind, cell_style, capture
            nonlocal phonetic, inline, skipped
            tag = tags.get(name)
            if tag is None:
                tag = tags[name] = name.rpartition(":")[2]
            if tag == "c":
                cell_reference = attributes.get("r")
                cell_kind = attributes.get("t")
                cell_style = attributes.get("s")
                inline = False
                text.clear()
            elif tag == "is":
                inline = True
            elif tag == "v" or (tag == "t" and not phonetic):
                capture = True
            elif tag == "row":
                found = attributes.get("r")
                number = int(found) if found else number + 1
                values = []
                column = -1
                skipped = None
            elif tag == "rPh":
                phonetic = True

        def end(name: str) -> None:
            nonlocal column, capture, phonetic, skipped
            tag = tags[name]
            if tag == "c":
                kind = cell_kind
                if not text and kind != "inlineStr":  # an empty (formatted) cell: no value
                    if cell_reference:
                        skipped = cell_reference  # its column, worked out only if needed
                    else:
                        column = _after(column, skipped)
                        skipped = None
                    return
                if cell_reference:
                    letters = cell_reference.rstrip("0123456789")
                    found = known_columns.get(letters)
                    column = column_index(letters) if found is None else found
                else:
                    column = _after(column, skipped)
                skipped = None
                if not text:
                    if inline:  # <is><t/></is>: "", as openpyxl has it
                        values_place(column, "")
                    return
                raw = "".join(text) if len(text) > 1 else text[0]
                value: Any
                if kind == "inlineStr":
                    value = decode_escapes(raw) if "_x" in raw else raw
                elif kind == "str" or kind == "e":
                    value = raw
                elif kind is None or kind == "n":
                    if not raw:
                        return
                    value = float(raw) if "." in raw or "E" in raw or "e" in raw else int(raw)
                    if cell_style in date_styles:
                        try:
                            value = from_excel(value, epoch)
                        except (OverflowError, ValueError):
                            value = "#VALUE!"
                elif kind == "s":
                    value = strings[int(raw)]
                elif kind == "b":
                    value = raw.strip() not in ("0", "false")
                elif kind == "d":
                    value = _iso_date(raw)
                else:
                    value = raw
                if column == len(values):  # the usual case: the next cell of the row
                    values.append(value)
                else:
                    values_place(column, value)
            elif tag == "v" or tag == "t":
                capture = False
            elif tag == "row":
                done.append((number, tuple(values)))
            elif tag == "rPh":
                phonetic = False

        def values_place(index: int, value: Any) -> None:
            gap = index - len(values)
            if gap > 0:
                values.extend([None] * gap)
            if gap >= 0:
                values.append(value)
            else:  # cells out of order: unusual but legal
                values[index] = value

        def characters(data: str) -> None:
            if capture:
                text.append(data)

        def refuse(*_args: Any) -> Any:
            raise UnsafeXml(part)

        parser = pyexpat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = CHUNK
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = characters
        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.ExternalEntityRefHandler = refuse
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        try:
            stream = self.archive.open(part)
        except (KeyError, zipfile.BadZipFile, OSError, RuntimeError) as error:
            raise UnreadableWorkbook(f"{part}: {error}") from None
        guard = _Guard(part)
        with stream:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except (zipfile.BadZipFile, OSError, EOFError) as error:
                    raise UnreadableWorkbook(f"{part}: {error}") from None
                guard.check(chunk)
                try:
                    parser.Parse(chunk, not chunk)
                except pyexpat.ExpatError as error:
                    raise UnreadableWorkbook(f"{part}: {error}") from None
                if done:
                    yield from done
                    done.clear()
                if not chunk:
                    return


def _after(column: int, skipped: str | None) -> int:
    """The column of a cell without a reference: the one after the previous cell (an empty
    cell with a reference, when that was the previous one)."""
    if skipped is not None:
        column = column_index(skipped.rstrip("0123456789"))
    return column + 1


def _ended(
    parser: ElementTree.XMLPullParser[ElementTree.Element], wanted: frozenset[str] | None
) -> Iterator[ElementTree.Element]:
    for event in parser.read_events():
        element = event[-1]  # ("end", element): only end events are asked for
        if isinstance(element, ElementTree.Element) and (wanted is None or element.tag in wanted):
            yield element


def _iso_date(text: str) -> Any:
    try:
        return datetime.datetime.fromisoformat(text.rstrip("Z"))
    except ValueError:
        return text
