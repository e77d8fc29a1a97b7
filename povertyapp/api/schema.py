"""The OpenAPI schema class of the API (drf-spectacular's, with one correction).

DRF drops `allow_blank` from read-only fields of a ModelSerializer (and a field declared by hand
with `source="member_id"` carries no `allow_null`), so drf-spectacular described a read-only
choice field of a `blank=True` column as an enum without "" and a nullable foreign key as a
plain integer: responses the API really sends ("" for no exit policy, null for no member)
broke its own schema. For read-only fields backed by a model column, the column's `blank` and
`null` are restored before the field is described.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


def _model_field(field: serializers.Field) -> models.Field | None:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if model is None or not source or source == "*" or "." in source:
        return None
    try:
        return model._meta.get_field(source)
    except FieldDoesNotExist:
        for candidate in model._meta.concrete_fields:
            if candidate.attname == source:
                return candidate
    return None


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(
        self, field: serializers.Field, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        if field.read_only:
            model_field = _model_field(field)
            if model_field is not None:
                if (
                    isinstance(field, serializers.ChoiceField)
                    and model_field.blank
                    and not field.allow_blank
                ):
                    field.allow_blank = True
                if model_field.null and not field.allow_null:
                    field.allow_null = True
        return super()._map_serializer_field(field, direction, bypass_extensions)
