"""The lock of a signed year (年度封账): once a county signs year Y, its rows of Y are read-only.

The lock closes a class of rows, not instances. Each year-bound model is registered here once
with how to find the (region, year) a row belongs to (`register`); a `pre_save`/`pre_delete`
guard then refuses any save or delete of such a row while its county's year is locked, whoever
calls (a service, the admin, a shell), with `YearLockedError`. The services call
`ensure_writable` first, so that a page or the API says it before anything is tried. A model
with a year or a date that is deliberately left open is named with `exempt` and the reason; a
test holds every such model to one of the two.

`YearLockedError` is a `ValidationError` (code `year_locked`): the pages put it beside the form
like any service error, and the API's exception handler answers 400 with the message.

The platform knows no domain model: the top floor (`years`) fills the registry from its
`ready()`, and sets and lifts the lock through `lock` and `unlock`. What bypasses model
signals (`QuerySet.update`, `bulk_create`, raw SQL: the bulk loaders of the demo and the
imports) is not guarded here; the services that use them call `ensure_writable` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import pre_delete, pre_save
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from povertyapp.models import Region, User, YearLock

Owner = Callable[[Any], tuple[int | None, int | None]]
"""`owner(row)` → (the id of a region the row belongs to, its year); None for either when the
row belongs to no year (an undated row, a row without a region) and is then never locked."""


class YearLockedError(ValidationError):
    """A write to a row of a county's signed (locked) year."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            _(
                "%(year)s年度已由县级签署封账，该年度的数据只读。如需更正，请在下一年度的动态调整中"
                "办理；确需修改本年度数据的，由县扶贫办说明理由重新开启该年度。"
            )
            % {"year": year},
            code="year_locked",
        )


@dataclass(frozen=True)
class Registration:
    model: type[models.Model]
    owner: Owner
    description: str | Promise


_registered: dict[str, Registration] = {}
_exempt: dict[str, str] = {}


def register(model: type[models.Model], *, owner: Owner, description: str | Promise) -> None:
    """Lock `model`'s rows with their county's year: `owner(row)` names the row's region and
    year; `description` says in words what is locked (the docs and the sign-off page list it).
    Registering again replaces the entry (`ready()` may run more than once)."""
    label = model._meta.label
    _registered[label] = Registration(model=model, owner=owner, description=description)
    pre_save.connect(_guard_save, sender=model, dispatch_uid=f"yearlock-save-{label}")
    pre_delete.connect(_guard_delete, sender=model, dispatch_uid=f"yearlock-delete-{label}")


def exempt(label: str, reason: str) -> None:
    """Say that the model `label` (app_label.ModelName) has a year or date field but is not
    locked with the year, and why."""
    _exempt[label] = reason


def registrations() -> dict[str, Registration]:
    return dict(_registered)


def exemptions() -> dict[str, str]:
    return dict(_exempt)


def _active_locks() -> list[tuple[int, str]]:
    """(year, county path) of every locked year: a handful of rows, one query."""
    return list(
        YearLock.objects.filter(locked_at__isnull=False).values_list("year", "county__path")
    )


def _locked(locks: list[tuple[int, str]], region_id: int | None, year: int | None) -> bool:
    if region_id is None or year is None:
        return False
    paths = [path for locked_year, path in locks if locked_year == year]
    if not paths:
        return False
    region_path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first()
    return region_path is not None and any(region_path.startswith(path) for path in paths)


def is_locked(region: Region, year: int) -> bool:
    """Whether `year` is locked for the county `region` lies in."""
    return YearLock.objects.filter(
        year=year, locked_at__isnull=False, county__path__in=_prefixes(region.path)
    ).exists()


def _prefixes(path: str) -> list[str]:
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[: index + 1]) + "/" for index in range(len(parts))]


def ensure_writable(region: Region, year: int | None) -> None:
    """Refuse (`YearLockedError`) a write to `year` in `region` when the county signed it off."""
    if year is not None and is_locked(region, year):
        raise YearLockedError(year)


def _check(sender: type[models.Model], instance: models.Model, *, stored: bool) -> None:
    registration = _registered.get(sender._meta.label)
    if registration is None:
        return
    locks = _active_locks()
    if not locks:
        return
    region_id, year = registration.owner(instance)
    if _locked(locks, region_id, year):
        raise YearLockedError(year or 0)
    if stored and instance.pk is not None:
        # The row as stored: moving a row out of a locked year is a write to that year too.
        previous = sender._base_manager.filter(pk=instance.pk).first()
        if previous is not None:
            region_id, year = registration.owner(previous)
            if _locked(locks, region_id, year):
                raise YearLockedError(year or 0)


def _guard_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return  # fixtures (loaddata) load what was dumped
    _check(sender, instance, stored=not instance._state.adding)


def _guard_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    _check(sender, instance, stored=False)


def lock(*, county: Region, year: int, actor: User | None) -> YearLock:
    """Lock `year` for `county` (the county's sign-off calls this in its transaction)."""
    row, _created = YearLock.objects.select_for_update().get_or_create(county=county, year=year)
    row.locked_at = timezone.now()
    row.locked_by = actor
    row.save(update_fields=["locked_at", "locked_by"])
    return row


def unlock(*, county: Region, year: int) -> None:
    """Lift the lock (the county office's reopening calls this in its transaction)."""
    YearLock.objects.filter(county=county, year=year).update(locked_at=None, locked_by=None)
