"""The home page's 工作台 panels of monitoring (registered with `povertyapp.desk` by
`MonitoringConfig`): the risk clues to verify (入户核实: 待核实, matched to a household, and
待登记, not matched) and those late on either clock, for the
case roles over the inbox's scope (`inbox.clues_for_user`); for a department's account, its own
lists (what it may act on: push a list, read the results). Each count links to the inbox
filtered to exactly those clues."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from households.services import common
from monitoring import inbox
from monitoring.models import Clue
from povertyapp import roles
from povertyapp.desk import Item
from povertyapp.models import User


def clue_items(user: User) -> list[Item]:
    today = common.today()
    scoped = inbox.clues_for_user(user).order_by()
    url = reverse("monitoring:clues")
    return [
        Item(
            label=_("待核实的风险线索"),
            url=f"{url}?state={Clue.State.PENDING}",
            count=scoped.filter(state=Clue.State.PENDING).count(),
            note=_("已匹配到农户，待入户核实"),
        ),
        Item(
            label=_("待登记的风险线索"),
            url=f"{url}?state={Clue.State.UNREGISTERED}",
            count=scoped.filter(state=Clue.State.UNREGISTERED).count(),
            note=_("未匹配到农户，待入户核实并登记"),
        ),
        Item(
            label=_("逾期的风险线索"),
            url=f"{url}?overdue=on",
            count=scoped.filter(state__in=Clue.OPEN_STATES).filter(inbox.overdue_q(today)).count(),
            late=True,
        ),
    ]


def department_items(user: User) -> list[Item]:
    """A department's account: push its lists, read what became of them."""
    return [
        Item(
            label=_("本部门推送名单的处理结果"),
            url=reverse("monitoring:department-home"),
            count=inbox.lists_for_department(user).count(),
        ),
        Item(label=_("推送风险名单"), url=reverse("monitoring:list-upload")),
    ]


def register_desk_panels() -> None:
    from django.utils.translation import gettext_lazy

    from povertyapp import desk

    desk.items_panel(
        key="monitoring.clues",
        title=gettext_lazy("防返贫监测"),
        items=clue_items,
        order=40,
        visible=inbox.can_read_inbox,
    )
    desk.items_panel(
        key="monitoring.department",
        title=gettext_lazy("部门名单"),
        items=department_items,
        order=40,
        visible=roles.is_department,
    )
