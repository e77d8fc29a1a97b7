"""Every list's pages come from one pager (`templates/povertyapp/partials/pagination.html`,
`{% page_href %}`), whose links keep the page's filters and carry a search's terms as their
token.

Nineteen templates once wrote their own pager (four of them through a shared one), each from a
query its view built or from none: 剔除核查 (its 状态 filter) and the project list (its 年度)
linked `?page=2` alone, so the second page of a filtered list showed the unfiltered list
(found 2026-12-07). This holds every template, the pages no walk
reaches included, to the one pager, and the pager to keeping the filters."""

from __future__ import annotations

import re

import pytest
from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory

from tests.templates_read import findings

PAGER = "povertyapp/partials/pagination.html"
HAND_MADE = re.compile(r"[?&](amp;)?page=|page\.(has_previous|has_next|previous_page_number)")


def hand_made_pagers(text: str) -> list[str]:
    return [text[max(0, match.start() - 60) : match.end()] for match in HAND_MADE.finditer(text)]


def test_no_template_but_the_pager_links_to_a_page():
    assert not findings(hand_made_pagers, skip=(PAGER,))


def test_the_rule_reads_a_hand_made_pager():
    assert hand_made_pagers('<a href="?page={{ page.next_page_number }}">')
    assert hand_made_pagers('<a href="?{{ query }}&page=2">')
    assert hand_made_pagers("{% if page.has_previous %}")
    assert not hand_made_pagers('{% include "povertyapp/partials/pagination.html" %}')


def _pager(query: str, *, number: int = 2, **context) -> str:
    request = RequestFactory().get(f"/list/?{query}")
    page = Paginator(list(range(120)), 50).get_page(number)
    return render_to_string(PAGER, {"page": page, **context}, request=request)


def test_the_pager_keeps_every_filter_and_changes_only_the_page():
    html = _pager("state=open&kind=dibao&page=2")
    assert 'href="?state=open&amp;kind=dibao&amp;page=1"' in html
    assert 'href="?state=open&amp;kind=dibao&amp;page=3"' in html
    assert "第 2 / 3 页" in html


def test_the_pager_of_an_unfiltered_list_and_its_count():
    html = _pager("", number=1, count_text="共 120 户")
    assert 'href="?page=2"' in html and "上一页" not in html
    assert "第 1 / 3 页，共 120 户" in html


def test_a_search_travels_as_its_token_never_as_its_terms():
    from povertyapp import search_terms

    request = RequestFactory().get("/list/?q=110101199003071234&village=7")
    request.search_token = ("tok123", ["q"])  # as SearchTermsMiddleware sets it
    page = Paginator(list(range(120)), 50).get_page(1)
    html = render_to_string(PAGER, {"page": page}, request=request)
    assert "110101199003071234" not in html
    assert f"{search_terms.TOKEN_PARAM}=tok123" in html and "village=7" in html


@pytest.mark.parametrize("capped", [True, False])
def test_a_capped_count_shows_the_page_number_alone(capped):
    html = _pager("", capped=capped)
    assert ("第 2 页" in html and "/ 3" not in html) if capped else "第 2 / 3 页" in html
