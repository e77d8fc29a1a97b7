"""Every link a page offers its user leads to a page that user may open, no select shows
Django's `---------`, no text shows a code (`medical_costs`, `village_cadre`) where its label
belongs, no date can break over two lines on a phone (`povertyapp/templatetags/dates.py`) and
every form control and link has a name a screen reader reads (and no id is used twice, which
ties a label to the first): over every page every role of the demo cast reaches.

The menu is held to its views' rules by `test_menu.py`; the links inside pages were not, and
three kinds of defect were found by this walk (2026-12-07), each a class:

- a page's own row of sections offered pages the role is refused (防返贫监测's 部门名单 to a
  village cadre, 集中排查 and 剔除核查 to a helper: 403);
- a link built from a record rather than from the user's scope (a round's 指标 link to its
  county's dashboard, 404 for a township or village user);
- a list in the area's scope where the user's scope is narrower (a helper saw the round's
  list lines of the whole village, and their links to households not paired with them: 404).

The small demo county is seeded; each demo user walks the site (`tests/site_walk.py`: the
menu, then three levels of links, one page per kind) and then requests every other link and
htmx fetch any of those pages offered, each distinct URL once: a household's page, a round's,
a region's dashboard, so that a link to one record outside the user's scope is caught even when
another of its kind opens. Every one must answer 200 after its redirects.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from django.test import Client

from households.models import Member
from povertyapp.forms import DASHES
from povertyapp.menu import menu_for
from tests.site_walk import (
    VisibleText,
    breakable_dates,
    duplicate_ids,
    empty_links,
    heading_problems,
    household_rows,
    page_kind,
    unlabelled_controls,
    walk,
)

DASH_OPTION = re.compile(r"<option[^>]*>\s*" + re.escape(DASHES) + r"\s*</option>")
# A stored code where its label belongs: the keys of choices and layouts are snake_case
# (`medical_costs`, `not_included`), which no label, name or note of the registry is.
CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def codes_shown(html: str) -> list[str]:
    """The snake_case codes in the text a reader sees of `html`."""
    parser = VisibleText()
    parser.feed(html)
    return [match.group() for text in parser.texts for match in CODE.finditer(text)]


@pytest.fixture
def demo_users(db, settings, tmp_path):
    from povertyapp import demo

    settings.MEDIA_ROOT = tmp_path
    return demo.seed(households=20, seed=1)["users"]


def test_every_link_of_every_page_opens_for_its_user_and_shows_its_text_whole(demo_users):
    refused: dict[tuple[str, int], set[str]] = defaultdict(set)
    dashes: dict[str, set[str]] = defaultdict(set)
    codes: dict[str, set[str]] = defaultdict(set)
    dates: dict[str, set[str]] = defaultdict(set)
    unlabelled: dict[str, set[str]] = defaultdict(set)
    unnamed: dict[str, set[str]] = defaultdict(set)
    headings: dict[str, set[str]] = defaultdict(set)
    requested = 0
    heads = dict(
        Member.objects.filter(relation="户主", is_active=True).values_list(
            "household__number", "name"
        )
    )

    def read(html: str, username: str, url: str) -> None:
        where = f"{username} {url}"
        for date in breakable_dates(html):
            dates[date].add(where)
        for control in unlabelled_controls(html):
            unlabelled[control].add(where)
        for element_id in duplicate_ids(html):
            unlabelled[f"id={element_id!r} used twice"].add(where)
        for href in empty_links(html):
            unlabelled[f"a link to {href} with no text"].add(where)
        for problem in heading_problems(html):
            headings[problem].add(re.sub(r"\d+", "N", url.split("?")[0]))
        for number, row in household_rows(html):
            # A household shown by its 户编号 alone: a cadre knows the family by its head.
            if heads.get(number) and heads[number] not in row:
                unnamed[re.sub(r"\d+", "N", url.split("?")[0])].add(f"{username}: {number}")

    for username, user in demo_users.items():
        client = Client()
        client.force_login(user, backend="povertyapp.backends.ModelBackendWithRegion")
        starts = ["/", *(link.url for link in menu_for(user))]
        walked = walk(client, starts)
        for url, status in walked.statuses.items():
            if status != 200:
                refused[(url, status)].add(f"{username} from {walked.offered.get(url, 'the menu')}")
        for url, html in walked.pages.items():
            if DASH_OPTION.search(html):
                dashes[url].add(username)
            for code in codes_shown(html):
                codes[code].add(f"{username} {url}")
            read(html, username, url)
        for link, parent in walked.offered.items():
            if link in walked.pages or link in walked.statuses or page_kind(link) is None:
                continue
            response = client.get(link, follow=True)
            requested += 1
            if response.status_code != 200:
                refused[(link, response.status_code)].add(f"{username} from {parent}")
            elif response.get("Content-Type", "").startswith("text/html"):
                read(response.content.decode(), username, link)
    report = [
        f"{status} {url}: {', '.join(sorted(where)[:4])}"
        for (url, status), where in sorted(refused.items())
    ]
    assert not report, "links that do not open for their user:\n" + "\n".join(report)
    assert not dashes, "selects showing ---------: " + "; ".join(
        f"{url} ({', '.join(sorted(users))})" for url, users in sorted(dashes.items())
    )
    assert not codes, "codes shown where a label belongs: " + "; ".join(
        f"{code} ({', '.join(sorted(where)[:3])})" for code, where in sorted(codes.items())
    )
    assert not dates, "dates a phone may break over two lines: " + "; ".join(
        f"{date} ({', '.join(sorted(where)[:3])})" for date, where in sorted(dates.items())
    )
    assert not unlabelled, "controls and links without a label, or ids used twice: " + "; ".join(
        f"{control} ({', '.join(sorted(where)[:3])})"
        for control, where in sorted(unlabelled.items())
    )
    assert not unnamed, "households shown by their 户编号 without their head's name: " + "; ".join(
        f"{page} ({', '.join(sorted(where)[:2])})" for page, where in sorted(unnamed.items())
    )
    assert not headings, "pages whose title is missing, doubled or not first: " + "; ".join(
        f"{problem} ({', '.join(sorted(pages)[:6])})" for problem, pages in sorted(headings.items())
    )
    assert requested > 500  # the links themselves were followed, not only one page per kind


def test_the_walk_catches_a_refused_link_the_dashes_a_code_and_a_date(demo_users, monkeypatch):
    """The rules above can fail: a helper offered 剔除核查 is refused, a select of a model
    form shows `---------` when the house label is not applied, a list named by its layout's
    key shows a code, a date in running text may break, a field named only by its
    placeholder has no label, and a 户编号 link is read with the row it stands in (where its
    head's name must be)."""
    from monitoring.views import dashboard
    from povertyapp import forms as house

    monkeypatch.setattr(
        dashboard,
        "SECTIONS",
        tuple((name, label, lambda user: True) for name, label, _allowed in dashboard.SECTIONS),
    )
    client = Client()
    client.force_login(demo_users["helper"], backend="povertyapp.backends.ModelBackendWithRegion")
    walked = walk(client, ["/monitoring/"])
    assert "/monitoring/scrutiny/" in walked.offered
    assert client.get("/monitoring/scrutiny/").status_code == 403

    monkeypatch.setattr(house, "_label_empty_choice", lambda field: None)
    client.force_login(demo_users["county"], backend="povertyapp.backends.ModelBackendWithRegion")
    assert DASH_OPTION.search(client.get("/assistance/projects/new/").content.decode())
    assert codes_shown("<td><a>medical_costs 2026年12月</a><br>医保_名单.xlsx</td>") == [
        "medical_costs"
    ]
    assert codes_shown("<p title='x_y'>大额医疗费用个人自付</p><script>a_b</script>") == ["x_y"]
    assert breakable_dates("<p>办结期限 2026-12-10</p><option>2026-12-11</option>") == [
        "'办结期限 2026-12-10' in <p>"
    ]
    assert not breakable_dates('<p>办结期限 <span class="date">2026-12-10</span></p>')
    assert unlabelled_controls(
        '<label for="id_a">甲</label><input id="id_a"><label>乙 <select name="b"></select></label>'
        '<input name="c" aria-label="丙"><input type="hidden" name="d">'
        '<input name="reason" placeholder="退回理由">'
    ) == ["<input name='reason'>"]
    assert duplicate_ids('<input id="id_year"><p id="x"></p><input id="id_year">') == ["id_year"]
    assert empty_links(
        '<a href="/a/"></a><a href="/b/"><img alt="图"></a><a href="/c/">丙</a>'
    ) == ["/a/"]
    assert household_rows(
        '<table><tr><td><a href="/h/1/">5226221002000001</a></td><td>覃鹏龙</td></tr></table>'
        '<p>受益户 <a href="/h/2/">5226221002000002</a>、'
        '<a href="/h/3/">5226221002000003</a> 张三</p>'
        '<ul><li><a href="/x/">第一批</a> 12</li></ul>'
    ) == [
        ("5226221002000001", "5226221002000001覃鹏龙"),
        ("5226221002000002", "受益户 5226221002000002、5226221002000003 张三"),
        ("5226221002000003", "受益户 5226221002000002、5226221002000003 张三"),
    ]
