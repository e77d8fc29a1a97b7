"""The home page's 工作台 panel of the year (registered with `povertyapp.desk` by `YearsConfig`,
next to the county office's 上线准备 panel of `views_onboarding`): the registry edits made after
the county approved a round, waiting for the township's or county's review (审定后修改待复核,
`lock_reviews.edit_review_list`, the list the count links to)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from povertyapp.desk import Item
from povertyapp.models import User
from years import lock_reviews


def review_items(user: User) -> list[Item]:
    return [
        Item(
            label=_("审定后修改待复核"),
            url=reverse("years:edit-reviews"),
            count=lock_reviews.edit_review_list(user=user).count(),
        )
    ]


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
