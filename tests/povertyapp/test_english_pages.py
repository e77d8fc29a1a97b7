"""An English page shows no Chinese but data (issue 17): every page a role reaches from its menu.

The small demo county is seeded once; every user of the demo cast switches to English and walks
the site: its menu entries, then every link those pages offer, then the links of those (three
levels), one page per URL name and tab (`?tab=`) for each user, so that every kind of page each
role can reach is rendered with real records — the household page with all its tabs, the
assistance tabs, the 遍访问卷, the exit board, the problem data, the notices.

What counts as data, the sound way: **the values stored in the database by users or imports**.
Every string column of every model (and every string of a JSON column) is read after the seed,
except

- columns with `choices` (a fixed list, stored as its Chinese value): the page must show them
  through their translated label (`get_FOO_display`), so their values are not data;
- `CODE_WRITTEN`: columns the code fills from its own constants (a problem-data message, an
  event's summary): the page must show them translated as well.

The visible text of each page (text nodes outside `<script>`/`<style>`, and the `title`,
`placeholder`, `alt`, `aria-label` attributes and the `value` of buttons) is cut into runs of
Chinese characters; a run is data when it is made of pieces of stored values (a region's full
name is the names of its regions one after another). Every other run is a defect, reported with
the page, the user and the text around it. A literal in Chinese quotation marks (“是”, a
workbook's column “户编号”) is what the user must type or will find in a file, so it is kept. An
element whose `lang` attribute names Chinese
(`lang="zh-hans"`) is Chinese on purpose (the language switch offers 简体中文 in its own
language) and is skipped, and so is anything a template marks `translate="no"` (HTML's own
attribute for text that must not be translated: the national system's code tables, a workbook's
column headers).
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client
from django.utils import translation

from povertyapp.menu import menu_for
from tests.site_walk import VisibleText, walk

CJK = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Columns the code writes from its own (translatable) constants: shown translated, not data.
CODE_WRITTEN = {
    "households.DataProblem.message",
    "households.DataProblem.message_source",
    "inspections.Campaign.draw_notes",
    "inspections.SampleVillage.notes",
}
# Texts still Chinese on English pages, each with why: a ratchet, to be emptied (not grown).
KNOWN_UNTRANSLATED: dict[re.Pattern[str], str] = {}
# A literal the user types or finds in a file, quoted in the English text: “是”, “户编号”.
QUOTED = re.compile(r"“[^“”]*”")


# Each language's name in its own language, as the language switch offers it.
def _autonyms() -> set[str]:
    names = set()
    for code, name in settings.LANGUAGES:
        with translation.override(code):
            names.add(str(name))
    return names


AUTONYMS = _autonyms()


def stored_values() -> tuple[set[str], set[str]]:
    """The Chinese runs of every stored user value (see the module's docstring), whole and cut
    at their punctuation (a name is shown without the note it was stored in), and the values
    themselves (a value mixing digits and Chinese, "年增收1000元", is recognised whole)."""
    runs: set[str] = set()
    values: set[str] = set()
    for model in apps.get_models():
        fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, (models.CharField, models.TextField, models.JSONField))
            and not field.choices
            and f"{model._meta.label}.{field.name}" not in CODE_WRITTEN
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            for value in row:
                for text in _strings(value):
                    if HAN.search(text):
                        values.add(text.strip())
                        runs.update(CJK.findall(text))
                        runs.update(HAN_RUN.findall(text))
    # A single character is no evidence: "户" or "人" after a count must come from a catalog.
    return {run for run in runs if len(run) >= 2}, values


def _strings(value: object) -> list[str]:
    """The strings of a stored value: itself, or the keys and values of a JSON document (a
    department's list keeps its workbook's own column headers as keys)."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        return [text for pair in value.items() for item in pair for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def left_over(run: str, data: set[str], longest: int) -> list[str]:
    """The pieces of `run` that no stored run covers, when as much of it as possible is read
    as stored runs one after another (a region's full name, a name and its unit)."""
    # best[end]: (characters left over, pieces) for run[:end]
    best: list[tuple[int, list[str]]] = [(0, [])] + [(len(run) + 1, [])] * len(run)
    for end in range(1, len(run) + 1):
        count, pieces = best[end - 1]
        if pieces and pieces[-1]:  # the previous character was left over too
            candidate = (count + 1, [*pieces[:-1], pieces[-1] + run[end - 1]])
        else:
            candidate = (count + 1, [*pieces, run[end - 1]])
        for start in range(max(0, end - longest), end):
            if best[start][0] < candidate[0] and run[start:end] in data:
                candidate = (best[start][0], [*best[start][1], ""])
        best[end] = candidate
    return [piece for piece in best[-1][1] if piece]


def is_data(run: str, data: set[str], longest: int) -> bool:
    """Whether `run` is one stored run or several one after another."""
    return not left_over(run, data, longest)


def chinese_left(
    html: str, data: set[str], longest: int, values: frozenset[str] = frozenset()
) -> list[str]:
    """Each piece of Chinese text or punctuation of the page that is not data, with the text
    around it. A text that still holds some is read again without the stored values it
    contains verbatim (or, cut short with "…", begins)."""
    parser = VisibleText()
    parser.feed(html)
    found = []
    for text in parser.texts:
        if text.strip() in AUTONYMS:
            continue
        text = QUOTED.sub("", text)
        if any(pattern.search(text) for pattern in KNOWN_UNTRANSLATED):
            continue
        if any(left_over(m.group(), data, longest) for m in CJK.finditer(text)):
            text = _without_values(text, values)
        for match in CJK.finditer(text):
            pieces = left_over(match.group(), data, longest)
            if not pieces:
                continue
            start, end = max(match.start() - 20, 0), match.end() + 20
            found.append(f"{'|'.join(pieces)!r} in {' '.join(text[start:end].split())!r}")
    return found


@pytest.fixture
def demo_users(db, settings, tmp_path):
    from povertyapp import demo

    settings.MEDIA_ROOT = tmp_path
    return demo.seed(households=20, seed=1)["users"]


def _without_values(text: str, values: frozenset[str]) -> str:
    stripped = text.strip()
    if stripped.endswith("…") and any(stripped[:-1] in value for value in values):
        return ""
    for value in sorted((v for v in values if v in text), key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def test_every_page_of_every_role_in_english_shows_chinese_only_in_data(demo_users):
    data, stored = stored_values()
    values = frozenset(stored)
    longest = max(map(len, data))
    problems: dict[str, set[str]] = defaultdict(set)
    walked = 0
    for username, user in demo_users.items():
        client = Client(raise_request_exception=True)
        client.force_login(user, backend="povertyapp.backends.ModelBackendWithRegion")
        client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        starts = ["/", *(link.url for link in menu_for(user))]
        for url, html in walk(client, starts).pages.items():
            walked += 1
            for problem in chinese_left(html, data, longest, values):
                problems[problem].add(f"{username} {url}")
    report = [
        f"{problem}  ({len(where)}× e.g. {sorted(where)[0]})"
        for problem, where in sorted(problems.items())
    ]
    assert not report, f"Chinese left on English pages ({len(report)}):\n" + "\n".join(report)
    assert walked > 100  # the walk reached the pages, not only the menu


def test_a_run_made_of_stored_values_is_data_and_any_other_is_not():
    data = {"黄平县", "新州镇", "张三"}
    values = frozenset({"已落实，年增收1000元", "错评，涉及3人。家庭收入"})
    assert (
        chinese_left("<p>已落实，年增收1000元</p><p>错评，涉及3人。家…</p>", data, 3, values) == []
    )
    assert chinese_left("<p>年增收1000元</p>", data, 3, values) != []
    assert is_data("黄平县新州镇", data, 3)
    assert is_data("张三", data, 3)
    assert not is_data("张三户", data, 3)
    assert chinese_left('<p title="户主">Head: 张三</p>', data, 3) == ["'户主' in '户主'"]
    marked = '<option lang="zh-hans">简体中文</option><script>"中"</script><p>“是”</p>'
    assert chinese_left(marked, data, 3) == []
