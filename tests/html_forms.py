"""What a browser would post back from a rendered form, computed from the HTML alone.

`browser_data(html)` reads every control of the page's forms the way a browser builds its form
data set (HTML "constructing the entry list"): text inputs with their value, checkboxes and
radios only when checked, the selected option of a select (the first one when none is), every
selected option of a multiple select, textareas with their text (the newline after the opening
tag dropped), disabled controls and buttons left out. And it applies the browser's *value
sanitization*: an `<input type=date>` whose value is not ISO `YYYY-MM-DD` holds "" (this is how
a date rendered `2026/12/03` got lost), likewise `datetime-local`, `number` and `month`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.utils.datastructures import MultiValueDict

# The HTML "valid … string" grammars a browser checks before it keeps an input's value.
SANITIZE = {
    "date": re.compile(r"\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"),
    "month": re.compile(r"\d{4,}-(0[1-9]|1[0-2])"),
    "datetime-local": re.compile(
        r"\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
        r"[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?"
    ),
    "time": re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?"),
    "number": re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?"),
    "range": re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?"),
}
NOT_SENT = {"submit", "button", "reset", "image", "file"}


@dataclass
class Option:
    value: str
    selected: bool
    disabled: bool


@dataclass
class Select:
    name: str
    multiple: bool
    disabled: bool
    options: list[Option] = field(default_factory=list)


@dataclass
class HtmlForm:
    action: str | None
    method: str
    entries: list[tuple[str, str]] = field(default_factory=list)
    # What the browser's input elements hold (after sanitization), by name, for assertions.
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)

    def data(self) -> MultiValueDict[str, str]:
        data: MultiValueDict[str, str] = MultiValueDict()
        for name, value in self.entries:
            data.appendlist(name, value)
        return data


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.loose = HtmlForm(action=None, method="get")  # controls outside any <form>
        self.current: HtmlForm | None = None
        self.select: Select | None = None
        self.option: dict[str, str | None] | None = None
        self.option_text = ""
        self.textarea: dict[str, str | None] | None = None
        self.textarea_text = ""

    @property
    def target(self) -> HtmlForm:
        return self.current or self.loose

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.current = HtmlForm(
                action=attributes.get("action"), method=(attributes.get("method") or "get").lower()
            )
            self.forms.append(self.current)
        elif tag == "input":
            self._input(attributes)
        elif tag == "select":
            self.select = Select(
                name=attributes.get("name") or "",
                multiple="multiple" in attributes,
                disabled="disabled" in attributes,
            )
        elif tag == "option" and self.select is not None:
            self._close_option()
            self.option = attributes
            self.option_text = ""
        elif tag == "textarea":
            self.textarea = attributes
            self.textarea_text = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option_text += data
        if self.textarea is not None:
            self.textarea_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "option":
            self._close_option()
        elif tag == "select" and self.select is not None:
            self._close_option()
            self._select_entries(self.select)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            attributes = self.textarea
            name = attributes.get("name")
            text = self.textarea_text
            # The HTML parser drops one newline right after <textarea>.
            if text.startswith("\r\n"):
                text = text[2:]
            elif text.startswith("\n"):
                text = text[1:]
            if name and "disabled" not in attributes:
                self.target.entries.append((name, text.replace("\r\n", "\n").replace("\n", "\r\n")))
                self.target.inputs[name] = {"type": "textarea", "value": text}
            self.textarea = None

    def _close_option(self) -> None:
        if self.option is not None and self.select is not None:
            value = self.option.get("value")
            self.select.options.append(
                Option(
                    value=" ".join(self.option_text.split()) if value is None else value,
                    selected="selected" in self.option,
                    disabled="disabled" in self.option,
                )
            )
        self.option = None

    def _select_entries(self, select: Select) -> None:
        if not select.name or select.disabled:
            return
        chosen = [option for option in select.options if option.selected]
        if not select.multiple and not chosen:
            # A single select with nothing marked shows (and sends) its first enabled option.
            chosen = [option for option in select.options if not option.disabled][:1]
        if not select.multiple:
            chosen = chosen[-1:]
        for option in chosen:
            if not option.disabled:
                self.target.entries.append((select.name, option.value))
        self.target.inputs[select.name] = {
            "type": "select",
            "value": ",".join(option.value for option in chosen),
        }

    def _input(self, attributes: dict[str, str | None]) -> None:
        name = attributes.get("name")
        kind = (attributes.get("type") or "text").lower()
        if not name or "disabled" in attributes or kind in NOT_SENT:
            return
        value = attributes.get("value")
        if kind in ("checkbox", "radio"):
            if "checked" in attributes:
                self.target.entries.append((name, "on" if value is None else value))
            return
        value = value or ""
        if kind not in ("hidden", "password"):
            value = value.replace("\r", "").replace("\n", "")
        pattern = SANITIZE.get(kind)
        if pattern is not None and value and not pattern.fullmatch(value):
            self.target.rejected.append((name, kind, value))
            value = ""
        self.target.entries.append((name, value))
        self.target.inputs[name] = {"type": kind, "value": value}


def parse_forms(html: str) -> list[HtmlForm]:
    """Every `<form>` of the page; controls outside any form are collected as a last one."""
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return [*parser.forms, parser.loose]


def browser_data(html: str) -> HtmlForm:
    """The controls of an HTML fragment (a form's rendering) as one form a browser would post."""
    forms = parse_forms(html)
    merged = HtmlForm(action=None, method="post")
    for form in forms:
        merged.entries.extend(form.entries)
        merged.inputs.update(form.inputs)
        merged.rejected.extend(form.rejected)
    return merged


def form_holding(html: str, field: str) -> HtmlForm:
    """The page's POST form that holds `field`."""
    found = [
        form for form in parse_forms(html) if form.method == "post" and field in dict(form.entries)
    ]
    assert len(found) == 1, f"{len(found)} POST forms hold {field!r}"
    return found[0]
