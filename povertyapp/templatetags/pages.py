"""`{% page_href number %}`: the address of one page of the list the current page shows, for
the one pager every list uses (`templates/povertyapp/partials/pagination.html`).

It is the page's own query with only `page` changed (`search_terms.link_query`): every filter
the user chose is kept, and a search's free-text terms travel as their token, never in the
link. Lists once built their pager links by hand, each view passing the query it thought
right, or none: 剔除核查's pager dropped its 状态 filter and the project list's its 年度
(found 2026-12-07). `tests/povertyapp/test_template_pagination.py` holds every template to
the one pager.
"""

from __future__ import annotations

from typing import Any

from django import template

from povertyapp.search_terms import link_query

register = template.Library()


@register.simple_tag(takes_context=True)
def page_href(context: template.Context, number: Any) -> str:
    request = context.get("request")
    query = link_query(request) if request is not None else ""
    return f"?{query}&page={int(number)}" if query else f"?page={int(number)}"
