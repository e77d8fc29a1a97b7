"""The round itself: the rounds a user may see, opening one (the baseline frozen set-based,
INSERT ... SELECT), closing it, and the edit lock while a village's lines wait for the county's
decision (`household_edit_check`, which the registry's services call)."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household, Member
from povertyapp import audit, roles, yearlock
from povertyapp.models import Region, User, VillageYear, path_prefixes
from rounds.models import (
    AdjustmentRound,
    RoundBaseline,
    RoundBaselineGroup,
    RoundChange,
    RoundVillage,
    default_round_name,
)

State = RoundChange.State


def round_list(*, user: User) -> QuerySet[AdjustmentRound]:
    """Rounds of the counties the user works in (above or below the user's region)."""
    if not roles.has_case_access(user) or user.region is None:
        return AdjustmentRound.objects.none()
    prefixes = [node.path for node in user.region.ancestors(include_self=True)]
    return (
        AdjustmentRound.objects.filter(
            Q(county__path__in=prefixes) | Q(county__path__startswith=user.region.path)
        )
        .select_related("county", "opened_by", "closed_by")
        .order_by("county__code", "-year")
    )


def round_get_for_user(*, user: User, round_id: int) -> AdjustmentRound:
    try:
        return round_list(user=user).get(pk=round_id)
    except (AdjustmentRound.DoesNotExist, ValueError, TypeError):
        raise Http404(_("未找到该动态调整批次，或您无权查看。")) from None


def round_open_for(region: Region) -> AdjustmentRound | None:
    """The open round of the county a region belongs to (one query, by the region's path)."""
    return AdjustmentRound.objects.filter(
        county__path__in=path_prefixes(region.path), status=AdjustmentRound.Status.OPEN
    ).first()


def village_under_approval(village: Region) -> AdjustmentRound | None:
    """The open round in which the village's data waits for the county's decision (if any)."""
    change = (
        RoundChange.objects.filter(
            village=village, state=State.REVIEWED, round__status=AdjustmentRound.Status.OPEN
        )
        .select_related("round")
        .first()
    )
    return change.round if change else None


def household_edit_check(*, household: Household) -> None:
    """Refuse an edit of a household while its village's round data is being approved by the
    county. The registry services call this before changing a household or its members
    (not when applying a round change itself)."""
    round = village_under_approval(household.village)
    if round is not None:
        raise ValidationError(
            _(
                "%(village)s的动态调整名单（%(round)s）正在县级审定中，暂停修改农户信息。"
                "审定或退回后方可修改。"
            ),
            code="round_under_approval",
            params={"village": household.village.name, "round": round.display_name},
        )


# --- opening and closing ----------------------------------------------------------------------


def _require_county_officer(actor: User, county: Region) -> None:
    if not roles.can_configure(actor):
        raise PermissionDenied(_("只有县扶贫办可以开启、审定或关闭动态调整批次。"))
    if not roles.region_in_scope(actor, county):
        raise PermissionDenied(_("该县不在您的管辖范围内。"))


@transaction.atomic
def round_open(
    *,
    actor: User,
    county: Region,
    year: int,
    name: str = "",
    opened_at: datetime.datetime | None = None,
) -> AdjustmentRound:
    """Open the county's round for a year and freeze its baseline (set-based, in one
    transaction). Every village of the county needs its 户籍农业人口 for the year first."""
    _require_county_officer(actor, county)
    if county.level != Region.Level.COUNTY:
        raise ValidationError(_("动态调整批次只能按县开启。"), code="not_a_county")
    open_round = AdjustmentRound.objects.filter(
        county=county, status=AdjustmentRound.Status.OPEN
    ).first()
    if open_round is not None:
        raise ValidationError(
            _("%(county)s已有进行中的动态调整批次（%(round)s），请先关闭。"),
            code="round_open",
            params={"county": county.name, "round": open_round.display_name},
        )
    if AdjustmentRound.objects.filter(county=county, year=year).exists():
        raise ValidationError(
            _("%(county)s%(year)s年度的动态调整批次已存在。"),
            code="round_year_exists",
            params={"county": county.name, "year": year},
        )
    villages = Region.objects.filter(path__startswith=county.path, level=Region.Level.VILLAGE)
    missing = list(
        villages.exclude(yearly__year=year).order_by("code").values_list("name", flat=True)
    )
    if missing:
        shown = "、".join(missing[:10]) + (_("等") if len(missing) > 10 else "")
        raise ValidationError(
            _("以下%(count)d个行政村尚未填写%(year)s年度户籍农业人口，无法冻结基期：%(names)s。"),
            code="population_missing",
            params={"count": len(missing), "year": year, "names": shown},
        )
    round = AdjustmentRound(
        county=county,
        year=year,
        name=name or default_round_name(year),
        opened_at=opened_at or timezone.now(),
        opened_by=actor,
    )
    round.full_clean(validate_constraints=False)
    round.save()
    baseline_freeze(round)
    _enqueue_rates(actor, round)
    # 安全审计: opening and closing a round are the county office's decisions.
    audit.record("approval", user=actor, target="round:open", object_id=round.pk, reason=round.name)
    return round


def baseline_freeze(round: AdjustmentRound) -> int:
    """Write the round's baseline (its households, their sums per village, status and main
    cause, and the villages' population) with three INSERT ... SELECT statements, in the
    caller's transaction. Returns households. Raw SQL bypasses the models' year-lock guard,
    so the round's year is checked here: a signed year gets no new baseline."""
    yearlock.ensure_writable(round.county, round.year)
    like = round.county.path + "%"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {RoundBaseline._meta.db_table}
                    (round_id, household_id, village_id, status, persons, main_cause)
                SELECT %s, h.id, h.village_id, h.status, COALESCE(m.persons, 0), h.main_cause
                FROM {Household._meta.db_table} h
                JOIN {Region._meta.db_table} v ON v.id = h.village_id
                LEFT JOIN (
                    SELECT mm.household_id, COUNT(*) AS persons
                    FROM {Member._meta.db_table} mm
                    JOIN {Household._meta.db_table} hh ON hh.id = mm.household_id
                    JOIN {Region._meta.db_table} vv ON vv.id = hh.village_id
                    WHERE mm.is_active = %s AND vv.path LIKE %s
                    GROUP BY mm.household_id
                ) m ON m.household_id = h.id
                WHERE v.path LIKE %s""",
            [round.pk, True, like, like],
        )
        households = cursor.rowcount
        # The same rows summed per village, status and main cause: what the figures read
        # instead of every baseline household (rounds.figures.round_counts_by_village).
        cursor.execute(
            f"""INSERT INTO {RoundBaselineGroup._meta.db_table}
                    (round_id, village_id, status, main_cause, households, persons)
                SELECT b.round_id, b.village_id, b.status, b.main_cause, COUNT(*), SUM(b.persons)
                FROM {RoundBaseline._meta.db_table} b
                WHERE b.round_id = %s
                GROUP BY b.round_id, b.village_id, b.status, b.main_cause""",
            [round.pk],
        )
        cursor.execute(
            f"""INSERT INTO {RoundVillage._meta.db_table}
                    (round_id, village_id, rural_population)
                SELECT %s, y.village_id, y.registered_rural_population
                FROM {VillageYear._meta.db_table} y
                JOIN {Region._meta.db_table} v ON v.id = y.village_id
                WHERE y.year = %s AND v.path LIKE %s""",
            [round.pk, round.year, like],
        )
    return households


def round_close_blocker(round: AdjustmentRound) -> ValidationError | None:
    """Why the open round cannot be closed yet (changes waiting for a decision, procedures of
    the round not completed), or None: the service refuses with it, and the round's page shows
    it in place of the 关闭批次 button."""
    pending = dict(
        round.changes.filter(state__in=RoundChange.PENDING_STATES)
        .values_list("state")
        .annotate(count=Count("id"))
        .order_by()
    )
    if pending:
        return ValidationError(
            _("尚有%(proposed)d条名单待乡镇审核、%(reviewed)d条待县级审定，请处理后再关闭批次。"),
            code="changes_pending",
            params={
                "proposed": pending.get(State.PROPOSED, 0),
                "reviewed": pending.get(State.REVIEWED, 0),
            },
        )
    open_workflows = _open_workflows(round)
    if open_workflows:
        return ValidationError(
            _("尚有%(count)d户的识别或退出程序在本批次中未办结，请办结或终止后再关闭批次。"),
            code="workflows_open",
            params={"count": open_workflows},
        )
    return None


@transaction.atomic
def round_close(*, actor: User, round: AdjustmentRound) -> AdjustmentRound:
    """Close the round: refused while changes wait for a decision. Its figures are then final."""
    locked = AdjustmentRound.objects.select_for_update().select_related("county").get(pk=round.pk)
    _require_county_officer(actor, locked.county)
    if locked.status != AdjustmentRound.Status.OPEN:
        raise ValidationError(_("该动态调整批次已关闭。"), code="round_closed")
    blocker = round_close_blocker(locked)
    if blocker is not None:
        raise blocker
    locked.status = AdjustmentRound.Status.CLOSED
    locked.closed_at = timezone.now()
    locked.closed_by = actor
    locked.save(update_fields=["status", "closed_at", "closed_by"])
    _enqueue_rates(actor, locked)
    audit.record(
        "approval", user=actor, target="round:close", object_id=locked.pk, reason=locked.name
    )
    return locked


def _open_workflows(round: AdjustmentRound) -> int:
    try:
        from households.models import CaseWorkflow
    except ImportError:  # pragma: no cover - procedures are part of the registry
        return 0
    return CaseWorkflow.objects.filter(round=round, state=CaseWorkflow.State.OPEN).count()


def _enqueue_rates(actor: User, round: AdjustmentRound) -> None:
    from rounds import rates

    rates.rates_enqueue(user=actor, round=round, region=round.county)
