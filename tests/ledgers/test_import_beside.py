"""The households sheet read in a second process (`households.imports.beside`): every import
gives the same report, the same rows and the same refusals whichever process reads the sheet,
and a reader process that fails costs the import nothing but time."""

from __future__ import annotations

import logging
import os

import openpyxl
import pytest
from django.utils import translation

from households.imports import ImportRefused, beside, import_households
from households.imports import report as import_report
from households.models import Household
from tests.ledgers.test_import import (
    _bulk_workbook,
    _export,
    _members_with_errors,
    _snapshot,
    _varied_households,
    _wipe_registry,
)


def _errors(report) -> list[tuple]:
    return [(e.sheet, e.row, e.column, e.value, e.message, e.column_index) for e in report.errors]


def _workbook_with_errors(path: str, household_b) -> None:
    """Errors in both sheets: unreadable cells (whose rules must not report them again),
    duplicates, scope, value lists, and a household with no members."""
    existing_id = household_b.members.first().id_number
    workbook = openpyxl.Workbook()
    households = workbook.active
    households.append(
        ["户编号", "乡（镇）", "行政村", "户状态", "主要致贫原因", "耕地面积（亩）", "脱贫年度"]
    )
    households.append(["N1", "新州镇", "凤场村", "未脱贫", "因穷", "三亩", None])
    households.append(["N1", "新州镇", "凤场村", "未脱贫", "因病", 1, None])
    households.append(["N2", "旧州镇", "西垭村", "未脱贫", "因病", 1, None])
    households.append(["N3", "新州镇", "凤场村", "未脱贫", "因病", 1, None])
    households.append(["N4", "新州镇", "凤场村", "未脱贫", "因病", "x", None])
    # An exited household's 脱贫年度 that cannot be read: reported once, as unreadable, not
    # again by the rule that an exited household needs one.
    households.append(["N5", "新州镇", "凤场村", "已脱贫", "因病", 1, "去年"])
    members = _members_with_errors(workbook, existing_id)
    members.append(["", "戊", "", "男", "", "之子"])
    workbook.save(path)


def test_a_round_trip_writes_the_same_households(tmp_path, cast, county, reading):
    _varied_households(cast, county)
    before = _snapshot()
    path = _export(tmp_path, cast.county)
    _wipe_registry()
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert (_errors(report), report.written) == ([], True)
    assert (report.households_created, report.members_created) == (3, 5)
    assert _snapshot() == before


def test_the_same_errors_in_the_same_order(
    tmp_path, cast, county, household_b, settings, monkeypatch, imports_dir
):
    """Both ways, side by side: the report of the reader process equals the in-process one,
    error for error (masked values, column indexes, order), in Chinese and in English."""
    path = str(tmp_path / "errors.xlsx")
    _workbook_with_errors(path, household_b)
    monkeypatch.setattr(beside, "_cores", lambda: 2)
    delivered: list[int | None] = []
    take = beside.HouseholdSheetReader.take
    monkeypatch.setattr(
        beside.HouseholdSheetReader,
        "take",
        lambda self, *args: delivered.append(take(self, *args)) or delivered[-1],
    )
    found = {}
    for language in ("zh-hans", "en"):
        for threshold in (0, 1):
            settings.LEDGER_IMPORT_BESIDE_BYTES = threshold
            with translation.override(language):
                report = import_households(actor=cast.cadre, path=path, dry_run=True)
            found[language, threshold] = (_errors(report), report.error_count)
    assert found["zh-hans", 0] == found["zh-hans", 1]
    assert found["en", 0] == found["en", 1]
    errors = found["zh-hans", 1][0]
    assert ("Sheet", 2, "耕地面积（亩）", "三亩", "应为数字。", 5) in errors
    assert [e for e in errors if e[0] == "Sheet" and e[1] == 2 and e[2] == "主要致贫原因"]
    english = [e[4] for e in found["en", 1][0] if e[0] == "Sheet" and e[1] == 2]
    assert "应为数字。" not in english and any("number" in m.lower() for m in english), english
    # The unreadable cell is reported once, not again by the rule it then fails.
    assert [e[:3] for e in errors].count(("Sheet", 6, "耕地面积（亩）")) == 1
    exit_year = [e[3:5] for e in errors if e[:3] == ("Sheet", 7, "脱贫年度")]
    assert exit_year == [("去年", "应为整数。")], exit_year
    assert Household.objects.filter(number__startswith="N").count() == 0
    assert delivered == [6, 6]  # the reader read the six rows, in both languages
    assert os.listdir(imports_dir) == []


def test_errors_past_the_detail_limit_are_counted_the_same(
    tmp_path, cast, county, monkeypatch, reading
):
    """The reader process keeps its own details up to its own limit; merged, the report keeps
    the first ERROR_DETAIL_LIMIT and counts the rest, as an in-process read does."""
    monkeypatch.setattr(import_report, "ERROR_DETAIL_LIMIT", 5)
    path = str(tmp_path / "many.xlsx")
    workbook = openpyxl.Workbook()
    households = workbook.active
    households.append(["户编号", "乡（镇）", "行政村", "户状态", "耕地面积（亩）"])
    members = workbook.create_sheet()
    members.append(["户编号", "姓名", "证件号码", "与户主关系"])
    members.append(["", "甲", "", "户主"])
    for index in range(12):
        households.append([f"N{index}", "新州镇", "凤场村", "未脱贫", "三亩"])
    workbook.save(path)
    report = import_households(actor=cast.county, path=path, dry_run=True)
    # Kept: the first five found (the members sheet's, then the households sheet's cells),
    # shown households sheet first.
    assert [(error.sheet, error.row) for error in report.errors] == [
        ("Sheet", 2),
        ("Sheet", 3),
        ("Sheet", 4),
        ("Sheet", 5),
        ("Sheet1", 2),
    ]
    assert report.error_count > 12


def test_the_row_limit_of_the_import_holds_in_the_reader(tmp_path, settings, cast, county, reading):
    """The limit is the import's, passed to the reader process (a settings override of the
    running process included), and its refusal is the import's, word for word."""
    settings.LEDGER_IMPORT_MAX_ROWS = 10
    path = str(tmp_path / "rows.xlsx")
    workbook = openpyxl.Workbook()
    households = workbook.active
    households.title = "户台账"
    households.append(["户编号", "乡（镇）", "行政村", "户状态"])
    for index in range(11):
        households.append([f"N{index}", "新州镇", "凤场村", "未脱贫"])
    members = workbook.create_sheet("人员台账")
    members.append(["户编号", "姓名", "证件号码", "与户主关系"])
    workbook.save(path)
    with pytest.raises(ImportRefused) as caught:
        import_households(actor=cast.county, path=path, dry_run=True)
    assert str(caught.value) == "工作表“户台账”超过10行的上限，请分批导入。"
    if reading == "beside":
        return  # the fixture checks the reader delivered (its refusal) and left no file
    assert Household.objects.count() == 0


def test_a_refused_members_sheet_stops_the_reader(tmp_path, settings, cast, county, imports_dir):
    """The members sheet is read while the reader runs: its refusal ends the reader process
    and removes both staging files."""
    settings.LEDGER_IMPORT_BESIDE_BYTES = 1
    settings.LEDGER_IMPORT_MAX_ROWS = 10
    started: list[beside.HouseholdSheetReader] = []
    start = beside.HouseholdSheetReader.start.__func__

    def recorded(cls, *args):
        reader = start(cls, *args)
        started.append(reader)
        return reader

    from unittest import mock

    with (
        mock.patch.object(beside, "_cores", lambda: 2),
        mock.patch.object(beside.HouseholdSheetReader, "start", classmethod(recorded)),
    ):
        path = str(tmp_path / "rows.xlsx")
        _bulk_workbook(path, 11)
        with pytest.raises(ImportRefused) as caught:
            import_households(actor=cast.county, path=path, dry_run=True)
    assert "超过10行" in str(caught.value)
    assert started and started[0] is not None
    assert started[0].process.poll() is not None  # ended, not left running
    assert os.listdir(imports_dir) == []


@pytest.mark.parametrize(
    "child",
    [
        "import sys; sys.exit(3)",
        "import sys; sys.stdout.write('not json')",
        "import sys; sys.stdout.write('[1, 2]')",
    ],
)
def test_a_failed_reader_costs_the_import_nothing(
    tmp_path, settings, cast, county, imports_dir, monkeypatch, caplog, child
):
    """A reader that exits with an error or answers nonsense: the sheet is read in-process
    and the import writes what it would have written, with a warning in the log."""
    settings.LEDGER_IMPORT_BESIDE_BYTES = 1
    monkeypatch.setattr(beside, "_cores", lambda: 2)
    monkeypatch.setattr(beside, "CHILD", child)
    _varied_households(cast, county)
    before = _snapshot()
    path = _export(tmp_path, cast.county)
    _wipe_registry()
    with caplog.at_level(logging.WARNING, logger="households.imports.beside"):
        report = import_households(actor=cast.county, path=path, dry_run=False)
    assert (_errors(report), report.written, _snapshot()) == ([], True, before)
    assert any("reader failed" in record.getMessage() for record in caplog.records)
    assert os.listdir(imports_dir) == []


def test_a_reader_that_cannot_start_costs_the_import_nothing(
    tmp_path, settings, cast, county, imports_dir, monkeypatch
):
    settings.LEDGER_IMPORT_BESIDE_BYTES = 1
    monkeypatch.setattr(beside, "_cores", lambda: 2)

    def refused(*args, **kwargs):
        raise OSError("fork refused")

    monkeypatch.setattr(beside.subprocess, "Popen", refused)
    path = str(tmp_path / "good.xlsx")
    _bulk_workbook(path, 20)
    report = import_households(actor=cast.county, path=path, dry_run=False)
    assert (_errors(report), Household.objects.count()) == ([], 20)
    assert os.listdir(imports_dir) == []


def test_a_small_sheet_or_one_core_reads_in_process(tmp_path, settings, cast, county, imports_dir):
    """The default threshold keeps a small workbook in one process (starting Django in a
    second costs more than reading a few thousand rows), as does a machine of one core."""
    path = str(tmp_path / "good.xlsx")
    _bulk_workbook(path, 20)
    from households.imports.reading import _open, locate_sheets
    from households.imports.report import ImportReport

    workbook = _open(path)
    try:
        households, _members = locate_sheets(workbook, ImportReport(dry_run=True))
        assert settings.LEDGER_IMPORT_BESIDE_BYTES >= 1024 * 1024
        assert beside.HouseholdSheetReader.start(workbook, households, 10) is None
        settings.LEDGER_IMPORT_BESIDE_BYTES = 1
        from unittest import mock

        with mock.patch.object(beside, "_cores", lambda: 1):
            assert beside.HouseholdSheetReader.start(workbook, households, 10) is None
    finally:
        workbook.close()
    assert not imports_dir.exists() or os.listdir(imports_dir) == []
