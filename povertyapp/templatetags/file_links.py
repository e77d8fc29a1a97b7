"""`{% file_url "kind" obj %}`: the door's link to an object's stored file for the current user."""

from __future__ import annotations

from typing import Any

from django import template

from povertyapp import files

register = template.Library()


@register.simple_tag(takes_context=True)
def file_url(context: dict[str, Any], kind: str, obj: Any) -> str:
    """The signed download link of `obj`'s file of file kind `kind`, for the request's user;
    empty when the object has no file (so `{% if %}` around the link stays the template's
    business, and a missing file never renders a dead link)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    file_kind = files.kind_get(kind)
    if file_kind is None:
        raise template.TemplateSyntaxError(f"unknown file kind {kind!r}")
    if obj is None or user is None or not user.is_authenticated:
        return ""
    if not file_kind.file_of(obj).name:
        return ""
    return files.download_url(user=user, kind=kind, obj=obj)


@register.simple_tag(takes_context=True)
def image_url(context: dict[str, Any], kind: str, obj: Any) -> str:
    """The signed inline link of an image kind's file (a field photo): shown in the page by the
    door's `files:inline`, with the same checks as a download. Empty as `file_url`."""
    request = context.get("request")
    user = getattr(request, "user", None)
    file_kind = files.kind_get(kind)
    if file_kind is None or not file_kind.image:
        raise template.TemplateSyntaxError(f"{kind!r} is not an image file kind")
    if obj is None or user is None or not user.is_authenticated:
        return ""
    if not file_kind.file_of(obj).name:
        return ""
    return files.download_url(user=user, kind=kind, obj=obj, inline=True)
