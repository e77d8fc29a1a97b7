"""Display labels of the fixed value lists stored as their Chinese value (资金来源): in the
user's language, like the choices of a model field (`get_FOO_display`), for rows that are
plain values (aggregates, dictionaries)."""

from __future__ import annotations

from django import template

from assistance.models import FundSource, Project

register = template.Library()


@register.filter
def fund_source_label(value: str | None) -> str:
    """`中央财政专项扶贫资金` → its translated label; a value outside the list is shown as is."""
    if not value:
        return ""
    try:
        return str(FundSource(value).label)
    except ValueError:
        return str(value)


@register.filter
def project_category_label(value: str | None) -> str:
    """`生活条件改善` (a project's 项目类别) → its translated label; any other value (a measure's
    category, from the province's value list: user data) is shown as is."""
    if not value:
        return ""
    try:
        return str(Project.Category(value).label)
    except ValueError:
        return str(value)
