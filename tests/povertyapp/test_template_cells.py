"""A table cell that holds only a date carries the `date` class (`static/css/app.css`: never
wraps), in every template: on a phone a narrow column broke 2026-12-07 after its second hyphen
(the household page's 状态变动 tab, found by `tests/browser/test_phone_layout.py`, which checks
only the pages it opens). This holds the templates it does not open too."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

DATE_CELL = re.compile(r'<td( class="([^"]*)")?>\{\{ [^}]*\|date:"[^"]*"[^}]*\}\}</td>')


def date_cells_without_the_class(text: str) -> list[str]:
    return [
        match.group(0)
        for match in DATE_CELL.finditer(text)
        if "date" not in (match.group(2) or "").split()
    ]


def test_every_cell_holding_only_a_date_keeps_it_on_one_line():
    found = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        for cell in date_cells_without_the_class(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(settings.BASE_DIR)}: {cell}")
    assert not found, "\n".join(found)


def test_the_rule_reads_a_bare_date_cell_and_passes_one_with_the_class():
    assert date_cells_without_the_class('<td>{{ e.on|date:"Y-m-d" }}</td>')
    assert date_cells_without_the_class('<td class="num">{{ e.on|date:"Y-m" }}</td>')
    assert not date_cells_without_the_class('<td class="num date">{{ e.on|date:"Y-m-d" }}</td>')
    assert not date_cells_without_the_class("<td>{{ e.name }}</td>")
