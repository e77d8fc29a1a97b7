"""The API's upload fields: evidence through the upload guard (`povertyapp.uploads`), and a
field photo through `povertyapp.photos`.

A serializer takes a file only through `EvidenceUploadField` or `PhotoUploadField`, as a form
only through `uploads.EvidenceField` (`tests/povertyapp/test_uploads.py` holds both rules): the
file's content, name and size are checked before any service sees it, and a refusal is the
field's 400 with the guard's Chinese message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
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


class PhotoUploadField(serializers.FileField):
    """One field photo (an offline upload, docs/offline.md): through `photos.photo_process`
    (JPEG/PNG by content, decoded, no bomb, re-encoded without EXIF); the value is the
    processed photo, the refusal the field's 400 naming the file."""

    def to_internal_value(self, data: Any) -> Any:
        from povertyapp import photos

        upload = super().to_internal_value(data)
        try:
            return photos.photo_process(upload)
        except DjangoValidationError as error:
            name = (getattr(upload, "name", "") or "").rsplit("/", 1)[-1]
            raise serializers.ValidationError(
                _("照片“%(name)s”：%(error)s") % {"name": name, "error": error.messages[0]}
            ) from None


GUARDED_API_FIELDS = (EvidenceUploadField, PhotoUploadField)
