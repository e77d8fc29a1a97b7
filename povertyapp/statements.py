"""Statements compiled once per shape, run with each request's values.

A page that runs the same large statement on every request pays Django's compilation for it
every time: the household page's statement (the household's hundred columns, its village,
township and group, and the apps' six correlated subqueries) took 3.2 ms of CPU to compile and
1.5 ms to run and turn into objects. Between two requests its SQL text differs only in the
WHERE clause (the user's scope and the key), and mostly only in that clause's values.

`fetch` compiles the WHERE clause alone, finds the rest of the statement kept under that text,
and runs the kept SQL with this request's values through Django's own row handling (the model
instances, the `select_related` objects, the annotations, the field converters such as
decryption, and the prefetches), so that what it returns is what iterating the queryset
returns. The first request of each shape compiles the statement in full and keeps it.

The contract: every queryset fetched from one `statement` is the same statement (the same select,
joins, annotations, order and limits) filtered differently, and the values outside its WHERE
clause are the statement's own constants: they are kept with its SQL. `statement` is the
queryset the others are filtered from, built once (a module's `functools.cache`, or a cache
that builds it again when its constants change: the list's rows, once a day): a statement
built per request, with "today" or the user in its annotations, has no business here. Past
`MAX_KEPT` kept statements everything is dropped and kept again as it is asked for, so that
the statements of days gone do not stay. The WHERE clause's text, the joins
and their types, the limits, the order and the annotations' names are part of what is looked
up, so a caller who breaks the contract gets a statement compiled for its own shape rather
than another's; `tests/povertyapp/test_statements.py` compares the SQL and the rows with
Django's own for every role's scope.

Django has no public way to reuse a compilation (its compiler is rebuilt for every
evaluation), and no maintained library offers one: `fetch` leans on two internals that have
been stable since Django 1.x, `Query.get_compiler` and `SQLCompiler.as_sql`, and the test above
fails if either changes under it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import QuerySet

R = TypeVar("R")  # a row: a model instance, or a dict of `values()`

# Placeholders of a compiled statement: `%s`, with `%%` a literal percent sign.
_PLACEHOLDER = re.compile(r"%%|%s")


@dataclass(frozen=True)
class Kept:
    """A statement compiled once: its SQL, the values around its WHERE clause's values, and
    the compiler that compiled it (its select list and converters build the rows)."""

    sql: str
    before: tuple[Any, ...]
    after: tuple[Any, ...]
    compiler: Any


_kept: dict[tuple[Hashable, ...], Kept | None] = {}
# Each statement's shapes are few (one per kind of scope); more than this means a caller
# filters by something that changes the WHERE clause's text per request, and keeping them
# would only grow the dictionary. The statements themselves are few too.
MAX_SHAPES = 64
MAX_KEPT = 1024
_shapes: dict[int, int] = {}
_statements: list[QuerySet[Any]] = []


def fetch(queryset: QuerySet[Any, R], *, statement: QuerySet[Any, R]) -> list[R]:
    """The rows of `queryset`, as `list(queryset)` gives them, without compiling it again
    when a queryset of the same shape was fetched from `statement` before."""
    alias = queryset.db
    query = queryset.query
    try:
        where_sql, where_params = query.get_compiler(using=alias).compile(query.where)
    except FullResultSet:
        where_sql, where_params = "", []
    except EmptyResultSet:
        return list(queryset)
    key = id(statement)
    shape = (key, alias, where_sql, _shape(query))
    kept = _kept.get(shape)
    if kept is None:
        if shape in _kept or _shapes.get(key, 0) >= MAX_SHAPES:
            return list(queryset)
        if len(_kept) >= MAX_KEPT:
            forget()
        kept = _keep(queryset, where_sql, list(where_params))
        _kept[shape] = kept
        if key not in _shapes:
            _statements.append(statement)  # alive while its id is a key
        _shapes[key] = _shapes.get(key, 0) + 1
        if kept is None:
            return list(queryset)
    params = (*kept.before, *where_params, *kept.after)
    compiler = copy.copy(kept.compiler)
    # The connection of this thread: the kept compiler holds the one it compiled on, and
    # connections are per thread.
    compiler.connection = connections[alias]
    compiler.as_sql = lambda *args, **kwargs: (kept.sql, params)
    runner = queryset.all()
    # The one seam: the queryset's own iteration asks its query for a compiler.
    runner.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]  # the seam above
    return list(runner)


def _shape(query: Any) -> tuple[Hashable, ...]:
    """What besides the WHERE clause makes two statements of one key differ, cheaply read."""
    return (
        tuple((alias, getattr(join, "join_type", None)) for alias, join in query.alias_map.items()),
        query.low_mark,
        query.high_mark,
        tuple(str(field) for field in query.order_by),
        query.default_ordering,
        tuple(query.annotations),
        query.distinct,
        query.values_select,
        repr(query.select_related),
        tuple(query.deferred_loading[0]),
        query.deferred_loading[1],
        query.select_for_update,
        query.combinator,
    )


def _keep(queryset: QuerySet[Any], where_sql: str, where_params: list[Any]) -> Kept | None:
    """Compile `queryset` in full and cut its values around the WHERE clause's; None when the
    clause cannot be found once in the SQL with its values in place (the statement is then
    compiled for every request, as Django does)."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    params = list(params)
    if where_sql:
        clause = f" WHERE {where_sql}"
        if sql.count(clause) != 1:
            return None
        start = sum(1 for mark in _PLACEHOLDER.findall(sql[: sql.index(clause)]) if mark == "%s")
    else:
        start = len(params)
    end = start + len(where_params)
    if params[start:end] != where_params:
        return None
    return Kept(sql=sql, before=tuple(params[:start]), after=tuple(params[end:]), compiler=compiler)


def forget() -> None:
    """Drop every kept statement (tests that change what a statement compiles to)."""
    _kept.clear()
    _shapes.clear()
    _statements.clear()
