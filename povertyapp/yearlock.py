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
`ready()`, and sets and lifts the lock through `lock` and `unlock`.

What bypasses model signals is closed too: a registered model's default manager must be a
`povertyapp.yearguard.YearLockedManager` (`register` refuses one that is not), whose
`update()`, `bulk_create()`, `bulk_update()` and `delete()` check their rows as a set against
the locks (`check_rows`, through the `Guard` installed below), and `povertyapp.bulk.load_rows`
checks its rows per batch (`check_values`). The imports check their rows in their validation
pass (`LockIndex`), so a locked row is a row error, not a failure at write time. Raw SQL is the
one door left: nothing in the project writes a registered table with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.db.models.signals import pre_delete, pre_save
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from povertyapp import yearguard
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
    related: tuple[str, ...] = ()


_registered: dict[str, Registration] = {}
_exempt: dict[str, str] = {}


def register(
    model: type[models.Model],
    *,
    owner: Owner,
    description: str | Promise,
    related: tuple[str, ...] = (),
) -> None:
    """Lock `model`'s rows with their county's year: `owner(row)` names the row's region and
    year; `description` says in words what is locked (the docs and the sign-off page list it);
    `related` names the relations `owner` reads, so that a set of rows is checked with one
    query (`select_related`/`prefetch_related_objects`), not one per row. Registering again
    replaces the entry (`ready()` may run more than once).

    The model's default manager must be a `yearguard.YearLockedManager`: a plain manager's
    `update()` and `bulk_create()` would write a signed year without a signal."""
    label = model._meta.label
    if not getattr(model._default_manager, "guards_year_lock", False):
        raise ImproperlyConfigured(
            f"{label}: a year-bound model's default manager must be "
            "povertyapp.yearguard.YearLockedManager (objects = YearLockedManager()), or its "
            "bulk writes bypass the year lock"
        )
    _registered[label] = Registration(
        model=model, owner=owner, description=description, related=related
    )
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
    if yearguard.delete_checked(sender):
        return  # a queryset delete checked its rows as a set before Django collected them
    _check(sender, instance, stored=False)


def _region_paths(region_ids: set[int]) -> dict[int, str]:
    return dict(Region.objects.filter(pk__in=region_ids).values_list("pk", "path"))


def check_rows(
    model: type[models.Model],
    rows: Sequence[models.Model],
    locks: list[tuple[int, str]] | None = None,
) -> None:
    """Refuse (`YearLockedError`, the earliest locked year) when any of `rows` belongs to a
    locked year. Set-based: the owners are read from the rows (their relations loaded by the
    caller), then one query for the paths of their regions."""
    registration = _registered.get(model._meta.label)
    if registration is None or not rows:
        return
    locks = _active_locks() if locks is None else locks
    if not locks:
        return
    locked_years = {year for year, _path in locks}
    owners = {registration.owner(row) for row in rows}
    candidates = {
        (region_id, year)
        for region_id, year in owners
        if region_id is not None and year is not None and year in locked_years
    }
    if not candidates:
        return
    index = LockIndex(locks)
    paths = _region_paths({region_id for region_id, _year in candidates})
    for region_id, year in sorted(candidates, key=lambda pair: (pair[1], pair[0])):
        if index.locked(paths.get(region_id), year):
            raise YearLockedError(year)


def check_values(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """`check_rows` for rows given as dicts of attribute names (`povertyapp.bulk.load_rows`):
    the rows become unsaved instances, their relations loaded with one query each."""
    registration = _registered.get(model._meta.label)
    if registration is None or not rows:
        return
    locks = _active_locks()
    if not locks:
        return
    attnames = {field.attname for field in model._meta.concrete_fields}
    instances = [model(**{k: v for k, v in row.items() if k in attnames}) for row in rows]
    models.prefetch_related_objects(instances, *registration.related)
    check_rows(model, instances, locks)


class LockIndex:
    """The locked years, read once (one query), for a validation pass that asks row by row
    (an import's rows): `locked(region_path, year)` is answered in memory."""

    def __init__(self, locks: list[tuple[int, str]] | None = None) -> None:
        self._paths: dict[int, list[str]] = {}
        for year, path in _active_locks() if locks is None else locks:
            self._paths.setdefault(year, []).append(path)

    def __bool__(self) -> bool:
        return bool(self._paths)

    def locked(self, region_path: str | None, year: int | None) -> bool:
        if region_path is None or year is None:
            return False
        return any(region_path.startswith(path) for path in self._paths.get(year, ()))

    def error(self, region_path: str | None, year: int | None) -> str | None:
        """The translated refusal for a row of `year` in the region at `region_path`, or None
        when the row may be written."""
        if year is not None and self.locked(region_path, year):
            return str(YearLockedError(year).messages[0])
        return None


def related(model: type[models.Model]) -> tuple[str, ...] | None:
    """The relations `model`'s owner reads, or None when the year does not lock it."""
    registration = _registered.get(model._meta.label)
    return None if registration is None else registration.related


class _Guard:
    """The year lock's answers to the bulk door (`yearguard.Guard`)."""

    def related(self, model: type[models.Model]) -> tuple[str, ...] | None:
        return related(model)

    def active_locks(self) -> list[tuple[int, str]]:
        return _active_locks()

    def check_rows(
        self,
        model: type[models.Model],
        rows: Sequence[models.Model],
        locks: list[tuple[int, str]],
    ) -> None:
        check_rows(model, rows, locks)


yearguard.install(_Guard())


@transaction.atomic
def lock(*, county: Region, year: int, actor: User | None) -> YearLock:
    """Lock `year` for `county` (the county's sign-off calls this in its transaction; a
    savepoint then, and a transaction of its own for a caller without one)."""
    row, _created = YearLock.objects.select_for_update().get_or_create(county=county, year=year)
    row.locked_at = timezone.now()
    row.locked_by = actor
    row.save(update_fields=["locked_at", "locked_by"])
    return row


def unlock(*, county: Region, year: int) -> None:
    """Lift the lock (the county office's reopening calls this in its transaction)."""
    YearLock.objects.filter(county=county, year=year).update(locked_at=None, locked_by=None)
