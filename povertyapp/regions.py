"""The region cascade every page's region filter uses (issue 19): 县, then 乡镇, then 行政村,
each select bounded to one parent's children and to the user's scope
(`povertyapp.roles.region_scope`). A province has 26,000 villages: no select lists more than
one county's. The options endpoint (`region-options`, `povertyapp.views.region_options`)
refills the select below the one changed (htmx); without script the page's form is sent and
the page shows the same options (`templates/povertyapp/partials/region_cascade.html`).

Here in the platform, next to Region, so that every app uses one piece (arrows point down)."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from povertyapp import roles
from povertyapp.models import Region, User

MAX_ID = 2**63 - 1  # the largest BigAutoField value: a bigger id would not even bind

STEPS = ("county", "township", "village")  # the cascade's parameters, top down

ABOVE_COUNTY = (Region.Level.PROVINCE, Region.Level.CITY)

# The public declaration page (monitoring:declare) names any village of the system, with no
# account: its cascade, and the endpoint's answers for it, are over every region.
PUBLIC = "public"


def region_id(value: Any) -> int | None:
    """A region id from a form's value; None for anything else."""
    try:
        chosen = int(value)
    except (TypeError, ValueError):
        return None
    return chosen if 0 < chosen <= MAX_ID else None


@dataclass
class Cascade:
    """The options of the region selects. A select that the scope's level does not show is
    None: 县 above the county, 乡镇 from the county up. Every list is bounded whatever the
    scope: the counties of a province, the townships of one county, the villages of one county
    (or township), the groups of one village; above the county no village is offered until a
    county is chosen. `chosen` is the deepest region chosen that lies in the scope (None when
    nothing is chosen, or a choice is not in the scope)."""

    counties: list[tuple[int, str]] | None
    townships: list[tuple[int, str]] | None
    villages: list[tuple[int, str]]
    groups: list[tuple[int, str]]
    needs_county: bool
    county: int | None
    township: int | None
    village: int | None
    chosen: Region | None = None
    # The scope's own region (None for the public scope): what "全部" means.
    root: Region | None = None

    def options(self, step: str) -> SafeString:
        """The <option>s (but the empty one) of the select of `step`, the chosen one
        selected."""
        selected = {"county": self.county, "township": self.township, "village": self.village}
        choices = {
            "county": self.counties,
            "township": self.townships,
            "village": self.villages,
            "group": self.groups,
        }[step]
        return options_html(selected.get(step), choices or [])

    @property
    def asked(self) -> bool:
        """Whether a step the scope offers was chosen (a county user's own county is not)."""
        return (
            self.village is not None
            or self.township is not None
            or (self.counties is not None and self.county is not None)
        )

    @property
    def counties_html(self) -> SafeString:
        return self.options("county")

    @property
    def townships_html(self) -> SafeString:
        return self.options("township")

    @property
    def villages_html(self) -> SafeString:
        return self.options("village")

    @property
    def region(self) -> Region | None:
        """The region the page shows: the one chosen, else the scope's own."""
        return self.chosen or self.root


# What a page adds to the names of the villages it offers (the quality page: each village's
# open problems), by name: the options endpoint applies the same (`?labels=<name>`) when it
# refills the village select, so that the options read the same with or without script.
# Apps register theirs from their `ready()`; the platform knows none of them.
VillageLabels = Callable[[list[tuple[int, str]]], list[tuple[int, str]]]
_village_labels: dict[str, VillageLabels] = {}


def register_village_labels(name: str, labels: VillageLabels) -> None:
    _village_labels[name] = labels


def label_villages(found: Cascade, name: str) -> None:
    """Rename `found`'s villages with the labels registered as `name` (none: unchanged)."""
    labels = _village_labels.get(name)
    if labels is not None and found.villages:
        found.villages = labels(found.villages)


def scope_of(user: User | None, public: bool = False) -> tuple[QuerySet[Region], str | None, Any]:
    """The regions a cascade offers, the level of its top and its root region."""
    if public:
        return Region.objects.all(), Region.Level.PROVINCE, None
    if user is None or not user.is_authenticated:
        return Region.objects.none(), None, None
    region = user.region
    return roles.region_scope(user), region.level if region is not None else None, region


def cascade(
    user: User | None,
    data: Mapping[str, Any] | None = None,
    *,
    public: bool = False,
    groups: bool = False,
) -> Cascade:
    """The 县, 乡镇, 行政村 (and, with `groups`, 村民小组) options for `data` (`county`,
    `township`, `village`), in one query: the counties above the county, the townships of the
    chosen county (of the user's own for a county user), the villages of the chosen township or
    county (of the user's scope at the county and below), the groups of the chosen village.
    A village chosen with no county (a link) stays offered, alone."""
    data = data or {}
    scope, level, root = scope_of(user, public)
    above = level in ABOVE_COUNTY
    county = region_id(data.get("county")) if above else None
    if level == Region.Level.COUNTY and root is not None:
        county = root.pk
    township = (
        region_id(data.get("township")) if level in (*ABOVE_COUNTY, Region.Level.COUNTY) else None
    )
    village = region_id(data.get("village"))
    if public and county is None:
        # A deployment of one county (the usual one) asks the farmer for no 县.
        only = list(scope.filter(level=Region.Level.COUNTY).values_list("pk", flat=True)[:2])
        county = only[0] if len(only) == 1 else None
    wanted = Q(pk__in=[])
    if above:
        wanted |= Q(level=Region.Level.COUNTY)
    if county is not None:
        wanted |= Q(level=Region.Level.TOWNSHIP, parent_id=county)
    if township is not None:
        wanted |= Q(level=Region.Level.VILLAGE, parent_id=township)
    elif county is not None and above:
        wanted |= Q(level=Region.Level.VILLAGE) & (
            Q(parent_id=county) | Q(parent__parent_id=county)
        )
    elif not above:
        wanted |= Q(level=Region.Level.VILLAGE)
    elif village is not None:  # a link to one village: it stays shown
        wanted |= Q(level=Region.Level.VILLAGE, pk=village)
    if groups:
        if village is not None:
            wanted |= Q(level=Region.Level.GROUP, parent_id=village)
        elif level == Region.Level.VILLAGE:
            wanted |= Q(level=Region.Level.GROUP)
    found: dict[str, list[tuple[int, str]]] = {
        Region.Level.COUNTY: [],
        Region.Level.TOWNSHIP: [],
        Region.Level.VILLAGE: [],
        Region.Level.GROUP: [],
    }
    for pk, name, region_level in (
        scope.filter(wanted).order_by("code").values_list("pk", "name", "level")
    ):
        found[region_level].append((pk, name))
    result = Cascade(
        counties=found[Region.Level.COUNTY] if above else None,
        townships=found[Region.Level.TOWNSHIP] if above or level == Region.Level.COUNTY else None,
        villages=found[Region.Level.VILLAGE],
        groups=found[Region.Level.GROUP],
        needs_county=above and county is None,
        county=county,
        township=township,
        village=village,
        root=root,
    )
    result.chosen = _chosen(scope, result, above)
    return result


def _chosen(scope: QuerySet[Region], steps: Cascade, above: bool) -> Region | None:
    """The deepest region chosen, if it is in the scope and below the steps chosen above it
    (a village of another township than the one chosen is no choice)."""
    offered = {
        "village": {pk for pk, _name in steps.villages},
        "township": {pk for pk, _name in steps.townships or []},
        "county": {pk for pk, _name in steps.counties or []},
    }
    for step, pk in (
        ("village", steps.village),
        ("township", steps.township),
        ("county", steps.county if above else None),
    ):
        if pk is not None:
            if pk not in offered[step]:
                return None
            return scope.filter(pk=pk).first()
    return None


def options_html(selected: Any, choices: Iterable[tuple[Any, Any]]) -> SafeString:
    """The <option> elements of a select, built in one pass: a county has hundreds of villages,
    and a template loop (or a form widget's templates) cost more than the rest of the page."""
    chosen = "" if selected is None else str(selected)
    # Safe: every value and label goes through html.escape.
    return mark_safe(
        "".join(
            f'<option value="{html.escape(str(value))}"'
            f"{' selected' if str(value) == chosen else ''}>{html.escape(str(label))}</option>"
            for value, label in choices
        )
    )


def households_by_village(counts: Sequence[tuple[str, int]], *, named: int = 5) -> str:
    """Households per village, the first `named` villages by name: "大寨村12户、新洞村3户等8个
    村" (a blocker's reason: the households a sweep or an assessment still waits for)."""
    places = _("、").join(
        _("%(village)s%(count)s户") % {"village": village, "count": count}
        for village, count in counts[:named]
    )
    if len(counts) > named:
        places += _("等%(villages)s个村") % {"villages": len(counts)}
    return places
