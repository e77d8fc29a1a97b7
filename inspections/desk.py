"""The home page's 工作台 panel of inspections (registered with `povertyapp.desk` by
`InspectionsConfig`): the assessment campaigns not yet finished that the user works on — an
auditor's those assigned to them (评估人员), a township's or county's those of its county
(`selectors.campaign_list`). The count links to the campaign list filtered the same way."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from inspections import selectors
from inspections.models import Campaign
from povertyapp import roles
from povertyapp.desk import Item
from povertyapp.models import User


def open_campaigns(user: User) -> QuerySet[Campaign]:
    """The campaigns of `campaign_list` not yet finished (`/inspections/?open=1`)."""
    return selectors.campaign_list(user=user).exclude(status=Campaign.Status.FINISHED)


def campaign_items(user: User) -> list[Item]:
    label = (
        _("分配给我的考核评估（未完成）")
        if user.role == User.Role.AUDITOR
        else _("进行中的考核评估")
    )
    return [
        Item(
            label=label,
            url=f"{reverse('inspections:campaigns')}?open=1",
            count=open_campaigns(user).count(),
        )
    ]


def visible(user: User) -> bool:
    """The roles the campaign list shows campaigns to (a village and a helper see none)."""
    return roles.has_case_access(user) and user.role in (
        User.Role.AUDITOR,
        User.Role.TOWNSHIP_REVIEWER,
        User.Role.COUNTY_OFFICER,
    )


def register_desk_panels() -> None:
    from django.utils.translation import gettext_lazy

    from povertyapp import desk

    desk.items_panel(
        key="inspections.campaigns",
        title=gettext_lazy("考核评估"),
        items=campaign_items,
        order=25,
        visible=visible,
    )
