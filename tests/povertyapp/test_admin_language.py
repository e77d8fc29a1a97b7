"""The admin site speaks the user's language too: every title, column, filter, field label and
model or app name an administrator reads is Chinese in a Chinese session (and the English pages
test holds the other way).

The security administrator's account list showed the sign-in packages' own names and fields in
English ("AXES · Access attempts", "OTP_TOTP · TOTP devices", "Attempt Time", "IP Address"),
and two of our own filters were titled from their lookup path ("Risks  risk type"): found
2026-12-07. Each administrator and the county office walk every admin page their index
offers, every change list and the first object of each, and every label is read."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.conftest import login

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")
# Words every Chinese administrator reads as they are.
AS_IS = {"ID", "IP", "TOTP", "API", "SHA-256", "Excel", "URL"}
READ = {"th", "label", "summary", "h1", "h2", "h3", "caption", "legend"}
ADMINS = ["sysadmin", "secadmin", "auditadmin", "county"]


class Labels(HTMLParser):
    """The texts of the elements an administrator reads as names: column headers (not a row's
    first cell, which is data), labels, filter and fieldset titles, captions, the page's title
    and the sidebar's app and model names; with the element they stand in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, list[str]]] = []
        self.found: list[tuple[str, str]] = []
        self.sidebar = 0
        self.thead = False

    def _read(self, tag: str, attributes: dict[str, str | None]) -> bool:
        if tag == "th":
            return self.thead or attributes.get("scope") == "col"
        if tag == "h2":  # a fieldset's title; the other h2 names the object (data)
            return "fieldset-heading" in (attributes.get("class") or "")
        return tag in READ or (self.sidebar > 0 and tag == "a")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "nav" and (attributes.get("id") == "nav-sidebar" or self.sidebar):
            self.sidebar += 1
        self.thead = self.thead or tag == "thead"
        if self._read(tag, attributes):
            self.open.append((tag, []))

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1][0] == tag:
            name, parts = self.open.pop()
            text = " ".join("".join(parts).split())
            if text:
                self.found.append((name, text))
                if self.open:
                    self.open[-1][1].append(text)
        if tag == "nav" and self.sidebar:
            self.sidebar -= 1
        if tag == "thead":
            self.thead = False

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1][1].append(data)


# A stored code where its label belongs (as the page walk's rule, test_page_links.CODE).
CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# Columns whose values are identifiers by nature: an account name, the audit row's target
# (a technical path, searched as typed), a request or object id.
IDENTIFIERS = {"username", "target", "request_id", "object_id", "ip_address", "user"}


class Cells(HTMLParser):
    """The change list's cells: `(field name, text)` from each `td class="field-…"`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[tuple[str, str]] = []
        self._cell: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        field = next((c[len("field-") :] for c in classes if c.startswith("field-")), None)
        if tag in ("td", "th") and field:
            self._cell = (field, [])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append((self._cell[0], "".join(self._cell[1]).strip()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1].append(data)


def codes(html: str) -> list[str]:
    """The codes shown in the list's cells where a label belongs."""
    parser = Cells()
    parser.feed(html)
    return [
        f"{field}: {text!r}"
        for field, text in parser.cells
        if field not in IDENTIFIERS and CODE.search(text)
    ]


def english(html: str) -> list[str]:
    parser = Labels()
    parser.feed(html)
    return [
        f"<{tag}> {text!r}"
        for tag, text in parser.found
        if not CJK.search(text) and set(LATIN.findall(text)) - AS_IS
    ]


def _links(html: str, pattern: str) -> list[str]:
    return sorted(set(re.findall(pattern, html)))


@pytest.fixture
def security_rows(cast):
    """A row in each sign-in table, so that each change list shows its columns."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.utils import timezone
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    seen = {"user_agent": "Mozilla/5.0", "ip_address": "10.0.0.1", "http_accept": "*/*"}
    AccessAttempt.objects.create(
        username="cadre", path_info="/accounts/login/", failures_since_start=2, **seen
    )
    AccessFailureLog.objects.create(username="cadre", path_info="/accounts/login/", **seen)
    AccessLog.objects.create(
        username="county", path_info="/accounts/login/", logout_time=timezone.now(), **seen
    )
    TOTPDevice.objects.create(user=cast.township, name="TOTP", confirmed=True)
    StaticDevice.objects.create(user=cast.township, name="backup", confirmed=True)


def test_every_admin_page_an_administrator_opens_reads_in_chinese(cast, security_rows):
    problems: dict[str, set[str]] = {}
    opened = 0
    for name in ADMINS:
        client = login(getattr(cast, name))
        index = client.get("/admin/")
        assert index.status_code == 200, name
        pages = ["/admin/"] + _links(index.content.decode(), r'href="(/admin/[a-z_]+/[a-z_]+/)"')
        for url in pages:  # grows: each change list adds its first object's page
            response = client.get(url)
            assert response.status_code == 200, (name, url)
            html = response.content.decode()
            opened += 1
            for problem in english(html) + codes(html):
                problems.setdefault(problem, set()).add(f"{name} {url}")
            if url.count("/") == 4:  # a change list
                pages.extend(_links(html, rf'href="({re.escape(url)}\d+/change/)')[:1])
    report = [f"{problem}: {', '.join(sorted(where)[:3])}" for problem, where in problems.items()]
    assert not report, "English in the Chinese admin:\n" + "\n".join(sorted(report))
    assert opened > 20


def test_the_reader_finds_english_labels():
    html = (
        '<nav id="nav-sidebar"><a href="/admin/axes/">Axes</a></nav>'
        "<table><thead><tr><th>Attempt Time</th><th>用户名</th><th>ID</th></tr></thead>"
        "<tbody><tr><th>cadre</th></tr></tbody></table><h2>cadre</h2>"
        '<h2 class="fieldset-heading">Meta Data</h2>'
        "<label>IP Address</label><summary>以 安全状况</summary>"
    )
    assert english(html) == [
        "<a> 'Axes'",
        "<th> 'Attempt Time'",
        "<h2> 'Meta Data'",
        "<label> 'IP Address'",
    ]


def test_the_reader_finds_codes_in_cells():
    html = (
        '<table id="result_list"><tr><td class="field-role_label">audit_admin</td>'
        '<td class="field-target">workflow:risk_elimination</td>'
        '<td class="field-action">登录</td></tr></table>'
    )
    assert codes(html) == ["role_label: 'audit_admin'"]
