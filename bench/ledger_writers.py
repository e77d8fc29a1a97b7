"""Benchmark of xlsx writers over the project's ledger layouts (not a test; issue 19).

    .venv/bin/python bench/ledger_writers.py                     # 20,000 rows per layout
    .venv/bin/python bench/ledger_writers.py --rows 100000 --ledgers households members
    PYTHONPATH=/tmp/candidates .venv/bin/python bench/ledger_writers.py   # with the candidates

For every sheet of every registered ledger (the layouts of `<app>/exports.py`: columns, kinds,
group paths) the same deterministic rows are written by each writer, each in its own
subprocess so that its CPU seconds and peak RSS are its own:

- `xlsxwriter-ledger`: today's path, `povertyapp.ledgers.layout.LedgerWorkbook` (XlsxWriter in
  constant-memory mode: title, letterhead, merged multi-row headers with 序号 merged down,
  formula-free 合计, freeze panes, widths, number and text formats, print titles). The
  baseline: every ratio is to it, measured in the same run.
- `xlsxwriter-raw`: XlsxWriter constant-memory `write_row` of the bare values, no layout (the
  floor of today's library).
- `rustpy-xlsxwriter` (PyPI, MIT, Rust `rust_xlsxwriter` inside): its only entry point is the
  table-shaped `write_worksheet` (one header row, the group rows as merge ranges above it);
  what it cannot do is listed in the output ("gaps") and the file is still written so that
  the time is comparable.
- `pyopenxlsx` (PyPI, BSD-3-Clause, C++ OpenXLSX inside): cell-level API; values appended row
  by row, merges, freeze panes and print titles; an in-memory document (see its RSS).

A candidate that is not importable is reported as missing (install them into a separate
directory and put it on PYTHONPATH; they are not project dependencies). Layouts whose sheets
cannot be built without a user and a database (they read the user's region) are named and
skipped. Rows are generated on the fly in every writer (the generation is the same for all and
is timed alone as `generate`). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRITERS = ("xlsxwriter-ledger", "xlsxwriter-raw", "rustpy-xlsxwriter", "pyopenxlsx")
BASELINE = "xlsxwriter-ledger"
MODULES = {"rustpy-xlsxwriter": "rustpy_xlsxwriter", "pyopenxlsx": "pyopenxlsx"}


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")
    import django

    django.setup()


def _layouts(keys: list[str] | None) -> tuple[list[tuple[str, int, Any]], list[str]]:
    """(ledger key, sheet index, SheetSpec) of every sheet that builds without a database, and
    the keys that need one."""
    from povertyapp import ledgers

    ledgers.discover()
    found, skipped = [], []
    for key in ledgers.ledger_keys():
        if keys and key not in keys:
            continue
        ledger = ledgers._LEDGERS[key]
        try:
            sheets = ledger.sheets(user=None, filters=ledger.default_filters())
        except Exception as error:  # the bench reports what it could not build
            skipped.append(f"{key} ({type(error).__name__})")
            continue
        found += [(key, index, sheet) for index, sheet in enumerate(sheets)]
    return found, skipped


def _value(kind: str, row: int, col: int) -> Any:
    """A deterministic value of a column kind: CJK text, 18-digit ID strings, yuan, dates."""
    from povertyapp.ledgers import layout

    if kind == layout.SENSITIVE:
        return f"52262219{row % 90 + 10:02d}0101{row % 10000:04d}"
    if kind in (layout.TEXT, layout.HEALTH):
        return f"黄平县新州镇第{(row * 7 + col) % 97}组"
    if kind == layout.INTEGER:
        return (row * 31 + col) % 9
    if kind in (layout.MONEY, layout.DECIMAL):
        return Decimal(row % 5000) + Decimal("0.25")
    if kind == layout.BOOLEAN:
        return (row + col) % 2 == 0
    return datetime.date(2019, 1, 1) + datetime.timedelta(days=(row + col) % 2000)


def _rows(sheet: Any, count: int):
    kinds = [column.kind for column in sheet.columns]
    for row in range(count):
        yield tuple(_value(kind, row, col) for col, kind in enumerate(kinds))


def _sheet(key: str, index: int) -> Any:
    from povertyapp import ledgers

    ledger = ledgers._LEDGERS[key]
    return ledger.sheets(user=None, filters=ledger.default_filters())[index]


def _write_ledger(sheet: Any, rows: int, path: str) -> list[str]:
    from dataclasses import replace

    from povertyapp.ledgers.layout import LedgerWorkbook, Letterhead

    spec = replace(sheet, rows=lambda: _rows(sheet, rows), count=lambda: rows)
    letterhead = Letterhead(unit="黄平县", person="bench", date=datetime.date(2026, 12, 4))
    with LedgerWorkbook(path, letterhead=letterhead, sensitive_visible=True) as workbook:
        workbook.write_sheet(spec)
    return []


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def _write_raw(sheet: Any, rows: int, path: str) -> list[str]:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet.name)
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    worksheet.write_row(0, 0, [column.header for column in sheet.columns])
    for number, values in enumerate(_rows(sheet, rows), start=1):
        for col, value in enumerate(values):
            value = _plain(value)
            if isinstance(value, datetime.date):
                worksheet.write_datetime(number, col, value, date_format)
            elif isinstance(value, str):
                worksheet.write_string(number, col, value)
            else:
                worksheet.write_number(number, col, value)
    workbook.close()
    return ["no layout (floor)"]


def _write_rustpy(sheet: Any, rows: int, path: str) -> list[str]:
    """The closest layout `rustpy_xlsxwriter.write_worksheet` can write, and its gaps."""
    import rustpy_xlsxwriter as rx

    from povertyapp.ledgers import layout

    columns = list(sheet.columns)
    depth = layout.header_depth(columns)
    header_row = 2 + depth - 1  # the leaf headers: the table's one header row
    gaps = []
    names, seen = ["序号"], {"序号"}
    for column in columns:
        name = column.header
        while name in seen:  # records are dicts keyed by header: a repeated leaf header collides
            name += " "
        if name != column.header:
            gaps.append(f"repeated header {column.header!r} made unique with a trailing space")
        seen.add(name)
        names.append(name)
    grid, merges = layout.header_grid(columns)
    ranges: list[tuple[Any, ...]] = [(0, 0, 0, len(columns), sheet.title)]
    for first_row, first_col, last_row, last_col in merges:
        label = grid[first_row][first_col]
        if 2 + last_row >= header_row:
            gaps.append("a leaf title (序号…) cannot be merged down into the header row")
            continue
        ranges.append((2 + first_row, first_col, 2 + last_row, last_col, label))
    formats = []
    for column in columns:
        number_format = {
            layout.MONEY: "#,##0.00",
            layout.DECIMAL: "0.00",
            layout.INTEGER: "0",
            layout.DATE: "yyyy-mm-dd",
        }.get(column.kind, "@")
        formats.append(rx.Format().set_num_format(number_format).set_border("thin"))
    totals = {names[index + 1]: "sum" for index, column in enumerate(columns) if column.total}
    if totals:
        gaps.append("合计 is a row of SUM formulas (totals_row), not the written sums")
    gaps.append("the letterhead row and group labels above the table are merge ranges only")

    def records():
        for number, values in enumerate(_rows(sheet, rows), start=1):
            record = {"序号": number}
            for name, value in zip(names[1:], values, strict=True):
                record[name] = _plain(value)
            yield record

    rx.write_worksheet(
        records(),
        path,
        sheet_name=sheet.name,
        freeze_row=header_row + 1,
        freeze_col=1,
        header_row=header_row,
        merge_ranges=ranges,
        column_widths=[6.0] + [float(max(layout.display_width(n) + 2, 10)) for n in names[1:]],
        column_formats=[rx.Format().set_num_format("0")] + formats,
        header_format=rx.Format().set_bold().set_border("thin"),
        totals_row=totals or None,
        totals_label="合计" if totals else None,
        page_setup={
            "landscape": True,
            "paper_size": 9,
            "fit_to_pages": (1, 0),
            "repeat_rows": (2, header_row),
            "footer": "&C第 &P 页，共 &N 页",
        },
    )
    return sorted(set(gaps))


def _write_pyopenxlsx(sheet: Any, rows: int, path: str) -> list[str]:
    import pyopenxlsx

    from povertyapp.ledgers import layout

    columns = list(sheet.columns)
    depth = layout.header_depth(columns)
    grid, merges = layout.header_grid(columns)
    workbook = pyopenxlsx.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet.name
    worksheet.append([sheet.title])
    worksheet.append(["填报单位：黄平县", "填报人：bench"])
    for labels in grid:
        worksheet.append(list(labels))
    for number, values in enumerate(_rows(sheet, rows), start=1):
        worksheet.append([number, *(_plain(value) for value in values)])

    def cell(row: int, col: int) -> str:
        from openpyxl.utils import get_column_letter

        return f"{get_column_letter(col + 1)}{row + 1}"

    worksheet.merge_cells(f"A1:{cell(0, len(columns))}")
    for first_row, first_col, last_row, last_col in merges:
        worksheet.merge_cells(f"{cell(2 + first_row, first_col)}:{cell(2 + last_row, last_col)}")
    worksheet.freeze_panes(2 + depth + 1, 1)
    worksheet.set_print_title_rows(3, 2 + depth)
    workbook.save(path)
    workbook.close()
    return ["no number formats, widths, page setup or 合计 written (values, merges, panes only)"]


def _generate(sheet: Any, rows: int, path: str) -> list[str]:
    """The rows alone, as every writer generates them (their share of each writer's time)."""
    for _values in _rows(sheet, rows):
        pass
    return []


def _child(writer: str, key: str, index: int, rows: int, path: str) -> None:
    _django()
    sheet = _sheet(key, index)
    write = {
        "xlsxwriter-ledger": _write_ledger,
        "xlsxwriter-raw": _write_raw,
        "rustpy-xlsxwriter": _write_rustpy,
        "pyopenxlsx": _write_pyopenxlsx,
        "generate": _generate,
    }[writer]
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    gaps = write(sheet, rows, path)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        json.dumps(
            {
                "cpu": cpu,
                "wall": wall,
                "rss_mb": after.ru_maxrss / 1024,
                "rss_before_mb": before.ru_maxrss / 1024,
                "size": os.path.getsize(path) if os.path.exists(path) else 0,
                "gaps": gaps,
            }
        )
    )


def _run(writer: str, key: str, index: int, rows: int, directory: str) -> dict[str, Any]:
    path = os.path.join(directory, f"{key}-{index}-{writer}.xlsx")
    command = [sys.executable, __file__, "--child", writer, key, str(index), str(rows), path]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:160]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if os.path.exists(path):
        os.remove(path)
    return result


def _available(writer: str) -> bool:
    module = MODULES.get(writer)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="data rows per layout")
    parser.add_argument("--ledgers", nargs="*", help="ledger keys (default: every ledger)")
    parser.add_argument("--writers", nargs="*", default=list(WRITERS), choices=WRITERS)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        writer, key, index, rows, path = arguments.child
        _child(writer, key, int(index), int(rows), path)
        return
    _django()
    layouts, skipped = _layouts(arguments.ledgers)
    writers = [writer for writer in arguments.writers if _available(writer)]
    missing = [writer for writer in arguments.writers if writer not in writers]
    print(f"load average before: {os.getloadavg()}")
    print(f"rows per layout: {arguments.rows:,}; writers: {', '.join(writers)}")
    if missing:
        print(f"not installed (skipped): {', '.join(missing)}")
    if skipped:
        print(f"layouts needing a user and a database (skipped): {', '.join(skipped)}")
    totals: dict[str, float] = {}
    gaps: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="ledger-writers-") as directory:
        for key, index, sheet in layouts:
            label = f"{key}/{sheet.name} ({len(sheet.columns) + 1} cols)"
            generate = _run("generate", key, index, arguments.rows, directory)
            print(f"\n{label}: generate {generate.get('cpu', 0):.2f} s CPU")
            base = None
            for writer in writers:
                result = _run(writer, key, index, arguments.rows, directory)
                if "error" in result:
                    print(f"  {writer:18} error: {result['error']}")
                    continue
                if writer == BASELINE:
                    base = result["cpu"]
                totals[writer] = totals.get(writer, 0.0) + result["cpu"]
                gaps.setdefault(writer, set()).update(result["gaps"])
                ratio = f"{result['cpu'] / base:.2f}×" if base else "-"
                print(
                    f"  {writer:18} {result['cpu']:7.2f} s CPU {result['wall']:7.2f} s wall "
                    f"peak RSS {result['rss_mb']:6.0f} MB "
                    f"(after setup {result['rss_before_mb']:.0f}) "
                    f"{result['size'] / 1e6:6.2f} MB file  {ratio} of {BASELINE}"
                )
    print("\nall layouts, CPU seconds:")
    base_total = totals.get(BASELINE)
    for writer, seconds in totals.items():
        ratio = f"{seconds / base_total:.2f}×" if base_total else "-"
        print(f"  {writer:18} {seconds:8.2f} s  {ratio}")
    for writer, found in gaps.items():
        for gap in sorted(found):
            print(f"  gap {writer}: {gap}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
