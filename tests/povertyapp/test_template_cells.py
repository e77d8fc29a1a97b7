"""A date a template shows is kept on one line (`static/css/app.css`: `.date` never wraps), in
every template: on a phone Chrome broke a date after its second hyphen, in a narrow table cell
(the household page's 状态变动 tab, 2026-12-07, found by `tests/browser/test_phone_layout.py`)
and in running Chinese text whatever the CSS around it ("办结期限 2026-12-" / "10"). A date is
shown through `|nowrap_date` (`povertyapp/templatetags/dates.py`), or `|date` alone in a cell of
class `date`.

The browser test opens some pages only, and the page walk (`test_page_links.py`) reads the
pages the demo reaches; this holds every template, the pages neither reaches included."""

from __future__ import annotations

import datetime
import re

from django.template import Context, Template

from tests.templates_read import findings, templates

# A `|date` whose format shows a whole date (a year, a month and a day), or names a format
# setting that does (the house writes dates as Y-m-d, not in the locale's format).
WHOLE_DATE = re.compile(
    r'\|date:"((?=[^"]*Y)(?=[^"]*[mn])(?=[^"]*[dj])[^"]*|(SHORT_)?DATE(TIME)?_FORMAT)"'
)
DATE_CELL = re.compile(r'<td class="[^"]*\bdate\b[^"]*"[^>]*>\{\{ [^}]*\}\}</td>')


def dates_that_may_break(text: str) -> list[str]:
    """The `|date` uses of whole dates in `text` outside a cell of class `date`."""
    kept = [match.span() for match in DATE_CELL.finditer(text)]
    return [
        text[max(0, match.start() - 40) : match.end()]
        for match in WHOLE_DATE.finditer(text)
        if not any(start <= match.start() < end for start, end in kept)
    ]


# Printed pages (A4, no phone) spell their dates out in words.
PRINTED = ("print/", "notice_print.html")


def test_every_date_a_template_shows_is_kept_on_one_line():
    found = findings(dates_that_may_break, skip=PRINTED)
    assert not found, "\n".join(found)


def test_the_rule_reads_a_bare_date_and_passes_a_kept_one():
    assert dates_that_may_break('<td>{{ e.on|date:"Y-m-d" }}</td>')
    assert dates_that_may_break('<p>{% translate "期限" %} {{ e.on|date:"Y-m-d" }}</p>')
    assert dates_that_may_break('{% blocktranslate with day=e.on|date:"Y-m-d H:i" %}')
    assert dates_that_may_break('{{ job.deleted_at|date:"DATETIME_FORMAT" }}')
    assert not dates_that_may_break('<td class="num date">{{ e.on|date:"Y-m-d" }}</td>')
    assert not dates_that_may_break('<p>{{ e.on|nowrap_date }} {{ e.on|date:"H:i" }}</p>')
    assert not dates_that_may_break("<td>{{ e.name }}</td>")


def test_nowrap_date_keeps_a_date_whole_and_leaves_no_date_to_its_default():
    template = Template(
        '{% load i18n dates %}{{ day|nowrap_date }}|{{ none|nowrap_date|default:"—" }}|'
        "{% blocktranslate with at=day|nowrap_date %}期限{{ at }}{% endblocktranslate %}"
    )
    html = template.render(Context({"day": datetime.date(2026, 12, 10), "none": None}))
    assert html == (
        '<span class="date">2026-12-10</span>|—|期限<span class="date">2026-12-10</span>'
    )


def test_nowrap_dates_escapes_the_text_and_keeps_each_date_whole():
    template = Template("{% load dates %}{{ text|nowrap_dates }}")
    html = template.render(Context({"text": "<b>公示</b>：2026-01-14起，至2026-01-18 10:00"}))
    assert html == (
        '&lt;b&gt;公示&lt;/b&gt;：<span class="date">2026-01-14</span>起，至'
        '<span class="date">2026-01-18 10:00</span>'
    )


# A flash message is text the system wrote, dates included ("已开启第二批，截止2026-12-10").
MESSAGE_SHOWN = re.compile(r"\{\{ ?message(\.message)? ?(\|(?!nowrap_dates)[^}]*)?\}\}")


def messages_that_may_break(text: str) -> list[str]:
    """In a template that lists the messages framework's messages, each shown without
    `|nowrap_dates`."""
    if not re.search(r"\{% for \w+ in messages %\}", text):
        return []
    return [match.group() for match in MESSAGE_SHOWN.finditer(text)]


def test_every_message_is_shown_with_its_dates_kept_whole():
    found = findings(messages_that_may_break)
    assert not found, "\n".join(found)
    loop = "{% for message in messages %}<li>"
    assert messages_that_may_break(loop + "{{ message }}</li>")
    assert messages_that_may_break(loop + "{{ message.message|safe }}</li>")
    assert not messages_that_may_break(loop + "{{ message.message|nowrap_dates }}</li>")
    assert not messages_that_may_break(loop + "{{ message.tags }}</li>")
    assert any("for message in messages" in text for _name, text in templates())
    shown = Template("{% load dates %}{{ message.message|nowrap_dates }}").render(
        Context({"message": type("M", (), {"message": "截止2026-12-10"})()})
    )
    assert shown == '截止<span class="date">2026-12-10</span>'
