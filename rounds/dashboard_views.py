"""The dashboards (county, township, village): figures read from snapshots, never recomputed.

Each region's page shows the four figures with numerators, denominators and the exit thresholds,
the trend over rounds, the cause-of-poverty breakdown, households and persons by status,
信息录入率, and the child regions (sortable by each figure) with drill-down to the child's
dashboard and to the households behind a number. Every chart has the same data as a table.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from django import forms as django_forms
from django.contrib.auth.decorators import login_required
from django.core.cache import InvalidCacheBackendError, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.utils import make_template_fragment_key
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from households.models import Household
from households.selectors import region_get_for_user
from povertyapp import forms as house_forms
from povertyapp import roles
from povertyapp.db_router import read_from_replica
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region
from povertyapp.privacy import mask
from rounds import dashboards, figures, rollup
from rounds.models import RateSnapshot, RollupSnapshot

SORT_KEYS = {f"{key}": f"{key}_rate" for key in dashboards.FIGURE_KEYS} | {
    "name": "region__name",
    "code": "region__code",
    "completeness": "completeness_rate",
}
# Lazy: translated when a page shows them, in the user's language.
LIST_LABELS = {
    "removed": gettext_lazy("剔除（错评）"),
    "identified": gettext_lazy("新识别纳入（漏评）"),
    "returned": gettext_lazy("返贫（错退）"),
    "exited": gettext_lazy("标注脱贫"),
    "baseline_registered": gettext_lazy("基期建档立卡户"),
    "baseline_exited": gettext_lazy("基期已脱贫户"),
}


def _require_case_access(request: AuthenticatedHttpRequest) -> None:
    if not roles.can_view_dashboards(request.user):  # also the menu's rule (povertyapp/menu.py)
        raise PermissionDenied(_("您的账号没有可查看的区域。"))


@login_required
def dashboard_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The dashboard of the user's own region."""
    _require_case_access(request)
    region = request.user.region
    if region is None:  # refused by _require_case_access; this narrows the type
        raise PermissionDenied(_("您的账号没有可查看的区域。"))
    return redirect("dashboards:region", code=region.code)


def _percent(rate: Decimal | None) -> str:
    if rate is None:
        return "—"
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


def _figure_rows(snapshot: RateSnapshot | RollupSnapshot, region: Region) -> list[dict[str, Any]]:
    thresholds = figures.exit_thresholds_for(region)
    rows = []
    for key, label, threshold_key, list_kind in dashboards.FIGURES:
        figure = dashboards.snapshot_figure(snapshot, key)
        limit = None
        if key == "incidence":
            limit = (
                thresholds.village_incidence
                if region.level == Region.Level.VILLAGE
                else thresholds.comprehensive_incidence
            )
            passes = (
                figure.at_most(limit)
                if region.level == Region.Level.VILLAGE
                else figure.below(limit)
            )
        elif threshold_key:
            limit = getattr(thresholds, threshold_key)
            passes = figure.below(limit)
        else:
            passes = None
        rows.append(
            {
                "key": key,
                "label": _(label),
                "numerator": figure.numerator,
                "denominator": figure.denominator,
                "rate": figure.rate,
                "percent": _percent(figure.rate),
                "limit": _percent(limit) if limit else "—",
                "limit_rule": (
                    "≤" if region.level == Region.Level.VILLAGE and key == "incidence" else "<"
                )
                if limit
                else "",
                "passes": passes,
                "list_kind": list_kind,
            }
        )
    return rows


BODY_VERSION = 1  # bump when the body's template or its rows change shape


def _fragment_cache() -> BaseCache:
    """The cache the {% cache %} tag uses: `template_fragments` when configured, else default."""
    try:
        return caches["template_fragments"]
    except InvalidCacheBackendError:
        return caches["default"]


def _body_key(
    *,
    region: Region,
    ancestors: list[Region],
    rounds: list[Any],
    round: Any,
    snapshot: RateSnapshot,
    children: list[dict[str, Any]],
    trend: list[RateSnapshot],
    sort: str,
    cases: bool,
) -> str:
    """A digest of every value the dashboard's head and body are rendered from (every column
    of the region, the ancestors the user may open, the county's rounds, the region's snapshots
    and their rounds; the columns of the children's rows), with the language, the sort order
    and whether the user reads case data (the links to the households behind a number)."""

    def values(instance: Any) -> tuple[Any, ...]:
        return tuple(getattr(instance, field.attname) for field in instance._meta.concrete_fields)

    parts = (
        BODY_VERSION,
        get_language(),
        sort,
        cases,
        values(region),
        region.western,  # the exit standard, inherited from ancestors the user may not open
        [values(node) for node in ancestors],
        [values(item) for item in rounds],
        values(round),
        snapshot.pk,  # one of the trend's, whose every column follows
        # Every column a child row is drawn from (dashboards.CHILD_COLUMNS), in that order.
        [tuple(child.values()) for child in children],
        [(values(item), values(item.round)) for item in trend],
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


class AsOfForm(house_forms.Form):
    """`?as_of=YYYY-MM-DD`: the region's status counts and 贫困发生率 as they stood on a past
    date (from the events, `figures.status_counts_on`)."""

    as_of = django_forms.DateField(label=gettext_lazy("查询日期"), required=False)

    def clean_as_of(self) -> Any:
        value = self.cleaned_data.get("as_of")
        if value is not None and value > timezone.localdate():
            raise ValidationError(_("查询日期不能晚于今天。"), code="future")
        return value


def _as_of(request: AuthenticatedHttpRequest, region: Region) -> dict[str, Any]:
    """The as-of form and, for a valid date, the figures as they stood that day (computed on
    request: two statements over the region's events, never cached)."""
    form = AsOfForm(request.GET if request.GET.get("as_of") else None)
    context: dict[str, Any] = {"as_of_form": form}
    if not form.is_bound or not form.is_valid():
        return context
    day = form.cleaned_data["as_of"]
    counts = figures.status_counts_on(region=region, day=day)
    labels = dict(Household.Status.choices)
    incidence = figures.incidence_on(region=region, day=day, status_counts=counts)
    context["as_of"] = {
        "day": day,
        "incidence": incidence,
        "percent": _percent(incidence.rate),
        "rows": [
            {"label": labels.get(status, status), **values} for status, values in counts.items()
        ],
    }
    return context


@login_required
def dashboard(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    _require_case_access(request)
    user = request.user
    region = dashboards.region_get_for_figures(user=user, code=code)
    ancestors = dashboards.ancestors_in_scope(user=user, region=region)
    if dashboards.is_rollup_region(region):
        return _rollup_dashboard(request, region=region, ancestors=ancestors)
    with read_from_replica():  # the rounds list, as the figures (pinned after a write)
        available = list(dashboards.rounds_for_region(region, ancestors=ancestors))
    cases = roles.has_case_access(user)
    context: dict[str, Any] = {
        "region": region,
        "rounds": available,
        "ancestors": ancestors,
        # The way up for a city's or province's office: the county's city (or province).
        "up": ancestors[-1] if region.level == Region.Level.COUNTY and ancestors else None,
        "cases": cases,
        "can_compute": roles.can_review(user),
        **_as_of(request, region),
    }
    trend = dashboards.trend(region=region, rounds=available)
    try:
        round = dashboards.round_for_region(
            user=user, region=region, round_id=request.GET.get("round"), trend=trend
        )
        snapshot = dashboards.snapshot_for(region=region, round=round, trend=trend)
    except Http404 as missing:
        context["missing"] = str(missing)
        return render(request, "dashboards/dashboard.html", context)
    children = dashboards.child_snapshots(region=region, round=round)
    sort = request.GET.get("sort", "code")
    # What the page shows below the site's header (but for the compute button, which depends
    # on the user's role and carries the CSRF token) is a function of these rows alone: their
    # values key the cached HTML ({% cache %} in the template: the head and the body), so a
    # recomputed snapshot or a renamed region or round shows at once, and there is nothing to
    # invalidate.
    body_key = _body_key(
        region=region,
        ancestors=ancestors,
        rounds=available,
        round=round,
        snapshot=snapshot,
        children=children,
        trend=trend,
        sort=sort,
        cases=cases,
    )
    head_key = make_template_fragment_key("dashboard_head", [body_key])
    fragment_key = make_template_fragment_key("dashboard_body", [body_key])
    cached = _fragment_cache().get_many([head_key, fragment_key])
    if head_key in cached and fragment_key in cached:
        context.update(
            round=round,
            snapshot=snapshot,
            head_html=mark_safe(cached[head_key]),
            body_html=mark_safe(cached[fragment_key]),
        )
        return render(request, "dashboards/dashboard.html", context)
    context["body_key"] = body_key
    descending = sort.startswith("-")
    sort_key = SORT_KEYS.get(sort.lstrip("-"), "region__code")

    def sort_value(item: dict[str, Any]) -> Any:
        value = item[sort_key]
        return (value is None, value if value is not None else 0)

    children.sort(key=sort_value, reverse=descending)
    child_rows: list[dict[str, Any]] = [
        {
            "region": {"code": child["region__code"], "name": child["region__name"]},
            "figures": {
                key: figures.Figure(child[f"{key}_numerator"], child[f"{key}_denominator"])
                for key in dashboards.FIGURE_KEYS
            },
            "percents": {key: _percent(child[f"{key}_rate"]) for key in dashboards.FIGURE_KEYS},
            "completeness": _percent(child["completeness_rate"]),
            "poor_persons": child["incidence_numerator"],
        }
        for child in children
    ]
    status_labels = dict(Household.Status.choices)
    status_rows = [
        {
            "status": status,
            "label": status_labels.get(status, status),
            "households": counts["households"],
            "persons": counts["persons"],
            "baseline_households": snapshot.baseline_status_counts.get(status, {}).get(
                "households", 0
            ),
            "baseline_persons": snapshot.baseline_status_counts.get(status, {}).get("persons", 0),
        }
        for status in Household.Status.values
        if status in snapshot.status_counts or status in snapshot.baseline_status_counts
        for counts in [snapshot.status_counts.get(status, {"households": 0, "persons": 0})]
    ]
    poor_persons = sum(item["persons"] for item in snapshot.cause_counts.values())
    cause_rows = sorted(
        (
            {
                "cause": cause,
                "households": counts["households"],
                "persons": counts["persons"],
                "share": _percent(figures.Figure(counts["persons"], poor_persons).rate),
            }
            for cause, counts in snapshot.cause_counts.items()
        ),
        key=lambda row: -row["persons"],
    )
    list_labels = {
        "identified": _("新识别纳入"),
        "removed": _("剔除"),
        "returned": _("返贫"),
        "exited": _("标注脱贫"),
    }
    list_rows = [
        {
            "kind": kind,
            "label": list_labels[kind],
            **snapshot.list_counts.get(kind, {"households": 0, "persons": 0}),
        }
        for kind in list_labels
    ]
    chart = {
        "trend": {
            "years": [str(item.round.year) for item in trend],
            "series": [
                {
                    "name": _(label),
                    "data": [float(getattr(item, f"{key}_rate") or 0) * 100 for item in trend],
                }
                for key, label, *_rest in dashboards.FIGURES
            ],
        },
        "causes": [{"name": row["cause"], "value": row["persons"]} for row in cause_rows],
        "status": {
            "labels": [row["label"] for row in status_rows],
            "households": [row["households"] for row in status_rows],
            "persons": [row["persons"] for row in status_rows],
        },
        "children": {
            "names": [row["region"]["name"] for row in child_rows],
            "incidence": [float(row["figures"]["incidence"].rate or 0) * 100 for row in child_rows],
        },
        "labels": {"households": _("户数"), "persons": _("人数"), "incidence": _("贫困发生率")},
    }
    context.update(
        {
            "round": round,
            "snapshot": snapshot,
            "figure_rows": _figure_rows(snapshot, region),
            "completeness": _percent(snapshot.completeness_rate),
            "baseline_incidence": _percent(snapshot.baseline_incidence_rate),
            "child_rows": child_rows,
            "sort": sort,
            "trend_rows": [
                {
                    "round": item.round,
                    "percents": {
                        key: _percent(getattr(item, f"{key}_rate"))
                        for key in dashboards.FIGURE_KEYS
                    },
                    "computed_at": item.computed_at,
                }
                for item in trend
            ],
            "status_rows": status_rows,
            "cause_rows": cause_rows,
            "list_rows": list_rows,
            "chart": chart,
            "figure_keys": dashboards.FIGURES,
            # The names behind a number are case data: not for a city's or province's office.
            "households_url": reverse("dashboards:households", args=[region.code]) if cases else "",
        }
    )
    return render(request, "dashboards/dashboard.html", context)


def _rollup_rows(children: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "region": {
                "code": child["region__code"],
                "name": child["region__name"],
                "level": child["region__level"],
            },
            "round_id": child["round_id"],
            "figures": {
                key: figures.Figure(child[f"{key}_numerator"], child[f"{key}_denominator"])
                for key in dashboards.FIGURE_KEYS
            },
            "percents": {key: _percent(child[f"{key}_rate"]) for key in dashboards.FIGURE_KEYS},
            "completeness": _percent(child["completeness_rate"]),
        }
        for child in children
    ]


def _rollup_key(
    *, region: Region, ancestors: list[Region], state: tuple[Any, ...], year: str, sort: str
) -> str:
    """A digest of what a city's or province's page is drawn from: the region, the ancestors
    the user may open, and the state of its subtree's figures and regions
    (`dashboards.rollup_state`: one statement, read before anything else, so that a cached
    page costs that statement and no more), with the year asked for, the language and the
    sort order. Any recomputation changes the state, so new figures get a new key."""

    def values(instance: Any) -> tuple[Any, ...]:
        return tuple(getattr(instance, field.attname) for field in instance._meta.concrete_fields)

    parts = (
        BODY_VERSION,
        "rollup",
        get_language(),
        year,
        sort,
        values(region),
        region.western,
        [values(node) for node in ancestors],
        state,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _rollup_dashboard(
    request: AuthenticatedHttpRequest, *, region: Region, ancestors: list[Region]
) -> HttpResponse:
    """A city's or province's dashboard: its roll-up of a year (`RollupSnapshot`: sums of its
    counties' numerators and denominators), the trend over the years, the causes, households
    and persons by status, and the child table (cities, or counties) with drill-down."""
    year = request.GET.get("year") or ""
    sort = request.GET.get("sort", "code")
    # What is shown is a function of the subtree's snapshots and regions alone: the rendered
    # body is cached under a digest of their state, read in one statement; a cached page reads
    # nothing else (nothing to invalidate: new figures, a new state, a new key).
    state = dashboards.rollup_state(region)
    body_key = _rollup_key(region=region, ancestors=ancestors, state=state, year=year, sort=sort)
    fragment_key = make_template_fragment_key("rollup_body", [body_key])
    cached = _fragment_cache().get(fragment_key)
    context: dict[str, Any] = {"region": region, "ancestors": ancestors}
    if rollup.can_start_rollup(request.user, region):
        # The years the office's start button offers (`{% rollup_start %}`), cached under the
        # same state: it counts the subtree's rounds, so a new round is a new key.
        years_key = make_template_fragment_key("rollup_years", [region.pk, *state])
        context["rollup_years"] = _fragment_cache().get_or_set(
            years_key, lambda: rollup.rollup_years(region), 86400
        )
    if cached is not None:
        context["body_html"] = mark_safe(cached)
        return render(request, "dashboards/rollup.html", context)
    trend = dashboards.rollup_trend(region)
    context["years"] = [item.year for item in reversed(trend)]
    try:
        snapshot = dashboards.rollup_for(region=region, year=year, trend=trend)
    except Http404 as missing:
        context["missing"] = str(missing)
        return render(request, "dashboards/rollup.html", context)
    children = dashboards.rollup_children(region=region, year=snapshot.year)
    context.update(snapshot=snapshot, year=snapshot.year, body_key=body_key)
    sort_key = SORT_KEYS.get(sort.lstrip("-"), "region__code")
    children.sort(
        key=lambda item: (item[sort_key] is None, item[sort_key] or 0),
        reverse=sort.startswith("-"),
    )
    child_rows = _rollup_rows(children)
    status_labels = dict(Household.Status.choices)
    status_rows = [
        {
            "label": status_labels.get(status, status),
            "households": snapshot.status_counts.get(status, {}).get("households", 0),
            "persons": snapshot.status_counts.get(status, {}).get("persons", 0),
            "baseline_households": snapshot.baseline_status_counts.get(status, {}).get(
                "households", 0
            ),
            "baseline_persons": snapshot.baseline_status_counts.get(status, {}).get("persons", 0),
        }
        for status in Household.Status.values
        if status in snapshot.status_counts or status in snapshot.baseline_status_counts
    ]
    poor_persons = sum(item["persons"] for item in snapshot.cause_counts.values())
    cause_rows = sorted(
        (
            {
                "cause": cause,
                "households": counts["households"],
                "persons": counts["persons"],
                "share": _percent(figures.Figure(counts["persons"], poor_persons).rate),
            }
            for cause, counts in snapshot.cause_counts.items()
        ),
        key=lambda row: -row["persons"],
    )
    chart = {
        "trend": {
            "years": [str(item.year) for item in trend],
            "series": [
                {
                    "name": _(label),
                    "data": [float(getattr(item, f"{key}_rate") or 0) * 100 for item in trend],
                }
                for key, label, *_rest in dashboards.FIGURES
            ],
        },
        "causes": [{"name": row["cause"], "value": row["persons"]} for row in cause_rows],
        "status": {
            "labels": [row["label"] for row in status_rows],
            "households": [row["households"] for row in status_rows],
            "persons": [row["persons"] for row in status_rows],
        },
        "children": {
            "names": [row["region"]["name"] for row in child_rows],
            "incidence": [float(row["figures"]["incidence"].rate or 0) * 100 for row in child_rows],
        },
        "labels": {"households": _("户数"), "persons": _("人数"), "incidence": _("贫困发生率")},
    }
    context.update(
        {
            "snapshot": snapshot,
            "year": snapshot.year,
            "figure_rows": _figure_rows(snapshot, region),
            "completeness": _percent(snapshot.completeness_rate),
            "baseline_incidence": _percent(snapshot.baseline_incidence_rate),
            "missing_counties": snapshot.source.get("missing", []),
            "trend_rows": [
                {
                    "year": item.year,
                    "percents": {
                        key: _percent(getattr(item, f"{key}_rate"))
                        for key in dashboards.FIGURE_KEYS
                    },
                    "counties": item.counties,
                    "computed_at": item.computed_at,
                }
                for item in trend
            ],
            "status_rows": status_rows,
            "cause_rows": cause_rows,
            "child_rows": child_rows,
            "sort": sort,
            "chart": chart,
            "figure_keys": dashboards.FIGURES,
        }
    )
    return render(request, "dashboards/rollup.html", context)


@login_required
def dashboard_households(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The households behind a number (e.g. the 剔除 list behind 错评率), scoped to the user:
    case data, refused to a city's or province's office."""
    _require_case_access(request)
    user = request.user
    if not roles.has_case_access(user):
        raise PermissionDenied(_("您的账号只能查看汇总指标，不能查看农户名单。"))
    region = region_get_for_user(user=user, code=code)
    round = dashboards.round_for_region(user=user, region=region, round_id=request.GET.get("round"))
    list_kind = request.GET.get("list", "")
    if list_kind not in LIST_LABELS:
        raise Http404(_("未知的名单。"))
    queryset = dashboards.households_behind(
        user=user, region=region, round=round, list_kind=list_kind
    )
    # The list and its count on the read replica, if any (issue 19), as the figures above it;
    # a user who just wrote is pinned to the primary (read-your-writes), so stays there.
    with read_from_replica():
        page = Paginator(queryset, 50).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
    for household in page.object_list:
        # head_id_number is annotated by households_behind; head_id_shown is for the template.
        household.head_id_shown = mask(household.head_id_number)  # type: ignore[attr-defined]  # for the template
    return render(
        request,
        "dashboards/households.html",
        {
            "region": region,
            "round": round,
            "list_kind": list_kind,
            "list_label": LIST_LABELS[list_kind],
            "page": page,
        },
    )
