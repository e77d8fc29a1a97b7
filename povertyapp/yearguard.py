"""The year lock's bulk door: a manager whose querysets refuse bulk writes to a signed year.

`povertyapp.yearlock` guards a row's `save()` and `delete()` with model signals. What bypasses
them — `QuerySet.update()`, `bulk_create()`, `bulk_update()` — goes through this queryset on
every registered year-bound model (`yearlock.register` refuses a model whose default manager is
not a `YearLockedManager`, so the class cannot reopen), and `QuerySet.delete()` is checked here
in one pass before the per-row signals run. Each bulk call checks its rows as a set: one query
for the active locks, one for the rows (with the relations the model's owner reads), one for
the paths of their regions; never one per row. With no year locked, nothing is read.

The platform's models import this module, so it imports no model: the lock's rules reach it
through a `Guard` that `yearlock` installs when it is imported (`install`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.db import models, transaction


class Guard(Protocol):
    """What the bulk door asks the year lock (`povertyapp.yearlock` implements it)."""

    def related(self, model: type[models.Model]) -> tuple[str, ...] | None:
        """The relations `model`'s owner reads (for one query over a set of rows), or None
        when the model is not year-bound."""

    def active_locks(self) -> list[tuple[int, str]]:
        """(year, county path) of every locked year."""

    def check_rows(
        self,
        model: type[models.Model],
        rows: Sequence[models.Model],
        locks: list[tuple[int, str]],
    ) -> None:
        """Raise `YearLockedError` when any of `rows` belongs to a locked year."""


_guard: Guard | None = None
# The models whose queryset delete already checked its rows as a set: the per-row delete
# signal skips them (it would read the locks and the region once per row).
_checked_deletes: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "year_lock_checked_deletes", default=frozenset()
)


def install(guard: Guard) -> None:
    global _guard
    _guard = guard


def delete_checked(model: type[models.Model]) -> bool:
    """Whether a queryset delete of `model` in progress already checked its rows."""
    return model._meta.label in _checked_deletes.get()


class YearLockedQuerySet(models.QuerySet):
    """A queryset whose bulk writes refuse rows of a locked year, set-based."""

    def _locks_and_related(self) -> tuple[list[tuple[int, str]], tuple[str, ...]] | None:
        if _guard is None:
            return None
        related = _guard.related(self.model)
        if related is None:
            return None
        locks = _guard.active_locks()
        if not locks:
            return None
        return locks, related

    def _stored(self, related: tuple[str, ...], queryset: models.QuerySet) -> list[models.Model]:
        # The base manager: a plain read of the stored rows, whatever this queryset filters.
        return list(queryset.order_by().select_related(*related))

    def _same_rows(self) -> models.QuerySet:
        # The rows this queryset addresses, as plain model rows (this one may be a values()
        # queryset): one query with the selection as a subquery.
        return self.model._base_manager.filter(pk__in=self.values("pk"))

    def _check(
        self, rows: Sequence[models.Model], locks: list[tuple[int, str]], related: tuple[str, ...]
    ) -> None:
        assert _guard is not None
        if rows:
            models.prefetch_related_objects(list(rows), *related)
            _guard.check_rows(self.model, rows, locks)

    def update(self, **kwargs: Any) -> int:
        state = self._locks_and_related()
        if state is None:
            return super().update(**kwargs)
        locks, related = state
        assert _guard is not None
        with transaction.atomic(using=self.db, savepoint=True):
            before = self._stored(related, self._same_rows())
            _guard.check_rows(self.model, before, locks)
            count = super().update(**kwargs)
            # The rows as written: an update may move a row into a locked year (a new year, a
            # household of another county); expressions are evaluated by the database, so the
            # written rows are read back, and a refusal rolls the update back.
            after = self._stored(
                related, self.model._base_manager.filter(pk__in=[row.pk for row in before])
            )
            _guard.check_rows(self.model, after, locks)
        return count

    update.alters_data = True  # type: ignore[attr-defined]  # Django marks methods with attributes

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        state = self._locks_and_related()
        if state is None:
            return super().bulk_create(objs, *args, **kwargs)
        objs = list(objs)
        self._check(objs, *state)
        return super().bulk_create(objs, *args, **kwargs)

    bulk_create.alters_data = True  # type: ignore[attr-defined]  # Django marks methods with attributes

    def bulk_update(
        self, objs: Iterable[Any], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        state = self._locks_and_related()
        if state is None:
            return super().bulk_update(objs, fields, batch_size=batch_size)
        locks, related = state
        objs = list(objs)
        # Both sides: the rows as stored (a row of a locked year) and as they will be written.
        stored = self._stored(
            related, self.model._base_manager.filter(pk__in=[obj.pk for obj in objs])
        )
        self._check(stored, locks, related)
        self._check(objs, locks, related)
        return super().bulk_update(objs, fields, batch_size=batch_size)

    bulk_update.alters_data = True  # type: ignore[attr-defined]  # Django marks methods with attributes

    def delete(self) -> tuple[int, dict[str, int]]:
        state = self._locks_and_related()
        if state is None:
            return super().delete()
        locks, related = state
        self._check(self._stored(related, self._same_rows()), locks, related)
        with _deletes_checked(self.model):
            return super().delete()

    delete.alters_data = True  # type: ignore[attr-defined]  # Django marks methods with attributes
    delete.queryset_only = True  # type: ignore[attr-defined]  # Django marks methods with attributes


class _deletes_checked:
    def __init__(self, model: type[models.Model]) -> None:
        self.label = model._meta.label
        self.token: contextvars.Token[frozenset[str]] | None = None

    def __enter__(self) -> None:
        self.token = _checked_deletes.set(_checked_deletes.get() | {self.label})

    def __exit__(self, *exc: object) -> None:
        assert self.token is not None
        _checked_deletes.reset(self.token)


class YearLockedManager(models.Manager.from_queryset(YearLockedQuerySet)):  # type: ignore[misc]  # a dynamic base class
    """The default manager of every year-bound model (`yearlock.register` requires it)."""

    guards_year_lock = True
