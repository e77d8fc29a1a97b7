"""Templates that write an `<input>` by hand put a machine value in it, as the widgets do
(povertyapp/forms.py): a date as `Y-m-d`, a number unlocalized. A date input holding
`2026/12/03`, or a number input holding `2,026`, shows empty in the browser and posts ""."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

MACHINE_TYPES = ("date", "datetime-local", "month", "time", "number", "range")
INPUT = re.compile(r"<input\b[^>]*>", re.S)
TYPE = re.compile(r'\btype="([^"]+)"')
VALUE = re.compile(r'\bvalue="([^"]*)"')
# A value written by the template: a variable, or a tag such as {% now %}.
WRITTEN = re.compile(r"\{\{(.*?)\}\}|\{%\s*now\s+(.*?)%\}")
MACHINE_FILTERS = ("|unlocalize", '|date:"Y-m-d"', "|date:'Y-m-d'", '|date:"Y-m-d\\TH:i"')


def _template_files() -> list[Path]:
    return sorted(
        path
        for directory in settings.TEMPLATES[0]["DIRS"]
        for path in Path(directory).rglob("*.html")
    )


def hand_written_machine_inputs() -> list[tuple[str, str, str]]:
    """(template, input type, value expression) of every hand-written machine-format input."""
    found = []
    for path in _template_files():
        text = path.read_text(encoding="utf-8")
        for tag in INPUT.findall(text):
            kind = TYPE.search(tag)
            value = VALUE.search(tag)
            if kind and kind.group(1) in MACHINE_TYPES and value:
                for variable, now_format in WRITTEN.findall(value.group(1)):
                    found.append((path.name, kind.group(1), variable or f"now {now_format}"))
    return found


def _machine(kind: str, expression: str) -> bool:
    compact = expression.replace(" ", "")
    if expression.startswith("now "):
        return kind == "date" and compact in ("now'Y-m-d'", 'now"Y-m-d"')
    return any(machine_filter in compact for machine_filter in MACHINE_FILTERS)


def test_the_walk_finds_the_hand_written_inputs():
    found = hand_written_machine_inputs()
    assert ("teams.html", "number", " year|unlocalize ") in found
    assert ("household_page.html", "date", "now 'Y-m-d' ") in found


def test_every_hand_written_date_or_number_input_holds_a_machine_value():
    assert [item for item in hand_written_machine_inputs() if not _machine(item[1], item[2])] == []
