"""The county key of the registry (`Household.county`, `Member.county`, issue 19).

A household's county is the county-level region (`Region.Level.COUNTY`) its village lies under;
a member's is its household's. The key is derived and never edited: it exists so that a county's
households are one index range (`household_county_number_idx`: the county office's list in
户编号 order) and so that the scopes filter `county_id` instead of every row's village path
(`povertyapp.roles.household_scope`).

Who keeps it true, on every write path:

- `Household.save()` / `Member.save()`: a new row, or a household whose village changed (and
  then its members), or a member moved to another household: the services, the forms, the admin.
- The set-wise writers (COPY, `bulk_create`: the import's `households_bulk_register`, the demo
  seed, the benches) fill the column themselves, from `county_ids_of_villages` or the generator's
  own tree; `tests/households/test_county_key.py` fails on a new bulk path that does not.
- The region changes of onboarding (a village moved to another county, a village merged into
  another): `resync(under=<path>)`, one `UPDATE ... FROM` per table.

`stale()` counts the rows whose key disagrees with their village (one query): zero, always.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from povertyapp.models import Region, path_prefixes


def _no_county() -> ValidationError:
    return ValidationError(
        _("该行政村不在任何县级区划之下，请先核对区划设置。"), code="village_without_county"
    )


def county_ids_of_villages(village_ids: Iterable[int]) -> dict[int, int]:
    """{village id: its county's id} for the given villages: two queries, whatever their number.
    A village under no county (a malformed region tree) is refused with a ValidationError."""
    wanted = set(village_ids)
    if not wanted:
        return {}
    paths = dict(Region.objects.filter(pk__in=wanted).values_list("pk", "path"))
    prefixes = {prefix for path in paths.values() for prefix in path_prefixes(path)}
    counties = dict(
        Region.objects.filter(level=Region.Level.COUNTY, path__in=prefixes).values_list(
            "path", "pk"
        )
    )
    found: dict[int, int] = {}
    for village_id, path in paths.items():
        county = next((counties[p] for p in path_prefixes(path) if p in counties), None)
        if county is not None:
            found[village_id] = county
    if len(found) != len(wanted):
        raise _no_county()
    return found


def county_id_of_village(village_id: int, *, village: Region | None = None) -> int:
    """The county of one village (its path read from `village` when that is the village)."""
    if village is not None and village.pk == village_id and village.path:
        counties = Region.objects.filter(
            level=Region.Level.COUNTY, path__in=path_prefixes(village.path)
        ).values_list("pk", flat=True)
        county = counties.first()
        if county is None:
            raise _no_county()
        return county
    return county_ids_of_villages([village_id])[village_id]


def _tables() -> tuple[str, str, str]:
    # Through the app registry: `households.models` calls this module from `save()`.
    quote = connection.ops.quote_name
    return (
        quote(Region._meta.db_table),
        quote(apps.get_model("households", "Household")._meta.db_table),
        quote(apps.get_model("households", "Member")._meta.db_table),
    )


# Each village's county: the county-level region whose path begins the village's path.
# `substr`/`length`/`||` mean the same on SQLite and PostgreSQL.
_VILLAGE_COUNTY = (
    "SELECT v.id AS village_id, c.id AS county_id FROM {region} v "
    "JOIN {region} c ON c.level = 'county' AND substr(v.path, 1, length(c.path)) = c.path "
    "WHERE v.path LIKE %s"
)


def resync(*, under: str = "/") -> tuple[int, int]:
    """Set the county of every household whose village lies under the region path `under`
    (every household by default) from its village, then its members' from their households:
    one `UPDATE ... FROM` per table, rows already right left alone. Returns (households,
    members) changed. Called after a region change moves villages (onboarding: a move, a
    merge, a re-coding)."""
    region, household, member = _tables()
    pattern = under + "%"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {household} SET county_id = m.county_id "
            f"FROM ({_VILLAGE_COUNTY.format(region=region)}) m "
            f"WHERE {household}.village_id = m.village_id "
            f"AND {household}.county_id <> m.county_id",
            [pattern],
        )
        households = cursor.rowcount
        cursor.execute(
            f"UPDATE {member} SET county_id = h.county_id FROM {household} h "
            f"JOIN {region} v ON v.id = h.village_id "
            f"WHERE {member}.household_id = h.id AND {member}.county_id <> h.county_id "
            f"AND v.path LIKE %s",
            [pattern],
        )
        members = cursor.rowcount
    return households, members


def stale() -> tuple[int, int]:
    """(households, members) whose county is not their village's county: one query. A
    household whose village lies under no county counts as stale too."""
    region, household, member = _tables()
    village_county = _VILLAGE_COUNTY.format(region=region)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {household} h "
            f"LEFT JOIN ({village_county}) m ON m.village_id = h.village_id "
            f"WHERE m.county_id IS NULL OR h.county_id <> m.county_id), "
            f"(SELECT COUNT(*) FROM {member} p JOIN {household} h ON h.id = p.household_id "
            f"LEFT JOIN ({village_county}) m ON m.village_id = h.village_id "
            f"WHERE m.county_id IS NULL OR p.county_id <> m.county_id)",
            ["/%", "/%"],
        )
        households, members = cursor.fetchone()
    return int(households), int(members)
