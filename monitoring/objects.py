"""Reads of monitoring objects with their rules (issue 15): the one scoped access path of an
object (`object_get_for_user`: 404 outside the user's households, department accounts have
none) and the scoped, filtered list. Writes are the services of `monitoring.procedures`
(identification, 风险消除) and `monitoring.income`."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from households import detail_tabs
from households.models import Member
from households.services import common
from monitoring.models import MonitoringObject, ObjectRisk
from povertyapp import audit, roles
from povertyapp.conflicts import ConflictError
from povertyapp.models import AccessLog, Region, User


def object_list(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[MonitoringObject]:
    """The objects of the user's households (none for a department or administrator account),
    newest first, filtered by type, risk, state and region (a region of the user's scope)."""
    filters = filters or {}
    queryset = MonitoringObject.objects.filter(roles.household_scope_q(user))
    if filters.get("object_type"):
        queryset = queryset.filter(object_type=filters["object_type"])
    if filters.get("state"):
        queryset = queryset.filter(state=filters["state"])
    if filters.get("risk_type"):
        queryset = queryset.filter(risks__risk_type=filters["risk_type"])
    region = filters.get("region")
    if "region" in filters and region is None:  # a region asked for that is not the user's
        return queryset.none()
    if isinstance(region, Region):
        queryset = queryset.filter(household__village__path__startswith=region.path)
    return (
        queryset.select_related("household", "household__village", "household__village__parent")
        .prefetch_related(
            "risks",
            Prefetch(
                "household__members",
                queryset=Member.objects.filter(is_active=True, relation="户主"),
                to_attr="heads",
            ),
        )
        .distinct()
        .order_by("-clue_date", "-id")
    )


def risk_open_objects() -> QuerySet[MonitoringObject]:
    """Monitoring objects whose risk is not eliminated (监测中: identified, 风险消除 not yet
    reached)."""
    return MonitoringObject.objects.filter(state=MonitoringObject.State.MONITORED)


def list_warnings(*, on: datetime.date) -> list[tuple[str, Any]]:
    """The household list's warning: a household that is a monitoring object whose risk is
    not eliminated (`detail_tabs.list_warnings`)."""
    return [
        (
            str(_("监测对象，风险未消除")),
            Exists(risk_open_objects().filter(household=OuterRef("pk"))),
        )
    ]


def object_get_for_user(*, user: User, object_id: int) -> MonitoringObject:
    """The one access path to an object: 404 outside the user's households."""
    found = (
        MonitoringObject.objects.filter(roles.household_scope_q(user), pk=object_id)
        .select_related(
            "household",
            "household__village",
            "household__village__parent",
            "identification",
            "elimination",
            "assessment",
        )
        .first()
    )
    if found is None:
        raise Http404(_("未找到该监测对象，或您无权查看。"))
    return found


@transaction.atomic
def risk_resolve(
    *,
    actor: User,
    risk: ObjectRisk,
    resolved_on: datetime.date,
    expected_version: int | None = None,
) -> ObjectRisk:
    """Record that one risk of a current object is resolved (风险解除), dated `resolved_on`:
    the village cadre of the household's village, not in the future, not before the clue.
    The object's `version` is the lock (保存冲突 when it moved since the form was loaded); a
    risk already resolved keeps its date. One audit row, in the same transaction."""
    found = (
        MonitoringObject.objects.select_for_update()
        .select_related("household__village")
        .get(pk=risk.monitoring_object_id)
    )
    locked = ObjectRisk.objects.select_for_update().get(pk=risk.pk)
    if actor.role != User.Role.VILLAGE_CADRE or not roles.region_in_scope(
        actor, found.household.village
    ):
        raise ValidationError(_("只有本村的村级录入员可以登记风险解除。"), code="not_allowed")
    if expected_version is not None and found.version != expected_version:
        raise ConflictError(
            [{"field": "", "label": _("监测对象"), "old": "", "new": "", "who": _("他人")}]
        )
    if found.state not in MonitoringObject.CURRENT_STATES:
        raise ValidationError(_("该监测对象已不在监测中。"), code="bad_state")
    if locked.resolved_on is not None:
        raise ValidationError(
            _("%(risk)s风险已于%(date)s解除。"),
            code="already_resolved",
            params={
                "risk": locked.get_risk_type_display(),
                "date": locked.resolved_on.isoformat(),
            },
        )
    if resolved_on > common.today() or resolved_on < found.clue_date:
        raise ValidationError(
            {
                "resolved_on": [
                    ValidationError(
                        _("风险解除日期应在首次发现风险（%(clue)s）之后、今天之前。"),
                        code="bad_date",
                        params={"clue": found.clue_date.isoformat()},
                    )
                ]
            }
        )
    locked.resolved_on = resolved_on
    locked.save(update_fields=["resolved_on"])
    found.version += 1
    found.save(update_fields=["version"])
    audit.record(
        AccessLog.Action.APPROVAL,
        user=actor,
        target="monitoring.ObjectRisk",
        object_id=locked.pk,
        reason=str(_("风险解除：%(risk)s")) % {"risk": locked.get_risk_type_display()},
        detail={
            "object": found.pk,
            "household": found.household_id,
            "risk_type": locked.risk_type,
            "resolved_on": [None, resolved_on.isoformat()],
        },
    )
    return locked


CURRENT_ID_READ = "monitoring_current_id"
CURRENT_STATE_READ = "monitoring_current_state"


def household_reads() -> dict[str, Any]:
    """The household page reads its current monitoring object (id and state) with the
    household (`households.detail_tabs.page_reads`)."""
    current = MonitoringObject.objects.filter(
        household=OuterRef("pk"), state__in=MonitoringObject.CURRENT_STATES
    ).order_by("-id")
    return {
        CURRENT_ID_READ: Subquery(current.values("pk")[:1]),
        CURRENT_STATE_READ: Subquery(current.values("state")[:1]),
    }


def household_links(household: Any, *, user: User) -> list[tuple[str, str]]:
    """The household page's links to monitoring (`households.detail_tabs`): its current object,
    or 识别为监测对象 for the village cadre; 收入核算 for who may record one; 人口身份 (every
    identity of each member, `monitoring.identities`) for everyone who opens the page."""
    from django.urls import reverse

    if not roles.has_case_access(user):
        return []
    links = []
    current: tuple[int, str] | None
    current_id = detail_tabs.read_with_page(household, CURRENT_ID_READ)
    if current_id is detail_tabs.MISSING:  # not the household page: read it here
        current = (
            MonitoringObject.objects.filter(
                household=household, state__in=MonitoringObject.CURRENT_STATES
            )
            .order_by("-id")
            .values_list("pk", "state")
            .first()
        )
    elif current_id is not None:
        current = (current_id, detail_tabs.read_with_page(household, CURRENT_STATE_READ))
    else:
        current = None
    if current is not None:
        links.append(
            (
                _("监测对象：%(state)s") % {"state": MonitoringObject.State(current[1]).label},
                reverse("monitoring:object", args=[current[0]]),
            )
        )
    elif (
        user.role == User.Role.VILLAGE_CADRE
        and household.status != household.Status.REMOVED
        and roles.region_in_scope(user, household.village)
    ):
        links.append(
            (_("识别为监测对象"), reverse("monitoring:identify-household", args=[household.pk]))
        )
    if roles.can_write_households(user) and roles.region_in_scope(user, household.village):
        links.append((_("收入核算"), reverse("monitoring:income", args=[household.pk])))
    links.append((_("人口身份"), reverse("monitoring:household-identities", args=[household.pk])))
    return links
