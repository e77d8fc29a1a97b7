"""The English catalog translates every message the code and templates mark.

`make messages` (makemessages) merges each new msgid into locale/en/LC_MESSAGES/django.po with
an empty msgstr, or with a guessed one flagged `fuzzy` that Django ignores at runtime: either
way the English interface shows Chinese. This test runs the same makemessages over a copy of the
tree, so the developer's catalog is never rewritten, and fails listing every msgid left
untranslated or fuzzy, and every python-format translation that drops or renames a placeholder
of its msgid (which would raise KeyError or print the wrong value).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
CATALOG = Path("locale") / "en" / "LC_MESSAGES" / "django.po"
# The scripts' catalog (static/js, served by /jsi18n/), merged by `makemessages -d djangojs`.
JS_CATALOG = Path("locale") / "en" / "LC_MESSAGES" / "djangojs.po"
# The Makefile's `messages` target ignores these two; the rest are not source (uploads,
# generated files, caches) and `make messages` would not find messages in them either.
MAKEFILE_IGNORES = [".venv", "static/vendor"]
NOT_SOURCE = {"media", "artifacts", "staticfiles", "var", "node_modules", "__pycache__"}
NOT_SOURCE_SUFFIXES = (
    ".pyc",
    ".mo",
    ".sqlite3",
    ".sqlite3-journal",
    ".sqlite3-wal",
    ".sqlite3-shm",
)
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conversion>[a-zA-Z%])"
)


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    locations: list[str] = field(default_factory=list)
    obsolete: bool = False

    def describe(self) -> str:
        where = self.locations[0] if self.locations else "no location"
        context = f" (msgctxt {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"{self.msgid!r}{context} at {where}"


def _unquote(text: str) -> str:
    body = text.strip()
    assert body.startswith('"') and body.endswith('"'), f"not a PO string: {text!r}"
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda match: escapes.get(match[1], match[1]), body[1:-1])


def parse_po(text: str) -> list[Entry]:
    """The entries of a PO file as gettext writes it (one keyword per line, continuation
    strings below it); `#|` previous msgids are skipped, `#~` entries kept as obsolete."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None
    started = False

    def finish() -> None:
        nonlocal entry, target, started
        if started:
            entries.append(entry)
        entry, target, started = Entry(), None, False

    for raw in text.splitlines():
        line = raw
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].lstrip()
            if line.startswith("|"):  # an obsolete entry's previous msgid
                continue
        if not line.strip():
            finish()
            continue
        if line.startswith("#"):
            if started and target is not None and target[0] == "msgstr":
                finish()
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#:"):
                entry.locations.extend(line[2:].split())
            continue
        if line.startswith('"'):
            assert target is not None, f"continuation string outside an entry: {raw!r}"
            name, index = target
            value = _unquote(line)
            if name == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, name, (getattr(entry, name) or "") + value)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and target is not None and target[0] == "msgstr":
            finish()
        started = True
        plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(entry, keyword, _unquote(rest))
            target = (keyword, 0)
        elif keyword == "msgstr" or plural:
            entry.msgstr.append(_unquote(rest))
            target = ("msgstr", len(entry.msgstr) - 1)
        else:
            raise AssertionError(f"unknown PO line: {raw!r}")
    finish()
    return entries


def placeholders(text: str) -> tuple[set[str], list[str]]:
    """The named placeholders (`%(name)s`) and the positional conversions (`%s`, `%d`) in
    order; `%%` is a literal percent sign."""
    named: set[str] = set()
    positional: list[str] = []
    for match in PLACEHOLDER.finditer(text):
        if match["conversion"] == "%":
            continue
        if match["name"] is not None:
            named.add(match["name"])
        else:
            positional.append(match["conversion"])
    return named, positional


def placeholder_problem(entry: Entry) -> str | None:
    """Why the entry's translation breaks its msgid's python-format placeholders, or None."""
    if "python-format" not in entry.flags:
        return None
    wanted = placeholders(entry.msgid)
    if entry.msgid_plural is not None:
        plural = placeholders(entry.msgid_plural)
        wanted = (wanted[0] | plural[0], plural[1] or wanted[1])
    for index, form in enumerate(entry.msgstr):
        found = placeholders(form)
        if entry.msgid_plural is None or index == len(entry.msgstr) - 1:
            broken = found != wanted
        else:
            # A singular form may leave the count out ("one result"), not invent a name.
            broken = not found[0] <= wanted[0] or bool(found[1] and found[1] != wanted[1])
        if broken:
            label = "msgstr" if entry.msgid_plural is None else f"msgstr[{index}]"
            return f"msgid has {_show(*wanted)}, {label} has {_show(*found)}"
    return None


def _show(named: set[str], positional: list[str]) -> str:
    shown = [f"%({name})" for name in sorted(named)] + [
        f"%{conversion}" for conversion in positional
    ]
    return ", ".join(shown) or "no placeholder"


def _copy_ignore(directory: str, names: list[str]) -> set[str]:
    relative = Path(directory).relative_to(ROOT)
    return {
        name
        for name in names
        if name.startswith(".")
        or name in NOT_SOURCE
        or name.endswith(NOT_SOURCE_SUFFIXES)
        or (relative / name).as_posix() in MAKEFILE_IGNORES
    }


@pytest.fixture(scope="module")
def merged_catalog(tmp_path_factory: pytest.TempPathFactory) -> list[Entry]:
    """The English catalog after `make messages` over a copy of the tree."""
    missing = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"GNU gettext is not installed ({', '.join(missing)} missing): makemessages cannot "
            "run. Install the gettext package (CI does, see .ci/run)."
        )
    copy = tmp_path_factory.mktemp("catalog") / "tree"
    shutil.copytree(ROOT, copy, ignore=_copy_ignore)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        # The copy's packages first: its settings put LOCALE_PATHS in the copy.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(copy), os.environ.get("PYTHONPATH")])),
    }
    ignores = [f"--ignore={pattern}" for pattern in MAKEFILE_IGNORES]
    for domain in ("django", "djangojs"):
        result = subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "en", "-d", domain, *ignores],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    merged = parse_po((copy / CATALOG).read_text(encoding="utf-8"))
    scripts = parse_po((copy / JS_CATALOG).read_text(encoding="utf-8"))
    assert any(entry.msgid for entry in scripts), "the djangojs catalog holds no message"
    for entry in scripts:
        entry.locations = [f"(djangojs) {where}" for where in entry.locations]
    return merged + scripts


def test_makemessages_leaves_no_english_msgid_untranslated_or_fuzzy(merged_catalog):
    current = [entry for entry in merged_catalog if not entry.obsolete and entry.msgid]
    untranslated = [entry for entry in current if not all(entry.msgstr)]
    fuzzy = [entry for entry in current if "fuzzy" in entry.flags]
    problems = [f"untranslated: {entry.describe()}" for entry in untranslated] + [
        f"fuzzy: {entry.describe()}" for entry in fuzzy
    ]
    assert not problems, (
        f"{len(untranslated)} untranslated and {len(fuzzy)} fuzzy English messages. Run "
        "`make messages`, translate them in locale/en/LC_MESSAGES/django.po (a fuzzy one: "
        "check the msgstr, remove the flag and the #| lines), then "
        "`manage.py compilemessages -l en`:\n" + "\n".join(problems)
    )
    assert len(current) > 2000  # the catalog was parsed, not an empty file


def test_english_translations_keep_the_placeholders_of_their_msgid(merged_catalog):
    problems = [
        f"{entry.describe()}: {problem}"
        for entry in merged_catalog
        if not entry.obsolete and all(entry.msgstr)
        if (problem := placeholder_problem(entry)) is not None
    ]
    assert not problems, "English translations that drop or rename a placeholder:\n" + "\n".join(
        problems
    )


def test_the_parser_reads_flags_plurals_and_continuations():
    text = (
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#: a.py:1 b.py:2\n#, fuzzy, python-format\n#| msgid "旧%(n)d"\n'
        'msgid "共%(n)d"\nmsgstr ""\n"%(n)d "\n"in \\"all\\""\n\n'
        '#: c.html:3\n#, python-format\nmsgid "%(counter)s result"\n'
        'msgid_plural "%(counter)s results"\nmsgstr[0] "one result"\n'
        'msgstr[1] "%(counter)s results"\n\n'
        '#~ msgid "旧"\n#~ msgstr "Old"\n'
    )
    header, fuzzy, plural, obsolete = parse_po(text)
    assert header.msgid == "" and header.msgstr == ["Language: en\n"]
    assert (fuzzy.msgid, fuzzy.msgstr) == ("共%(n)d", ['%(n)d in "all"'])
    assert fuzzy.flags == {"fuzzy", "python-format"}
    assert fuzzy.locations == ["a.py:1", "b.py:2"]
    assert plural.msgstr == ["one result", "%(counter)s results"]
    assert placeholder_problem(plural) is None
    assert (obsolete.msgid, obsolete.msgstr, obsolete.obsolete) == ("旧", ["Old"], True)


@pytest.mark.parametrize(
    ("msgid", "msgstr", "broken"),
    [
        ("共%(rows)d条", "%(rows)d rows", False),
        ("共%(rows)d条，%(pages)d页", "%(rows)d rows", True),  # dropped
        ("共%(rows)d条", "%(row)d rows", True),  # renamed
        ("比例%(share)s%%", "share %(share)s%%", False),
        ("第%s行，第%d列", "row %s, column %d", False),
        ("第%s行，第%d列", "column %d, row %s", True),  # positional order changed
    ],
)
def test_a_placeholder_dropped_or_renamed_is_found(msgid, msgstr, broken):
    entry = Entry(msgid=msgid, msgstr=[msgstr], flags={"python-format"})
    assert (placeholder_problem(entry) is not None) is broken
