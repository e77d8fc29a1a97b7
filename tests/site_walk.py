"""Walking the site as a user: from the menu, every link a page offers, three levels deep.

Shared by the tests that hold every page a role can reach to a rule: no Chinese but data in
English (`tests/povertyapp/test_english_pages.py`), every link leads to a page its user may open
(`tests/povertyapp/test_page_links.py`). One page is rendered per kind of page (URL name,
non-numeric path parameter, `?tab=`) and user; the links of each are collected with the page
that offered them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from django.test import Client
from django.urls import Resolver404, resolve

# URL names not walked, with why.
NOT_WALKED = {
    "logout": "signs the user out",
    "set_language": "the switch itself (a POST)",
    "files:download": "a stored file, not a page",
    "admin:jsi18n": "the admin's JavaScript catalog, not a page",
}

LEVELS = 3

VISIBLE_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}
SKIPPED_ELEMENTS = {"script", "style", "template"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _OpenElements(HTMLParser):
    """A parser that keeps the open elements, each a tuple whose first item is its tag; an end
    tag closes the innermost element of its name and any left open inside it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._stack: list[tuple] = []

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return


class VisibleText(_OpenElements):
    """The text a reader sees or hears, the links, and the URLs htmx fetches, of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self.fetches: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, hidden from this test)

    def _hidden(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        hidden = (
            self._hidden()
            or tag in SKIPPED_ELEMENTS
            or attributes.get("lang", "").lower().startswith("zh")
            or attributes.get("translate") == "no"
        )
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if attributes.get("hx-get"):  # a part of the page fetched by htmx
            self.fetches.append(attributes["hx-get"])
        if not hidden:
            for name in VISIBLE_ATTRIBUTES & attributes.keys():
                self.texts.append(attributes[name])
            if tag in ("input", "button") and attributes.get("type") in ("submit", "button"):
                self.texts.append(attributes.get("value", ""))
        if tag not in VOID:
            self._stack.append((tag, hidden))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.texts.append(data)


def page_kind(url: str) -> tuple[str, ...] | None:
    """One page per URL name, non-numeric path parameter and tab: the kinds of page."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    name = match.view_name
    if name in NOT_WALKED or parts.path.startswith("/api/") or name.startswith("admin:"):
        return None
    words = tuple(str(value) for value in match.kwargs.values() if not str(value).isdigit())
    tab = tuple(value for key, value in parse_qsl(parts.query) if key == "tab")
    return (name, *words, *tab)


@dataclass
class Walk:
    """What a walk saw: one page per kind (URL → HTML), the status of each page that did not
    answer 200 with HTML, and every link and htmx fetch any page offered (URL → the first page
    that offered it)."""

    pages: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    offered: dict[str, str] = field(default_factory=dict)


def _absolute(link: str, page: str) -> str:
    return urlsplit(page).path + link if link.startswith("?") else link


def walk(client: Client, starts: list[str]) -> Walk:
    """The pages reachable from `starts` within LEVELS, one per kind of page."""
    seen: set[tuple[str, ...]] = set()
    found = Walk()
    level = [(url, "") for url in starts]
    for _ in range(LEVELS):
        following: list[tuple[str, str]] = []
        for url, _parent in level:
            kind = page_kind(url)
            if kind is None or kind in seen:
                continue
            seen.add(kind)
            response = client.get(url, follow=True)
            content_type = response.get("Content-Type", "")
            if response.status_code != 200 or not content_type.startswith("text/html"):
                found.statuses[url] = response.status_code
                continue
            html = response.content.decode()
            found.pages[url] = html
            parser = VisibleText()
            parser.feed(html)
            for link in parser.links:
                following.append((_absolute(link, url), url))
            for fetch in parser.fetches:
                found.offered.setdefault(_absolute(fetch, url), url)
        for link, parent in following:
            found.offered.setdefault(link, parent)
        level = following
    return found


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Elements whose text a browser does not break: the house's nowrap classes, and the native
# widgets and preformatted text.
UNBROKEN_CLASSES = {"date", "nowrap"}
UNBROKEN_ELEMENTS = {"option", "textarea", "pre", "time", "title", "code"}


class BreakableDates(_OpenElements):
    """The dates (YYYY-MM-DD) of a page's visible text that a phone may break over two lines:
    Chrome breaks Chinese running text after a date's hyphens whatever the CSS of the text
    around it, so each date must sit in an element that does not wrap (`.date`, `td.date`,
    `time`: `static/css/app.css`)."""

    def __init__(self) -> None:
        super().__init__()
        self.dates: list[str] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, hidden, kept whole)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        attributes = {name: value or "" for name, value in attrs}
        hidden, kept = (self._stack[-1][1], self._stack[-1][2]) if self._stack else (False, False)
        hidden = hidden or tag in SKIPPED_ELEMENTS
        kept = (
            kept
            or tag in UNBROKEN_ELEMENTS
            or bool(UNBROKEN_CLASSES & set(attributes.get("class", "").split()))
        )
        self._stack.append((tag, hidden, kept))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_data(self, data: str) -> None:
        if self._stack and (self._stack[-1][1] or self._stack[-1][2]):
            return
        self.dates.extend(
            f"{data.strip()[:60]!r} in <{self._stack[-1][0] if self._stack else ''}>"
            for _match in DATE.finditer(data)
        )


def breakable_dates(html: str) -> list[str]:
    parser = BreakableDates()
    parser.feed(html)
    return parser.dates


UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class FormControls(HTMLParser):
    """A page's form controls with no label a screen reader reads: none wrapping it, none
    naming its id, no `aria-label`, `aria-labelledby` or `title` (a placeholder is no label:
    it is gone once the field is filled)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[tuple[str, dict[str, str], bool]] = []
        self.labelled_ids: set[str] = set()
        self._labels = 0
        self._skipped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in SKIPPED_ELEMENTS:
            self._skipped += 1
        elif tag == "label":
            self._labels += 1
            if attributes.get("for"):
                self.labelled_ids.add(attributes["for"])
        elif (
            tag in ("input", "select", "textarea")
            and not self._skipped
            and (tag != "input" or attributes.get("type", "text") not in UNLABELLED_TYPES)
        ):
            self.controls.append((tag, attributes, self._labels > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_ELEMENTS and self._skipped:
            self._skipped -= 1
        elif tag == "label" and self._labels:
            self._labels -= 1

    def unlabelled(self) -> list[str]:
        return [
            f"<{tag} name={attributes.get('name', '')!r}>"
            for tag, attributes, in_label in self.controls
            if not (
                in_label
                or attributes.get("id", "") in self.labelled_ids
                or {"aria-label", "aria-labelledby", "title"} & attributes.keys()
            )
        ]


def unlabelled_controls(html: str) -> list[str]:
    parser = FormControls()
    parser.feed(html)
    return parser.unlabelled()


class ElementIds(HTMLParser):
    """The ids of a page's elements, outside `<template>` and scripts, with how often each is
    used."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.counts: dict[str, int] = {}
        self._skipped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_ELEMENTS:
            self._skipped += 1
        element_id = dict(attrs).get("id")
        if element_id and not self._skipped:
            self.counts[element_id] = self.counts.get(element_id, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_ELEMENTS and self._skipped:
            self._skipped -= 1


def duplicate_ids(html: str) -> list[str]:
    """The ids used more than once on a page: a label naming one reaches the first only."""
    parser = ElementIds()
    parser.feed(html)
    return sorted(element_id for element_id, count in parser.counts.items() if count > 1)


class LinkTexts(HTMLParser):
    """The links of a page with nothing to read: no text, no image with alt text, no
    `aria-label` or `title` (a list's name that rendered empty was such a link)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.empty: list[str] = []
        self._link: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "a" and attributes.get("href"):
            named = attributes.get("aria-label") or attributes.get("title")
            self._link = (attributes["href"], [named] if named else [])
        elif tag == "img" and self._link is not None:
            self._link[1].append(attributes.get("alt", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            href, texts = self._link
            if not "".join(texts).strip():
                self.empty.append(href)
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link[1].append(data)


def empty_links(html: str) -> list[str]:
    parser = LinkTexts()
    parser.feed(html)
    return parser.empty


class PageHeading(HTMLParser):
    """The main part of a page: its `<h1>`s, and the forms and headings that come before the
    first (a province dashboard opened with its 重新计算 form above the page's own title)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_main = False
        self.has_main = False
        self.h1 = 0
        self.before: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.in_main = self.has_main = True
        elif self.in_main and tag == "h1":
            self.h1 += 1
        elif self.in_main and not self.h1 and tag in {"form", "h2", "h3", "table"}:
            self.before.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main = False


def heading_problems(html: str) -> list[str]:
    """What is wrong with the title of a page of the site's frame (`<main>`: a print sheet or a
    fragment has its own): none, several, or content before it."""
    parser = PageHeading()
    parser.feed(html)
    if not parser.has_main:
        return []
    problems = []
    if parser.h1 != 1:
        problems.append(f"{parser.h1} <h1>")
    if parser.before:
        problems.append(f"<{parser.before[0]}> before the <h1>")
    return problems


HOUSEHOLD_NUMBER = re.compile(r"\d{16,}")
ROW_ELEMENTS = {"tr", "li", "p", "dd"}


class HouseholdRows(_OpenElements):
    """Each link whose whole text is a 户编号, with the text of the row it stands in (its
    table row, list item, paragraph or description): `(number, row text)`."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, str]] = []
        self._stack: list[tuple[str, list[str], list[str]]] = []  # (tag, texts, numbers)
        self._link: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._link = []
        if tag not in VOID:
            self._stack.append((tag, [], []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            text = "".join(self._link).strip()
            if HOUSEHOLD_NUMBER.fullmatch(text):
                row = next(
                    (item for item in reversed(self._stack) if item[0] in ROW_ELEMENTS), None
                )
                if row is not None:
                    row[2].append(text)
            self._link = None
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                for _closed, texts, numbers in self._stack[index:]:
                    self.rows += [(number, "".join(texts)) for number in numbers]
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link.append(data)
        for _tag, texts, _numbers in self._stack:
            texts.append(data)


def household_rows(html: str) -> list[tuple[str, str]]:
    parser = HouseholdRows()
    parser.feed(html)
    return parser.rows


FIELD_TAGS = {"select", "textarea"}
NO_FIELD_TYPES = {"hidden", "submit", "button", "reset", "image"}


@dataclass
class ButtonForm:
    """A POST form with nothing for its user to fill: its hidden values and its buttons."""

    action: str
    values: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value); name "" for none
    fields: int = 0


class ButtonForms(HTMLParser):
    """A page's POST forms whose only inputs are hidden, each with its enabled buttons: an
    action a page offers outright (签署, 关闭批次, 结束排查), which the state must then allow."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[ButtonForm] = []
        self._form: ButtonForm | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and attributes.get("method", "").lower() == "post":
            self._form = ButtonForm(action=attributes.get("action", ""))
            return
        form = self._form
        if form is None:
            return
        kind = attributes.get("type", "submit" if tag == "button" else "text")
        if tag in FIELD_TAGS or (tag == "input" and kind not in NO_FIELD_TYPES):
            form.fields += 1
        elif tag == "input" and kind == "hidden" and attributes.get("name"):
            form.values.append((attributes["name"], attributes.get("value", "")))
        elif tag in ("input", "button") and kind == "submit" and "disabled" not in attributes:
            form.buttons.append((attributes.get("name", ""), attributes.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            if not self._form.fields and self._form.buttons:
                self.forms.append(self._form)
            self._form = None


def button_forms(html: str) -> list[ButtonForm]:
    parser = ButtonForms()
    parser.feed(html)
    return parser.forms
