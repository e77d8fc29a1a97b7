"""docs/security.md names, for each 等保 item, the test that shows it: every test it names
exists, so the page cannot go on citing a test that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `households/test_access.py`, `povertyapp/test_x.py::test_y`, or `::test_y` (same file as the
# reference before it in the cell).
REFERENCE = re.compile(r"`(?:([\w/]+\.py))?(?:::(test_\w+))?`")


def _references() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for line in (ROOT / "docs" / "security.md").read_text(encoding="utf-8").splitlines():
        current = None
        for path, test in REFERENCE.findall(line):
            if path:
                current = path
            if current and (path or test):
                found.append((current, test or None))
    return found


def test_every_test_the_security_page_names_exists():
    references = _references()
    assert len(references) > 80
    missing = []
    for path, test in references:
        file = ROOT / "tests" / path if not path.startswith(".") else ROOT / path
        if not file.exists():
            file = ROOT / path
        if not file.exists():
            missing.append(path)
        elif test and not re.search(rf"^def {test}\(", file.read_text(), re.M):
            missing.append(f"{path}::{test}")
    assert missing == []
