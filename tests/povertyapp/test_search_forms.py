"""Every page's search form is one round trip with scripts and Post/Redirect/Get without them
(povertyapp/templatetags/search_forms.py, povertyapp/search_terms.py).

With htmx the form's POST is answered by the page the redirect would have led to, with the
token's address in HX-Push-Url; anything but that page (a refusal, an error) is answered with
HX-Redirect to the same address, so the browser shows it as a page. The terms never appear in
either address."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings

from povertyapp.templatetags.pages import page_href
from tests.conftest import login

ROOT = Path(django_settings.BASE_DIR)
TEMPLATES = ROOT / "templates"
# The admin's change lists post their search too, but the admin loads no htmx: its form stays
# a plain POST answered by the redirect (templates/admin/search_form.html).
PLAIN_SEARCH_FORMS = {"admin/search_form.html"}
# Every template with a search form, and the page that shows it.
SEARCH_PAGES = {
    "households/household_list.html": "/households/",
    "assistance/household_list.html": "/assistance/households/",
}
HTMX = {"HX-Request": "true"}


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, str | None]] = []
        self.current: dict[str, str | None] | None = None
        self.terms: dict[int, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.current = dict(attrs)
            self.forms.append(self.current)
        values = dict(attrs)
        if tag == "input" and values.get("name") == "search_terms" and self.current is not None:
            self.terms[len(self.forms) - 1] = values.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None


def _search_form(html: str) -> tuple[dict[str, str | None], str]:
    parser = _Forms()
    parser.feed(html)
    (index,) = parser.terms  # one search form per page
    return parser.forms[index], parser.terms[index]


def test_every_search_form_of_a_page_is_opened_by_the_search_form_tag():
    holding = {
        str(path.relative_to(directory))
        for directory in [TEMPLATES, *ROOT.glob("*/templates")]  # the project's and any app's
        for path in directory.rglob("*.html")
        if 'name="search_terms"' in path.read_text(encoding="utf-8")
    }
    assert holding - PLAIN_SEARCH_FORMS == set(SEARCH_PAGES)
    for name in SEARCH_PAGES:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        assert re.search(r"<form \{% search_form \w+ %\}", source), name


@pytest.mark.parametrize("template", sorted(SEARCH_PAGES))
def test_the_search_is_shown_in_the_answer_to_its_post(template, cast, household_a, household_b):
    path = SEARCH_PAGES[template]
    client = login(cast.county)
    form, term_field = _search_form(client.get(path).content.decode())
    assert form["method"] == "post" and form["action"] == path
    assert form["hx-post"] == path
    assert (form["hx-target"], form["hx-select"], form["hx-swap"]) == ("main", "main", "outerHTML")
    assert form["hx-disinherit"] == "*" and "data-search-form" in form

    data = {"search_terms": term_field, term_field: household_a.number}
    answered = client.post(path, data, headers=HTMX)
    assert answered.status_code == 200
    location = answered["HX-Push-Url"]
    assert household_a.number not in location
    assert urlsplit(location).path == path and "qt=" in location
    assert "<main" in answered.content.decode()
    shown = [row["pk"] if isinstance(row, dict) else row.pk for row in answered.context["page"]]
    assert shown == [household_a.pk]
    # The address pushed into the history shows the same page (a reload, the back button).
    again = client.get(location)
    assert [row["pk"] if isinstance(row, dict) else row.pk for row in again.context["page"]] == (
        shown
    )
    # Its links carry the token, never the term.
    assert household_a.number not in page_href({"request": answered.wsgi_request}, 2)
    # Without scripts: the redirect, to an address of the same shape.
    plain = client.post(path, data)
    assert plain.status_code == 302
    assert household_a.number not in plain["Location"] and "qt=" in plain["Location"]


def test_the_view_sees_the_get_the_redirect_would_have_led_to(cast, household_a):
    client = login(cast.county)
    data = {"search_terms": "q", "q": household_a.number, "status": "poor", "ordering": "number"}
    answered = client.post("/households/", {**data, "page": "3"}, headers=HTMX)
    request = answered.wsgi_request
    assert request.method == "GET" and not request.POST
    assert request.GET["q"] == household_a.number and request.GET["status"] == "poor"
    assert "page" not in request.GET  # paging restarts, as after the redirect
    assert answered["HX-Push-Url"].startswith("/households/?status=poor&ordering=number&qt=")
    assert request.search_token[0] == answered["HX-Push-Url"].split("qt=")[1]


def test_an_empty_search_pushes_the_plain_list(cast, household_a):
    answered = login(cast.county).post(
        "/households/", {"search_terms": "q", "q": "  ", "status": "poor"}, headers=HTMX
    )
    assert answered.status_code == 200
    assert answered["HX-Push-Url"] == "/households/?status=poor"


def test_a_refused_search_is_shown_as_a_page(settings, cast, household_a):
    settings.RATE_LIMIT_SEARCH = "1/m"
    client = login(cast.county)
    data = {"search_terms": "q", "q": household_a.number}
    assert client.post("/households/", data, headers=HTMX).status_code == 200
    refused = client.post("/households/", data, headers=HTMX)
    # Not the 429 page swapped into the list: the browser goes to the address, which answers
    # 429 for itself.
    assert refused.status_code == 200 and refused.content == b""
    location = refused["HX-Redirect"]
    assert "qt=" in location and household_a.number not in location
    assert "HX-Push-Url" not in refused
    assert client.get(location).status_code == 429


def test_an_anonymous_search_post_is_sent_to_the_sign_in(client, household_a):
    answered = client.post(
        "/households/", {"search_terms": "q", "q": household_a.number}, headers=HTMX
    )
    assert "HX-Push-Url" not in answered
    assert household_a.number not in answered.get("HX-Redirect", "")
    assert household_a.number not in answered.get("Location", "")


def test_other_posts_are_left_alone(cast, county):
    """A form without the hidden `search_terms` field is no search: htmx or not, it posts."""
    client = login(cast.cadre)
    response = client.post("/households/new/", {"village": county.village_a.pk}, headers=HTMX)
    assert "HX-Push-Url" not in response and "HX-Redirect" not in response
