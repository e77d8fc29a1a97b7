"""Fixtures of the household import's tests."""

from __future__ import annotations

import os

import pytest

from households.imports import ImportRefused, beside


@pytest.fixture
def imports_dir(tmp_path, settings):
    directory = tmp_path / "imports"
    settings.LEDGER_IMPORT_DIR = str(directory)
    return directory


@pytest.fixture(params=["here", "beside"])
def reading(request, settings, monkeypatch, imports_dir):
    """The households sheet read in this process, or by the reader process whatever its size
    (and however many cores the machine running the tests has). In the second case the test
    fails if the reader did not in fact deliver the rows (a silent fall-back to reading here
    would make the comparison prove nothing)."""
    monkeypatch.setattr(beside, "_cores", lambda: 2)
    taken: list[int | None] = []  # what each reader delivered (None: it failed)
    if request.param == "here":
        settings.LEDGER_IMPORT_BESIDE_BYTES = 0
    else:
        settings.LEDGER_IMPORT_BESIDE_BYTES = 1
        take = beside.HouseholdSheetReader.take

        def recorded(self, *args, **kwargs):
            try:
                count = take(self, *args, **kwargs)
            except ImportRefused:
                taken.append(-1)  # the reader's own refusal: it did read the sheet
                raise
            taken.append(count)
            return count

        monkeypatch.setattr(beside.HouseholdSheetReader, "take", recorded)
    yield request.param
    if request.param == "beside":
        assert taken and None not in taken, taken
    # Neither staging file is left behind.
    assert not imports_dir.exists() or os.listdir(imports_dir) == []
