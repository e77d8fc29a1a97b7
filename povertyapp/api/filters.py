"""Filter fields of the API (every app's) whose OpenAPI description says what the server
accepts, so that a value the schema allows is never refused (schemathesis generates from the
schema).

A query string never carries a long number other than a region code: the search-terms
middleware (`povertyapp.search_terms`) refuses 12 to 19 digits anywhere but a `region` or
`village` parameter holding a 12- or 15-digit code. Hence codes are exactly those, and ids stay
below 12 digits (no table comes near that).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# Empty is allowed: an empty parameter filters nothing.
REGION_CODE_PATTERN = r"^(\d{12}(\d{3})?)?$"
YEAR_MIN, YEAR_MAX = 2010, 2100
ID_MAX = 10**11 - 1


class _Described:
    """A filter whose OpenAPI schema is `schema` plus its label as the description (a schema
    given with `extend_schema_field` replaces drf-spectacular's own, label and all)."""

    schema: dict[str, Any] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = dict(self.schema)
        if kwargs.get("label"):
            schema["description"] = kwargs["label"]
        # What `drf_spectacular.utils.extend_schema_field` sets, here per filter.
        self._spectacular_annotation = {"field": schema}


class RegionCodeFilter(_Described, django_filters.CharFilter):
    """A statistical region code: 12 digits (15 for a 村民小组)."""

    schema = {"type": "string", "pattern": REGION_CODE_PATTERN}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "validators",
            [
                RegexValidator(
                    REGION_CODE_PATTERN,
                    message=_("请填写12位或15位统计用区划代码。"),
                    code="invalid",
                )
            ],
        )
        super().__init__(*args, **kwargs)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (django-filter's NumberFilter takes decimals)."""

    field_class = forms.IntegerField


class YearFilter(_Described, IntegerFilter):
    schema = {"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", YEAR_MIN)
        kwargs.setdefault("max_value", YEAR_MAX)
        super().__init__(*args, **kwargs)


class IdFilter(_Described, IntegerFilter):
    schema = {"type": "integer", "minimum": 1, "maximum": ID_MAX}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)
