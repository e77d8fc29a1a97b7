"""The home page's 工作台 panels of the rounds (registered with `povertyapp.desk` by
`RoundsConfig`): the 四类名单 lines waiting for the township's review or the county's decision
in each open round (each count links to the round's page filtered to that state, the same
scope, `services.change_list`), and the figures that changed since last week, read from the
dated figure history (`rounds.history`) of the user's region. For the city's and province's
offices, the dashboards of their region and its figures that changed since last week."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _

from povertyapp import roles
from povertyapp.desk import Item
from povertyapp.models import User
from rounds import dashboards, history
from rounds import services as rounds
from rounds.models import AdjustmentRound, FigureHistory, RoundChange

# Open rounds shown (a county has one open round at a time; a city-wide reviewer more).
OPEN_ROUNDS_SHOWN = 3


def approval_items(user: User) -> list[Item]:
    """The lines of the 四类名单 that wait for the user's level: proposed lines for a township
    (乡镇审核), reviewed lines for the county (县级审定)."""
    if not roles.can_review(user):
        return []
    if user.role == User.Role.TOWNSHIP_REVIEWER:
        state, label = RoundChange.State.PROPOSED, _("%(year)s年动态调整：待乡镇审核的名单")
    else:
        state, label = RoundChange.State.REVIEWED, _("%(year)s年动态调整：待县级审定的名单")
    open_rounds = rounds.round_list(user=user).filter(status=AdjustmentRound.Status.OPEN)
    return [
        Item(
            label=label % {"year": round.year},
            url=f"{reverse('rounds:detail', args=[round.pk])}?state={state}",
            count=rounds.change_list(user=user, round=round).filter(state=state).count(),
        )
        for round in open_rounds[:OPEN_ROUNDS_SHOWN]
    ]


def _percent(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{(rate * 100).quantize(Decimal('0.01'))}%"


def figure_changes(
    user: User, today: datetime.date | None = None
) -> tuple[list[tuple[str, str, str]], FigureHistory | None, FigureHistory | None]:
    """The figures of the user's region that changed since last week: (label, before, after)
    between the region's newest figures and the newest ones dated a week or more before today,
    read from the dated history (`rounds.history`), not the snapshots: a snapshot is replaced
    when its round is recomputed and keeps no "before". Two statements."""
    if user.region is None:
        return [], None, None
    before, after = history.history_changes(user.region, today=today)
    if before is None or after is None:
        return [], None, None
    labels = {key: label for key, label, _threshold, _list in dashboards.FIGURES}
    changes = [
        (_(labels[key]), _percent(old), _percent(new))
        for key, old, new in history.rate_changes(before, after)
    ]
    return changes, before, after


def _change_items(user: User) -> list[Item]:
    changes, _before, _after = figure_changes(user)
    if not changes or user.region is None:
        return []
    url = reverse("dashboards:region", args=[user.region.code])
    return [
        Item(label=label, url=url, note=_("%(before)s → %(after)s") % {"before": old, "after": new})
        for label, old, new in changes
    ]


def figure_items(user: User) -> list[Item]:
    return _change_items(user)


def sees_figure_changes(user: User) -> bool:
    """The township's and county's offices (the figures of their area)."""
    return roles.can_review(user) and roles.can_view_dashboards(user)


def rollup_items(user: User) -> list[Item]:
    """The city's and province's offices read the figures of their subtree."""
    if user.region is None:
        return []
    return [
        Item(
            label=_("本地区指标与各县汇总"),
            url=reverse("dashboards:region", args=[user.region.code]),
        ),
        # The roll-up's figures that changed since last week (its dated history).
        *_change_items(user),
    ]


def sees_rollup(user: User) -> bool:
    return roles.is_rollup_officer(user) and roles.can_view_dashboards(user)


def register_desk_panels() -> None:
    from django.utils.translation import gettext_lazy

    from povertyapp import desk

    desk.items_panel(
        key="rounds.approvals",
        title=gettext_lazy("待审核审定"),
        items=approval_items,
        order=15,
        visible=roles.can_review,
    )
    desk.items_panel(
        key="rounds.figures",
        title=gettext_lazy("近一周变化的指标"),
        items=figure_items,
        order=50,
        visible=sees_figure_changes,
    )
    desk.items_panel(
        key="rounds.rollup",
        title=gettext_lazy("指标"),
        items=rollup_items,
        order=20,
        visible=sees_rollup,
    )
