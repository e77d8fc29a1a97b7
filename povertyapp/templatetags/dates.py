"""`{{ value|nowrap_date }}`, `{{ value|nowrap_date:"Y-m-d H:i" }}`: a date, or a moment, that a
phone never breaks over two lines; `{{ text|nowrap_dates }}`: the dates in a text kept so.

Chrome breaks Chinese running text after a date's hyphens ("办结期限 2026-12-" / "10") whatever
the CSS of the text around it (measured 2026-12-07: `overflow-wrap`, `word-break: keep-all`,
`line-break: strict`, `lang="en"`); only an element of its own that does not wrap keeps it
whole (`.date` in `static/css/app.css`). Held over every page of every role by
`tests/povertyapp/test_page_links.py` and over every template by `test_template_cells.py`.
"""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeData, SafeString, mark_safe

register = template.Library()


@register.filter(expects_localtime=True)
def nowrap_date(value: Any, arg: str = "Y-m-d") -> SafeString | str:
    """`value` formatted as the `date` filter would, in a `<span class="date">`; empty for no
    date, so that `|default:"—"` still applies."""
    text = date_filter(value, arg)
    if not text:
        return ""
    return format_html('<span class="date">{}</span>', text)


DATE_IN_TEXT = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?(?!\d)")


@register.filter(is_safe=True)
def nowrap_dates(value: Any) -> SafeString | Any:
    """A text the system wrote with dates in it (an event's summary, a desk item's note, a list
    line's summary), escaped, with each date kept whole as `nowrap_date` keeps one. Markup
    already marked safe is left to its author."""
    if isinstance(value, SafeData) or not isinstance(value, str | Promise):
        return value
    escaped = conditional_escape(str(value))
    return mark_safe(  # the text is escaped above; only the span is added
        DATE_IN_TEXT.sub(lambda match: f'<span class="date">{match.group()}</span>', escaped)
    )
