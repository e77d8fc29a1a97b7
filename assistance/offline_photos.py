"""Photos taken offline (issue 17, docs/offline.md "Photos taken offline"): each is uploaded
after its entry synced, under the entry's key and a key of its own (a UUID made on the phone).

The entry's key names an `OfflineSync` row; the row's kind says whose photos they are (a visit,
a clue's 入户核实, a procedure's 入户核实 step). The kinds of the apps above (monitoring) are
registered here by those apps (`register`), so this module imports none of them: an owner is
found by `OfflineSync` alone and stored by the owner's own `photos_store` service.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from assistance.models import OfflineSync, VisitPhoto
from povertyapp.models import User
from povertyapp.photos import PhotoBase, ProcessedPhoto


@dataclass(frozen=True)
class PhotoOwner:
    """How the photos of one kind of entry are stored: the photo model, the owner an applied
    entry names (`find`: None when it is gone), the name of the model's foreign key to it,
    and the owner's service (`store(actor=, owner=, photos=)`)."""

    model: type[PhotoBase]
    field: str
    find: Callable[[OfflineSync], Any]
    store: Callable[..., Sequence[Any]]


_OWNERS: dict[str, PhotoOwner] = {}


def register(kind: str, owner: PhotoOwner) -> None:
    """Make the photos of entries of `kind` storable (called from the owner app's ready)."""
    _OWNERS[kind] = owner


def registered_kinds() -> list[str]:
    return sorted(_OWNERS)


class NotApplied(Exception):
    """The entry's key names no applied entry yet (the phone sends photos after the entry)."""


def entry_for_user(*, user: User, entry_key: uuid.UUID) -> OfflineSync:
    """The applied entry `entry_key` of `user`: NotApplied when no entry has that key (not yet
    synced); 404 when it is another account's."""
    sync = OfflineSync.objects.filter(key=entry_key).first()
    if sync is None:
        raise NotApplied
    if sync.user_id != user.pk:
        raise Http404(_("未找到该记录，或它不是您录入的。"))
    return sync


def offline_photo_store(
    *, actor: User, sync: OfflineSync, photo: ProcessedPhoto
) -> tuple[PhotoBase, bool]:
    """Store one photo of the applied entry `sync` with its owner's service. A photo key
    stored before for this owner answers that photo (False: a retried upload); a key stored
    for another owner is refused (ValidationError)."""
    owner = _OWNERS.get(sync.kind)
    if owner is None:
        raise ValidationError(_("这类记录不能附带照片。"), code="no_photos")
    found = owner.find(sync)
    if found is None:
        raise Http404(_("该记录已不存在，照片无法上传。"))
    assert photo.key is not None
    with transaction.atomic():
        earlier = owner.model._default_manager.filter(key=photo.key).first()
        if earlier is not None:
            if getattr(earlier, f"{owner.field}_id") != found.pk:
                raise ValidationError(_("该照片键已被其他记录使用。"), code="key_taken")
            return earlier, False
        (stored,) = owner.store(actor=actor, owner=found, photos=[photo])
    return stored, True


def _visit(sync: OfflineSync) -> Any:
    return sync.visit


def _visit_store(*, actor: User, owner: Any, photos: Sequence[ProcessedPhoto]) -> Sequence[Any]:
    from assistance import services

    return services.visit_photos_add(actor=actor, visit=owner, photos=photos)


register(
    OfflineSync.Kind.VISIT,
    PhotoOwner(model=VisitPhoto, field="visit", find=_visit, store=_visit_store),
)
