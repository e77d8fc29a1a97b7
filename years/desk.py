"""The home page's 工作台 panels of the year (registered with `povertyapp.desk` by `YearsConfig`,
next to the county office's 上线准备 panel of `views_onboarding`): the registry edits made after
the county approved a round, waiting for the township's or county's review (审定后修改待复核,
`lock_reviews.edit_review_list`, the list the count links to), and what the year-end sign-off
(年度签署, `signoff.waiting`) waits for at the user's level, linking to the sign-off page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from povertyapp.desk import Item
from povertyapp.models import Region, User
from years import lock_reviews, signoff
from years.models import SignOff


def review_items(user: User) -> list[Item]:
    return [
        Item(
            label=_("审定后修改待复核"),
            url=reverse("years:edit-reviews"),
            count=lock_reviews.edit_review_list(user=user).count(),
        )
    ]


def signoff_items(user: User) -> list[Item]:
    year = signoff.default_year()
    waiting = signoff.waiting(user=user, year=year)
    if waiting is None:
        return []
    url = reverse("years:signoff") + f"?year={year}"
    state = SignOff.State(waiting["state"]).label
    below = waiting["below"]
    if user.region is not None and user.region.level == Region.Level.VILLAGE:
        label = _("%(year)s年度数据待本村提交") % {"year": year}
    elif below:
        names = _("、").join(region.name for region in below[:3])
        label = _("%(year)s年度签署：%(count)s个下级未完成") % {"year": year, "count": len(below)}
        return [Item(label=label, url=url, note=names + ("…" if len(below) > 3 else ""))]
    else:
        label = _("%(year)s年度签署：下级已完成，待您签署") % {"year": year}
    return [Item(label=label, url=url, note=str(state))]


def register_desk_panels() -> None:
    from django.utils.translation import gettext_lazy

    from povertyapp import desk

    desk.items_panel(
        key="years.edit_reviews",
        title=gettext_lazy("年度数据"),
        items=review_items,
        order=16,
        visible=lock_reviews.can_review_edits,
    )
    desk.items_panel(
        key="years.signoff",
        title=gettext_lazy("年度签署"),
        items=signoff_items,
        order=22,
    )
