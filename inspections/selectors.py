"""Reads with rules: who sees which campaign, when the sample becomes visible, the rectification
list in a user's scope, overdue marking and the quarterly ranking.

Visibility of a campaign's sample (DOMAIN §9: "the list stays hidden from villages until the
visit day"):
* the campaign's assessors and the county officer who launched it: always;
* other county officers and township reviewers whose area covers the campaign's county or a
  drawn village: from the visit day on (township reviewers: their own township's part only);
* village cadres, helpers and everyone else: never (villages receive correction tasks and
  rectification items instead).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from inspections.models import (
    Campaign,
    CorrectionTask,
    RectificationEvidence,
    RectificationItem,
    SampleHousehold,
    SampleVillage,
)
from povertyapp import roles
from povertyapp.models import Region, User

Role = User.Role


def today() -> datetime.date:
    return timezone.localdate()


# --- campaigns ----------------------------------------------------------------------------------


def campaign_list(*, user: User) -> QuerySet[Campaign]:
    """Campaigns a user may know of: assessors their own; county officers and township reviewers
    those of their county; the launcher always. Villages see none."""
    base = Campaign.objects.select_related("county", "launched_by")
    if not roles.has_case_access(user):
        return base.none()
    if user.role == Role.AUDITOR:
        return base.filter(assessors=user)
    if user.role in (Role.COUNTY_OFFICER, Role.TOWNSHIP_REVIEWER) and user.region is not None:
        # The campaign's county contains the user's region, or the user's region contains it.
        ancestors = [region.pk for region in user.region.ancestors(include_self=True)]
        return base.filter(
            Q(county_id__in=ancestors)
            | Q(county__path__startswith=user.region.path)
            | Q(launched_by=user)
        ).distinct()
    return base.none()


def campaign_get_for_user(*, user: User, campaign_id: int) -> Campaign:
    try:
        return campaign_list(user=user).get(pk=campaign_id)
    except Campaign.DoesNotExist as error:
        raise Http404(_("未找到该考核评估。")) from error


def is_assessor(user: User, campaign: Campaign) -> bool:
    return (
        roles.has_case_access(user)
        and user.role == Role.AUDITOR
        and campaign.assessors.filter(pk=user.pk).exists()
    )


def can_manage_campaign(user: User, campaign: Campaign) -> bool:
    """Launch, draw, set assessors, finish: the launcher or a county officer over the county."""
    return (
        roles.has_case_access(user)
        and user.role == Role.COUNTY_OFFICER
        and (campaign.launched_by_id == user.pk or roles.region_in_scope(user, campaign.county))
    )


def sample_visible(user: User, campaign: Campaign, *, on: datetime.date | None = None) -> bool:
    if not roles.has_case_access(user):
        return False
    if campaign.launched_by_id == user.pk or is_assessor(user, campaign):
        return True
    if (on or today()) < campaign.visit_date:
        return False
    return user.role in (Role.COUNTY_OFFICER, Role.TOWNSHIP_REVIEWER)


def require_sample_visible(user: User, campaign: Campaign) -> None:
    if not sample_visible(user, campaign):
        raise PermissionDenied(_("入户日期前，样本仅对评估组和发起人可见。"))


def can_record_findings(user: User, campaign: Campaign) -> bool:
    return is_assessor(user, campaign) and campaign.status == Campaign.Status.DRAWN


def sample_villages(*, user: User, campaign: Campaign) -> QuerySet[SampleVillage]:
    """The drawn villages the user may see (a township reviewer: own township only)."""
    queryset = SampleVillage.objects.filter(campaign=campaign).select_related("village", "township")
    if not sample_visible(user, campaign):
        return queryset.none()
    if user.role == Role.TOWNSHIP_REVIEWER and not (
        campaign.launched_by_id == user.pk or is_assessor(user, campaign)
    ):
        if user.region is None:  # never (case roles must have a region); narrows the type
            return queryset.none()
        return queryset.filter(village__path__startswith=user.region.path)
    return queryset


def sample_households(*, user: User, campaign: Campaign) -> QuerySet[SampleHousehold]:
    visible = sample_villages(user=user, campaign=campaign)
    return (
        SampleHousehold.objects.filter(sample_village__in=visible)
        .select_related(
            "sample_village__village", "sample_village__township", "household", "finding"
        )
        .order_by("sample_village__position", "position")
    )


def sample_village_get_for_user(
    *, user: User, campaign: Campaign, sample_village_id: int
) -> SampleVillage:
    try:
        return sample_villages(user=user, campaign=campaign).get(pk=sample_village_id)
    except SampleVillage.DoesNotExist as error:
        raise Http404(_("未找到该样本村。")) from error


def sample_household_get_for_user(
    *, user: User, campaign: Campaign, sample_id: int
) -> SampleHousehold:
    try:
        return sample_households(user=user, campaign=campaign).get(pk=sample_id)
    except SampleHousehold.DoesNotExist as error:
        raise Http404(_("未找到该样本户。")) from error


# --- correction tasks -----------------------------------------------------------------------------


def correction_task_list(*, user: User) -> QuerySet[CorrectionTask]:
    """Tasks of the villages in the user's area (the village sees its own)."""
    base = CorrectionTask.objects.select_related(
        "village", "household", "finding__sample__campaign"
    )
    if not roles.has_case_access(user) or user.region is None or user.role == Role.HELPER:
        return base.none()
    return base.filter(village__path__startswith=user.region.path)


def correction_task_get_for_user(
    *, user: User, task_id: int, for_write: bool = False
) -> CorrectionTask:
    try:
        task = correction_task_list(user=user).get(pk=task_id)
    except CorrectionTask.DoesNotExist as error:
        raise Http404(_("未找到该纠错任务。")) from error
    if for_write and not roles.can_write_households(user):
        raise PermissionDenied(_("您的角色不能处理纠错任务。"))
    return task


# --- rectification ------------------------------------------------------------------------------


def rectification_list(
    *,
    user: User,
    filters: dict[str, Any] | None = None,
) -> QuerySet[RectificationItem]:
    base = RectificationItem.objects.select_related("region", "campaign", "verified_by")
    if not roles.has_case_access(user) or user.region is None or user.role == Role.HELPER:
        return base.none()
    queryset = base.filter(region__path__startswith=user.region.path)
    filters = filters or {}
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("overdue"):
        queryset = queryset.filter(overdue_q())
    if filters.get("campaign"):
        queryset = queryset.filter(campaign_id=filters["campaign"])
    if filters.get("unit"):
        queryset = queryset.filter(responsible_unit=filters["unit"])
    return queryset.order_by("deadline", "id")


def can_edit_rectification(user: User) -> bool:
    return roles.has_case_access(user) and user.role in (
        Role.VILLAGE_CADRE,
        Role.TOWNSHIP_REVIEWER,
        Role.COUNTY_OFFICER,
    )


def rectification_get_for_user(
    *, user: User, item_id: int, for_write: bool = False
) -> RectificationItem:
    try:
        item = rectification_list(user=user).get(pk=item_id)
    except RectificationItem.DoesNotExist as error:
        raise Http404(_("未找到该整改事项。")) from error
    if for_write and not can_edit_rectification(user):
        raise PermissionDenied(_("您的角色只能查看整改清单。"))
    return item


def rectification_evidence_get_for_user(*, user: User, evidence_id: int) -> RectificationEvidence:
    """An evidence file of a rectification item the user may see (404 otherwise)."""
    evidence = (
        RectificationEvidence.objects.filter(
            pk=evidence_id, item__in=rectification_list(user=user).values("pk")
        )
        .select_related("item")
        .first()
    )
    if evidence is None:
        raise Http404(_("未找到该材料，或您无权查看。"))
    return evidence


def overdue_q(on: datetime.date | None = None) -> Q:
    """Open (待整改/整改中) past its deadline."""
    return Q(status__in=RectificationItem.OPEN_STATUSES, deadline__lt=on or today())


def is_overdue(item: RectificationItem, on: datetime.date | None = None) -> bool:
    return item.status in RectificationItem.OPEN_STATUSES and item.deadline < (on or today())


def quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    start = datetime.date(year, 3 * (quarter - 1) + 1, 1)
    end = (
        datetime.date(year + 1, 1, 1) if quarter == 4 else datetime.date(year, 3 * quarter + 1, 1)
    ) - datetime.timedelta(days=1)
    return start, end


def _prefixes(path: str) -> list[str]:
    parts = [part for part in path.split("/") if part]
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def rectification_ranking(
    *, user: User, year: int, quarter: int, on: datetime.date | None = None
) -> dict[str, Any]:
    """跟踪问责排位: items due in the quarter, per responsible unit and per township.

    An item due in the quarter counts as on time when finished (已整改/已销号) on or before its
    deadline; overdue when still open after its deadline or finished late. Ranked by on-time
    share (descending), then overdue count (ascending), then name.
    """
    start, end = quarter_bounds(year, quarter)
    on = on or today()
    items = list(rectification_list(user=user).filter(deadline__gte=start, deadline__lte=end))
    prefixes = {prefix for item in items for prefix in _prefixes(item.region.path)}
    townships = dict(
        Region.objects.filter(level=Region.Level.TOWNSHIP, path__in=prefixes).values_list(
            "path", "name"
        )
    )

    def tally() -> dict[str, Any]:
        return {"total": 0, "on_time": 0, "overdue": 0, "open": 0, "closed": 0}

    by_unit: dict[str, dict[str, Any]] = defaultdict(tally)
    by_township: dict[str, dict[str, Any]] = defaultdict(tally)
    for item in items:
        finished = item.status in (RectificationItem.Status.DONE, RectificationItem.Status.CLOSED)
        on_time = finished and item.done_at is not None and item.done_at <= item.deadline
        overdue = (not finished and item.deadline < on) or (finished and not on_time)
        township = next(
            (townships[p] for p in _prefixes(item.region.path) if p in townships), item.region.name
        )
        keys = [(by_unit, item.responsible_unit), (by_township, township)]
        for table, key in keys:
            row = table[key]
            row["total"] += 1
            row["on_time"] += int(on_time)
            row["overdue"] += int(overdue)
            row["open"] += int(not finished)
            row["closed"] += int(item.status == RectificationItem.Status.CLOSED)

    def ranked(table: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for name, row in table.items():
            share = row["on_time"] / row["total"] if row["total"] else 0.0
            rows.append({"name": name, **row, "on_time_share": share})
        rows.sort(key=lambda r: (-r["on_time_share"], r["overdue"], r["name"]))
        for position, row in enumerate(rows, start=1):
            row["rank"] = position
        return rows

    return {"units": ranked(by_unit), "townships": ranked(by_township), "start": start, "end": end}
