"""Every ledger kind opens in LibreOffice (headless CSV conversion) with ID numbers intact.

Skipped only when `soffice` is not installed (.ci/run installs the Debian package
libreoffice-calc).
"""

from __future__ import annotations

import csv
import datetime
import glob
import os
import shutil
import subprocess

import pytest

from povertyapp.ledgers import all_ledgers
from povertyapp.ledgers.services import ledger_write
from tests import factories

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# UTF-8 (76), comma-separated, every sheet (-1) into its own file: LibreOffice ≥ 7.2.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_each_ledger_converts_to_csv_with_id_numbers_intact(tmp_path, cast, county, household_a):
    # An ID number whose check digit is X, and long numbers Excel would otherwise round.
    x_id = next(
        number
        for number in (
            factories.id_number(datetime.date(1990, 1, day), "女")
            for day in range(1, 29)
            for _ in range(12)
        )
        if number.endswith("X")
    )
    household = factories.household(
        actor=cast.county,
        village=county.village_a,
        bank_account="6228480402564890018",
        members=[
            factories.member_data(
                name="周七",
                sex="女",
                birth_date=datetime.date(1990, 1, int(x_id[12:14])),
                id_number=x_id,
            )
        ],
    )
    ids = set(household_a.members.values_list("id_number", flat=True)) | {x_id}
    checked = 0
    profile = tmp_path / "profile"
    for ledger in all_ledgers():
        workbook = str(tmp_path / f"{ledger.key}.xlsx")
        ledger_write(user=cast.county, key=ledger.key, filters={}, path=workbook)
        outdir = tmp_path / ledger.key
        subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                CSV_FILTER,
                "--outdir",
                str(outdir),
                workbook,
            ],
            check=True,
            capture_output=True,
            timeout=180,
            env={**os.environ, "HOME": str(tmp_path)},
        )
        files = glob.glob(str(outdir / "*.csv"))
        assert files, f"{ledger.key}: LibreOffice produced no CSV"
        cells = set()
        for name in files:
            with open(name, encoding="utf-8") as handle:
                for row in csv.reader(handle):
                    cells.update(row)
        assert any(cell == "合计" for cell in cells) or ledger.key not in ("households", "members")
        if ledger.key in ("members", "registry"):
            assert ids <= cells, f"{ledger.key}: ID numbers changed in LibreOffice"
        if ledger.key in ("households", "registry"):
            assert "6228480402564890018" in cells
            assert household.number in cells
        # No ID-like cell was turned into a number in scientific notation.
        assert not any(
            "E+" in cell and cell.replace(".", "").replace("E+", "").isdigit() for cell in cells
        )
        checked += 1
    assert checked == len(all_ledgers()) >= 3
