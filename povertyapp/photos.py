"""Field photos (现场照片, issue 17): what a photo of a visit or an 入户核实 is, how an upload
becomes one, and how many an owner may carry.

Each owner app has its own photo model (`assistance.VisitPhoto` for a 走访,
`households.StepPhoto` for the 入户核实 step of a procedure), built on `PhotoBase` here: the
owners live on different floors (households < assistance), so one model with a foreign key to
each would point upwards (docs/ARCHITECTURE.md, "Field photos").

An upload is accepted only as a photo (`photo_process`):

1. within PHOTO_UPLOAD_MAX_BYTES, and not empty;
2. JPEG or PNG by its magic bytes (`filetype`), whatever its name says;
3. at most PHOTO_MAX_PIXELS pixels by its header (a decompression bomb is refused before any
   pixel is decoded; Pillow's own `MAX_IMAGE_PIXELS` guard is turned into an error too);
4. decoded whole by Pillow (a truncated or hostile file fails here);
5. turned upright (EXIF orientation), shrunk to PHOTO_MAX_SIDE on its longest side, and
   re-encoded as a fresh JPEG: nothing of the uploaded file is stored, so no EXIF (GPS, camera,
   owner) and no payload hidden in it survives. What we record ourselves (`taken_at`, and the
   location only when the user ticked 记录位置 and allowed the browser's prompt) is stored in
   columns, never in the file.

The phone resizes before upload (`static/js/photo-resize.js`); a browser without the script
sends the camera's original and the server resizes it the same way.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps

from povertyapp.filenames import PrivateUploadTo

MB = 1024 * 1024
JPEG_QUALITY = 82
ACCEPTED = {"image/jpeg": "JPEG", "image/png": "PNG"}


def max_bytes() -> int:
    return int(getattr(settings, "PHOTO_UPLOAD_MAX_BYTES", 15 * MB))


def max_pixels() -> int:
    return int(getattr(settings, "PHOTO_MAX_PIXELS", 50_000_000))


def max_side() -> int:
    return int(getattr(settings, "PHOTO_MAX_SIDE", 1600))


def max_per_owner() -> int:
    return int(getattr(settings, "PHOTO_MAX_PER_OWNER", 9))


@dataclass(frozen=True)
class ProcessedPhoto:
    """A checked photo, re-encoded, ready to store: the JPEG bytes and what we record."""

    content: bytes
    width: int
    height: int
    sha256: str
    taken_at: datetime.datetime | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    key: uuid.UUID | None = None

    @property
    def size(self) -> int:
        return len(self.content)


def _size(upload: Any) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    upload.seek(0)
    return int(size)


def _not_a_photo() -> ValidationError:
    return ValidationError(_("照片只能是JPG或PNG图片；该文件的内容不是图片。"), code="bad_type")


def _bomb(width: int | None = None, height: int | None = None) -> ValidationError:
    if width is None or height is None:
        # Pillow's own guard (`MAX_IMAGE_PIXELS`) refused the header before we read its size.
        return ValidationError(
            _("图片像素过多，疑似恶意文件，已拒绝。请上传普通照片。"), code="too_many_pixels"
        )
    return ValidationError(
        _("图片像素过多（%(width)d×%(height)d），疑似恶意文件，已拒绝。请上传普通照片。")
        % {"width": width, "height": height},
        code="too_many_pixels",
    )


def photo_process(upload: Any) -> ProcessedPhoto:
    """Check `upload` and return it re-encoded (see the module's doc); ValidationError with a
    message in the user's language and a code otherwise."""
    size = _size(upload)
    if size > max_bytes():
        raise ValidationError(
            _("照片过大（%(size).1f MB），上限为%(limit)d MB。")
            % {"size": size / MB, "limit": max_bytes() // MB},
            code="too_large",
        )
    if size == 0:
        raise ValidationError(_("文件是空的。"), code="empty")
    head = upload.read(262)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ACCEPTED:
        raise _not_a_photo()
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=[ACCEPTED[kind.mime]])
            width, height = image.size
            if width * height > limit:
                raise _bomb(width, height)
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb() from None
    except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError):
        raise ValidationError(
            _("图片无法打开（文件已损坏或不完整），请重新拍摄或选择照片。"), code="broken"
        ) from None
    finally:
        upload.seek(0)
    picture = _upright(image)
    if picture.mode in ("RGBA", "LA", "P"):
        picture = picture.convert("RGBA")
        background = Image.new("RGB", picture.size, (255, 255, 255))
        background.paste(picture, mask=picture.getchannel("A"))
        picture = background
    elif picture.mode != "RGB":
        picture = picture.convert("RGB")
    side = max_side()
    if max(picture.size) > side:
        picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    # A new file from the pixels only: no exif=, icc_profile= or comment= is passed on.
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    content = buffer.getvalue()
    return ProcessedPhoto(
        content=content,
        width=picture.width,
        height=picture.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says (a phone stores portraits on their side);
    as it is when the EXIF block is broken."""
    try:
        return ImageOps.exif_transpose(image) or image
    except Exception:  # any broken EXIF: the pixels as they are
        return image


# --- what the phone says about each photo ------------------------------------------------------


def _coordinate(value: Any, bound: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) > bound:
        return None
    return number


def _taken_at(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str | int | float) or value == "":
        return None
    if isinstance(value, int | float):
        moment = datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    else:
        parsed = parse_datetime(value)
        if parsed is None:
            return None
        moment = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
    now = timezone.now()
    # A clock far off (a phone set to 1970, or a date to come) is not recorded as the time.
    if moment > now + datetime.timedelta(minutes=10) or moment.year < 2013:
        return None
    return moment


def photos_with_meta(
    photos: Sequence[ProcessedPhoto], raw: str | None, *, uploaded_at: datetime.datetime
) -> list[ProcessedPhoto]:
    """Attach what the phone's script sent about each photo (`photo_meta`: a JSON list, one
    object per file in order, with `taken_at` (ISO or epoch milliseconds), `latitude`,
    `longitude`, `key`) to the checked photos. A value that does not parse is dropped, never an
    error: without the script, or when the user did not allow the location, the photo is taken
    `uploaded_at` and has no location."""
    try:
        meta = json.loads(raw or "[]")
    except ValueError:
        meta = []
    if not isinstance(meta, list):
        meta = []
    result = []
    for index, photo in enumerate(photos):
        item = meta[index] if index < len(meta) and isinstance(meta[index], dict) else {}
        latitude = _coordinate(item.get("latitude"), 90)
        longitude = _coordinate(item.get("longitude"), 180)
        if latitude is None or longitude is None:
            latitude = longitude = None
        try:
            key = uuid.UUID(str(item["key"])) if item.get("key") else None
        except ValueError:
            key = None
        result.append(
            replace(
                photo,
                taken_at=_taken_at(item.get("taken_at")) or uploaded_at,
                latitude=latitude,
                longitude=longitude,
                key=key,
            )
        )
    return result


# --- the model ----------------------------------------------------------------------------------


class PhotoBase(models.Model):
    """A stored field photo: the re-encoded JPEG and what we recorded about it. The owner (a
    visit, a procedure step) is the concrete model's foreign key."""

    photo = models.FileField(gettext_lazy("照片"), upload_to=PrivateUploadTo("photos"))
    taken_at = models.DateTimeField(gettext_lazy("拍摄时间"))
    latitude = models.DecimalField(
        gettext_lazy("纬度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        gettext_lazy("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=gettext_lazy("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(gettext_lazy("上传时间"), auto_now_add=True)
    size = models.PositiveIntegerField(gettext_lazy("字节数"))
    width = models.PositiveIntegerField(gettext_lazy("宽度"))
    height = models.PositiveIntegerField(gettext_lazy("高度"))
    sha256 = models.CharField("SHA-256", max_length=64)
    # The phone's key of the photo (offline upload: the same key is stored once).
    key = models.UUIDField(gettext_lazy("照片键"), null=True, blank=True, unique=True)

    class Meta:
        abstract = True
        ordering = ["taken_at", "id"]

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def photo_name(photo: ProcessedPhoto, label: str) -> str:
    """The stored file's original name: the label and the time it was taken."""
    moment = timezone.localtime(photo.taken_at) if photo.taken_at else timezone.localtime()
    return f"{label}-{moment:%Y%m%d-%H%M%S}.jpg"


def photos_store(
    model: type[PhotoBase],
    *,
    actor: Any,
    photos: Sequence[ProcessedPhoto],
    label: str,
    existing: int,
    **owner: Any,
) -> list[PhotoBase]:
    """Store `photos` as rows of `model` for `owner` (the concrete model's foreign key, e.g.
    `visit=visit`), refusing past PHOTO_MAX_PER_OWNER with the existing ones counted. A photo
    whose key was stored before is not stored again (a retried upload). Call inside the
    owner's transaction; the owner's year lock applies to each row (its `save`)."""
    if existing + len(photos) > max_per_owner():
        raise ValidationError(
            {
                "photos": ValidationError(
                    _("每条记录最多%(limit)d张照片（已有%(existing)d张，本次%(count)d张）。")
                    % {"limit": max_per_owner(), "existing": existing, "count": len(photos)},
                    code="too_many_photos",
                )
            }
        )
    stored = []
    for photo in photos:
        if photo.key is not None:
            found = model._default_manager.filter(key=photo.key).first()
            if found is not None:
                stored.append(found)
                continue
        row = model(
            uploaded_by=actor,
            taken_at=photo.taken_at or timezone.now(),
            latitude=photo.latitude,
            longitude=photo.longitude,
            size=photo.size,
            width=photo.width,
            height=photo.height,
            sha256=photo.sha256,
            key=photo.key,
            **owner,
        )
        row.photo.save(photo_name(photo, label), ContentFile(photo.content), save=False)
        try:
            row.save()  # the year lock may refuse: then no file is left behind
        except Exception:
            row.photo.delete(save=False)
            raise
        stored.append(row)
    return stored
