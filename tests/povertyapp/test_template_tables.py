"""A table that holds form controls becomes a card per row on a phone (`table.cards-on-phone`,
`static/css/app.css`): a field in a table that scrolls sideways sits off the 360 px screen,
where a township reviewer had to scroll the batch page's table to reach a household's 理由
(2026-12-07), and a helper the household page's 变更状态 fields. Read from every template, the
pages no browser test opens included; `tests/browser/test_phone_layout.py` holds the pages it
opens to the same rule in the browser (no field right of the screen)."""

from __future__ import annotations

import re

from tests.templates_read import findings

TABLE = re.compile(r"<table\b[^>]*>.*?</table>", re.S)
CONTROL = re.compile(
    r'<input(?![^>]*type="hidden")|<select\b|<textarea\b|partials/field\.html'
    r"|\{\{ *field *\}\}|\{\{ *[a-z_]*form\.[a-z_]+ *\}\}"
)


def tables_with_fields_off_a_phone(text: str) -> list[str]:
    """The opening tags of the tables in `text` that hold a form control and are not cards on
    a phone."""
    return [
        match.group()[: match.group().index(">") + 1]
        for match in TABLE.finditer(text)
        if CONTROL.search(match.group())
        and "cards-on-phone" not in match.group()[: match.group().index(">")]
    ]


def test_every_table_holding_a_field_is_a_card_per_row_on_a_phone():
    found = findings(tables_with_fields_off_a_phone)
    assert not found, "\n".join(found)


def test_the_rule_reads_a_field_in_a_table():
    assert tables_with_fields_off_a_phone(
        '<table class="list"><tr><td><input name="a"></td></table>'
    )
    assert tables_with_fields_off_a_phone("<table><tr><td>{{ form.reason }}</td></tr></table>")
    assert not tables_with_fields_off_a_phone(
        '<table class="cards-on-phone"><tr><td><select name="a"></select></td></table>'
    )
    assert not tables_with_fields_off_a_phone(
        '<table><tr><td><input type="hidden" name="v"></td></tr></table>'
    )
