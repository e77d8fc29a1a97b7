"""Every string a user reads is marked for translation (issue 17), read from the source.

tests/povertyapp/test_english_pages.py renders the pages a role reaches; this test reads what no
walk reaches (an error branch, a message after a POST, a script's text) in the source itself:

- **templates**: no Chinese in a template's text or in a `{{ }}` literal outside
  `{% translate %}`, `{% blocktranslate %}` and `_("…")`, except in comments, `<script>` and
  `<style>` and the literals of `TEMPLATE_LITERALS` (each with why it is not translated);
- **scripts** (static/js, ours): every Chinese string literal is the argument of `gettext`,
  `ngettext` or `pgettext` (Django's JavaScript catalog, /jsi18n/), except `SCRIPT_LITERALS`
  (stored values compared or written, never shown);
- **Python**: a Chinese literal (or f-string) given to what shows it — `messages.*`,
  `ValidationError`, `PermissionDenied`, `Http404`, an `HttpResponse`, or a `label`,
  `help_text`, `verbose_name`, `empty_label`, `title` argument — is inside a translation call;
  a `TextChoices` member's label is translated; and no eager `gettext` (`_` imported as
  `gettext`, `ngettext`, `pgettext`) runs at import, in a module's or a class's body, where it
  would freeze the text in the language of the process start (use `gettext_lazy` there).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.template.base import DebugLexer, TokenType

ROOT = Path(__file__).resolve().parents[2]
APPS = ("povertyapp", "households", "rounds", "assistance", "inspections", "monitoring", "years")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3001-\u303f\uff01-\uff5e]")

# (template, literal): why it stays Chinese on an English page.
TEMPLATE_LITERALS: dict[tuple[str, str], str] = {
    ("ledgers/assistance_import.html", "、"): "between the workbook's column headers, marked "
    'translate="no": the headers are typed in the file as they are',
    ("households/national/index.html", "；"): "the national system's code table, marked "
    'translate="no": reproduced as it publishes it',
}
# (script, literal): why it is not translated.
SCRIPT_LITERALS = {
    ("id-number.js", "男"): "the sex field's stored value, written into the form",
    ("id-number.js", "女"): "the sex field's stored value, written into the form",
    ("id-number.js", "居民身份证"): "the ID type field's stored value, compared",
}

# (module, literal): why it is given to a displaying call untranslated.
PYTHON_LITERALS = {
    ("households/national/layouts.py", "户基本信息"): "the national system's record name, "
    'shown as it publishes it (translate="no" on the national page)',
    ("households/national/layouts.py", "家庭成员信息"): "the national system's record name",
    ("households/national/layouts.py", "四类名单"): "the national system's record name",
    ("povertyapp/ledgers/layout.py", "黑体"): "a font of the workbook (its `title` format)",
    ("monitoring/demo_lists.py", "大额医疗费用个人自付"): "demo data: a department's workbook",
    ("monitoring/demo_lists.py", "车辆登记"): "demo data: a department's workbook",
    ("monitoring/demo_identities.py", "农村低收入人口身份"): "demo data: a department's workbook",
}
LAZY = {"gettext_lazy", "ngettext_lazy", "pgettext_lazy", "npgettext_lazy", "format_lazy"}
EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}
MARKERS = LAZY | EAGER | {"gettext_noop", "_"}
SINK_CALLS = {
    "ValidationError",
    "PermissionDenied",
    "Http404",
    "HttpResponse",
    "HttpResponseBadRequest",
    "HttpResponseForbidden",
    "success",
    "error",
    "warning",
    "info",
    "add_message",
}
SINK_KEYWORDS = {
    "label",
    "help_text",
    "verbose_name",
    "verbose_name_plural",
    "empty_label",
    "title",
}


# --- templates -------------------------------------------------------------------------------


def _templates() -> list[tuple[str, Path]]:
    return sorted(
        (path.relative_to(directory).as_posix(), path)
        for directory in [ROOT / "templates", *ROOT.glob("*/templates")]
        for path in directory.rglob("*.html")
    )


SKIP_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
}
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
TAG = re.compile(r"<[^>]*>")
VISIBLE = re.compile(r"""\b(title|placeholder|alt|aria-label)\s*=\s*["']([^"']*)["']""")
STRING = re.compile(r""""([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'""")


def template_problems(name: str, source: str) -> list[str]:
    """The Chinese a template shows without a translation tag."""
    problems = []
    skip_until: str | None = None
    text_parts: list[str] = []
    for token in DebugLexer(source).tokenize():
        line = source[: token.position[0]].count("\n") + 1
        if token.token_type == TokenType.BLOCK:
            word = (token.contents.split() or [""])[0]
            if skip_until is None and word in SKIP_BLOCKS:
                skip_until = SKIP_BLOCKS[word]
            elif word == skip_until:
                skip_until = None
            elif skip_until is None and word not in ("translate", "trans"):
                problems += _literal_problems(name, line, token.contents)
            text_parts.append(" ")
        elif skip_until is not None:
            continue
        elif token.token_type == TokenType.VAR:
            problems += _literal_problems(name, line, token.contents)
            text_parts.append(" ")
        elif token.token_type == TokenType.TEXT:
            text_parts.append(token.contents)
    text = SCRIPT_OR_STYLE.sub(" ", "".join(text_parts))
    # A tag shows the values of its visible attributes; its other attributes are machine values.
    text = TAG.sub(lambda tag: " ".join(value for _, value in VISIBLE.findall(tag.group())), text)
    for run in re.findall(r"\S*[\u3400-\u9fff\u3001-\u303f\uff01-\uff5e]\S*", text):
        if (name, run) not in TEMPLATE_LITERALS:
            problems.append(f"{name}: text {run!r}")
    return problems


def _literal_problems(name: str, line: int, contents: str) -> list[str]:
    """Chinese string literals of a tag or variable that are not inside `_("…")`."""
    outside = re.sub(r"""_\(\s*("[^"]*"|'[^']*')\s*\)""", "", contents)
    return [
        f"{name}:{line}: literal {literal!r} in {{{contents}}}"
        for double, single in STRING.findall(outside)
        if HAN.search(literal := double or single) and not _compares(contents, literal)
    ]


def _compares(contents: str, literal: str) -> bool:
    """`{% if x == "因病" %}`: a stored value compared, not shown."""
    return bool(re.search(rf"""(==|!=|\bin)\s*["']{re.escape(literal)}["']""", contents)) or bool(
        re.search(rf"""["']{re.escape(literal)}["']\s*(==|!=|\bin\b)""", contents)
    )


# --- scripts ---------------------------------------------------------------------------------

JS_TOKEN = re.compile(
    r"""//[^\n]*|/\*.*?\*/|"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'""",
    re.S,
)
JS_MARKED = re.compile(r"\b(?:gettext|ngettext|pgettext)\(\s*$")


def script_problems(name: str, source: str) -> list[str]:
    problems = []
    for match in JS_TOKEN.finditer(source):
        literal = match.group(1) if match.group(1) is not None else match.group(2)
        if literal is None or not HAN.search(literal):
            continue
        before = source[: match.start()]
        # the literal opens a gettext call, or is ngettext's second form ("…", "…")
        marked = JS_MARKED.search(before) or re.search(
            r"""\bngettext\(\s*("[^"]*"|'[^']*')\s*,\s*$""", before
        )
        if not marked and (name, literal) not in SCRIPT_LITERALS:
            line = before.count("\n") + 1
            problems.append(f"static/js/{name}:{line}: {literal!r}")
    return problems


# --- Python ----------------------------------------------------------------------------------


def _python_files() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and "management" not in path.parts
    )


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _chinese_outside_markers(node: ast.AST) -> list[str]:
    """The Chinese literals under `node` that no translation call wraps."""
    found: list[str] = []

    def visit(child: ast.AST) -> None:
        if isinstance(child, ast.Call) and _name(child.func) in MARKERS:
            return
        if (
            isinstance(child, ast.Constant)
            and isinstance(child.value, str)
            and HAN.search(child.value)
        ):
            found.append(child.value)
            return
        for grandchild in ast.iter_child_nodes(child):
            visit(grandchild)

    visit(node)
    return found


def python_problems(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    where = path.relative_to(ROOT).as_posix()
    eager = {"gettext", "ngettext", "pgettext", "npgettext"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                if alias.name in EAGER:
                    eager.add(alias.asname or alias.name)
                elif alias.asname in eager:
                    eager.discard(alias.asname)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            arguments: list[ast.AST] = []
            if _name(node.func) in SINK_CALLS:
                arguments += node.args
            arguments += [k.value for k in node.keywords if k.arg in SINK_KEYWORDS]
            for argument in arguments:
                problems += [
                    f"{where}:{node.lineno}: {literal!r} shown untranslated"
                    for literal in _chinese_outside_markers(argument)
                    if (where, literal) not in PYTHON_LITERALS
                ]
        if isinstance(node, ast.ClassDef) and any(
            _name(base) in ("TextChoices", "IntegerChoices") for base in node.bases
        ):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                    labels = statement.value.elts[1:]
                    problems += [
                        f"{where}:{statement.lineno}: choice label {literal!r} untranslated"
                        for label in labels
                        for literal in _chinese_outside_markers(label)
                    ]
    problems += _eager_at_import(tree, where, eager)
    return problems


def _eager_at_import(tree: ast.Module, where: str, eager: set[str]) -> list[str]:
    """Eager gettext calls run in a module's or a class's body (not inside a function)."""
    problems = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in eager:
            problems.append(
                f"{where}:{node.lineno}: {ast.unparse(node)[:60]} runs at import (use gettext_lazy)"
            )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return problems


# --- the tests -------------------------------------------------------------------------------


def test_templates_show_no_chinese_outside_translation_tags():
    problems = [
        problem
        for name, path in _templates()
        for problem in template_problems(name, path.read_text(encoding="utf-8"))
    ]
    assert not problems, "Chinese outside {% translate %} in templates:\n" + "\n".join(problems)


def test_scripts_translate_every_chinese_literal_through_the_javascript_catalog():
    problems = [
        problem
        for path in sorted((ROOT / "static" / "js").glob("*.js"))
        for problem in script_problems(path.name, path.read_text(encoding="utf-8"))
    ]
    assert not problems, "Chinese literals outside gettext() in scripts:\n" + "\n".join(problems)


def test_python_shows_no_untranslated_chinese_and_translates_nothing_at_import():
    problems = [problem for path in _python_files() for problem in python_problems(path)]
    assert not problems, "Untranslated or import-time Chinese in Python:\n" + "\n".join(problems)


def test_the_readers_find_what_they_look_for():
    template = (
        '{% load i18n %}<p title="标题">{% translate "户主" %}：{{ x|default:"全户" }}'
        '{{ y|default:_("全户") }}{% if s == "因病" %}{% endif %}</p>{# 注释 #}'
        '{% blocktranslate %}共{{ n }}户{% endblocktranslate %}<script>var a = "中";</script>'
    )
    assert template_problems("t.html", template) == [
        "t.html:1: literal '全户' in {x|default:\"全户\"}",
        "t.html: text '标题'",
        "t.html: text '：'",
    ]
    script = 'var a = gettext("是"); var b = "否"; // 注释\nngettext("%s户", "%s户", n);'
    assert script_problems("x.js", script) == ["static/js/x.js:1: '否'"]
    python = (
        "from django.utils.translation import gettext as _\n"
        "from django.utils.translation import gettext_lazy\n"
        "LABEL = _('标签')\n"
        "LAZY = gettext_lazy('标签')\n"
        "def view(request):\n"
        "    messages.error(request, f'{x}：已保存')\n"
        "    messages.error(request, _('已保存'))\n"
        "    forms.CharField(label='姓名')\n"
    )
    path = ROOT / "tests" / "povertyapp" / "_reader_case.py"
    try:
        path.write_text(python, encoding="utf-8")
        found = python_problems(path)
    finally:
        path.unlink()
    assert [problem.split(": ", 1)[1] for problem in found] == [
        "'：已保存' shown untranslated",
        "'姓名' shown untranslated",
        "_('标签') runs at import (use gettext_lazy)",
    ]
