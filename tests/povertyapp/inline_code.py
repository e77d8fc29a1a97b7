"""Finds markup that a strict Content-Security-Policy refuses: inline scripts, on* handlers,
javascript: URLs, <style> elements and style attributes. Used on template files and on pages."""

from __future__ import annotations

import re

DJANGO_COMMENTS = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
DATA_SCRIPT_TYPES = re.compile(r"""type\s*=\s*["']application/(ld\+)?json["']""", re.I)
HANDLER = re.compile(r"""<[a-z][^<>]*?\son[a-z]+\s*=\s*["']""", re.I | re.S)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
STYLE_ATTRIBUTE = re.compile(r"""<[a-z][^<>]*?\sstyle\s*=\s*["']""", re.I | re.S)


def inline_code(text: str) -> list[str]:
    """What in `text` (a template or a page) would need 'unsafe-inline'."""
    text = DJANGO_COMMENTS.sub("", text)
    problems = []
    for match in SCRIPT_TAG.finditer(text):
        attributes = match.group(1)
        if "src=" not in attributes and not DATA_SCRIPT_TYPES.search(attributes):
            problems.append(f"inline script: {match.group(0)}")
    problems += [f"event handler: {m.group(0)[-60:]}" for m in HANDLER.finditer(text)]
    problems += [f"javascript: URL: {m.group(0)}" for m in JAVASCRIPT_URL.finditer(text)]
    problems += [f"<style> element: {m.group(0)}" for m in STYLE_ELEMENT.finditer(text)]
    problems += [f"style attribute: {m.group(0)[-60:]}" for m in STYLE_ATTRIBUTE.finditer(text)]
    return problems
