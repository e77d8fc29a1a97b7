"""`{% household_named household %}`: a household as lists name it, by its 户编号 and its
head's name ("5226221002000058 江斌成"), optionally as a link on the number.

One tag for every list, so that the rule the page walk holds (a 户编号 link's row names the
head, `tests/povertyapp/test_page_links.py`) is written once. The view names the heads first
(`households.selectors.name_heads`, one statement for the page).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def household_named(
    household: Any, url_name: str = "", pk: int | None = None, *, query: str = ""
) -> str:
    """The household's 户编号 and head's name; with `url_name`, the number links to that URL
    of `pk` (the household's own by default), `query` appended. "—" when there is no
    household (a fund movement not paid to one)."""
    if household is None:
        return "—"
    head = getattr(household, "head_name", None)
    if url_name:
        href = reverse(url_name, args=[household.pk if pk is None else pk])
        if query:
            href = f"{href}?{query}"
        number = format_html('<a href="{}">{}</a>', href, household.number)
    else:
        number = format_html("{}", household.number)
    if head:
        return format_html("{} {}", number, head)
    return number
