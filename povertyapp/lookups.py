"""`field__any_of=[…]`: membership in a long list of values passed as ONE parameter.

`field__in=[…]` sends one placeholder a value and prepares each value in Python (about 6 µs a
value): for the 50,000 IDs of a department's list that is a third of the matching's time
(bench/monitoring.py). `any_of` sends the list whole: `= ANY(%s)` with the list as a
PostgreSQL array, and elsewhere (SQLite) `IN (SELECT value FROM json_each(%s))` with the list
as one JSON text. The values are compared as they are given, unprepared: pass what the column
holds (strings for text columns, ints for keys)."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return list(self.rhs)

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        return "%s", [value]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return (
            f"{lhs} IN (SELECT value FROM json_each(%s))",
            [*lhs_params, json.dumps(self.rhs)],
        )

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, self.rhs]


def register() -> None:
    models.Field.register_lookup(AnyOf)
    # Relations keep a lookup table of their own (`ForeignObject.get_class_lookups`).
    models.ForeignObject.register_lookup(AnyOf)
