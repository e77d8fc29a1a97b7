"""The API's one upload field: evidence through the upload guard (`povertyapp.uploads`).

A serializer takes a file only through `EvidenceUploadField`, as a form only through
`uploads.EvidenceField` (`tests/povertyapp/test_uploads.py` holds both rules): the file's
content, name and size are checked before any service sees it, and a refusal is the field's
400 with the guard's Chinese message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from povertyapp import uploads


class EvidenceUploadField(serializers.FileField):
    def __init__(self, *args: Any, accept: tuple[str, ...] = uploads.IMAGES_AND_PDF, **kwargs: Any):
        self.accept = accept
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        upload = super().to_internal_value(data)
        try:
            uploads.check_evidence(upload, accept=self.accept)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return upload


GUARDED_API_FIELDS = (EvidenceUploadField,)
