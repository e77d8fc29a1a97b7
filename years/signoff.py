"""The year-end sign-off (年度签署): village → township → county, the lock, reopening.

- A village cadre **submits** the village's registry of year Y; a township reviewer **signs**
  once every village of the township submitted; the county office **signs** once every
  township signed, which freezes the year's figures and locks the year
  (`povertyapp.yearlock`, the table in `years.lock`).
- Before acting, each level sees what is still open in its area (`open_items`). Blocking items
  must be cleared first: unfinished 识别/退出 procedures of Y, registered households without
  Y's income and, for the county, the round of Y still open or its figures not final. Warnings
  may stand with a written explanation: open problem data (问题数据) and open monitoring
  procedures (they run on through the year-end; each is locked with the year it finishes in).
- A level **returns** the level below (township → a village, county → a township) with a
  reason, while its own sign-off is not done.
- Only the county office **reopens** a signed year, with a reason: the lock lifts, the
  county's sign-off goes back to 已重新开启, and signing again relocks.

Every step is a `SignOffEvent` and an audit row (审核审批), in the action's transaction; rows
are locked (`select_for_update`) so that two people acting at once cannot pass each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from households.models import CaseWorkflow, DataProblem, Household, HouseholdIncome
from povertyapp import audit, roles, yearlock
from povertyapp.models import AccessLog, Region, User
from rounds import rates
from rounds.models import AdjustmentRound, RateSnapshot
from years.lock import YEAR_PROCEDURES
from years.models import SignOff, SignOffEvent

Level = SignOff.Level
State = SignOff.State

MONITORING_PROCEDURES = (CaseWorkflow.Kind.MONITORING, CaseWorkflow.Kind.RISK_ELIMINATION)
LEVEL_OF_REGION: dict[str, str] = {
    Region.Level.VILLAGE: Level.VILLAGE,
    Region.Level.TOWNSHIP: Level.TOWNSHIP,
    Region.Level.COUNTY: Level.COUNTY,
}
BELOW: dict[str, str] = {Level.TOWNSHIP: Region.Level.VILLAGE, Level.COUNTY: Region.Level.TOWNSHIP}


@dataclass(frozen=True)
class OpenItems:
    """What is still open in a region for year Y. Blocking: `procedures`, `missing_incomes`,
    `round_open` (county only). Warnings: `problems`, `monitoring`."""

    procedures: int
    missing_incomes: int
    problems: int
    monitoring: int
    round_open: bool = False

    @property
    def blocking(self) -> bool:
        return bool(self.procedures or self.missing_incomes or self.round_open)

    @property
    def warnings(self) -> bool:
        return bool(self.problems or self.monitoring)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _in(region: Region, prefix: str = "household__village__path") -> dict[str, str]:
    return {f"{prefix}__startswith": region.path}


def year_round(*, county: Region, year: int) -> AdjustmentRound | None:
    return AdjustmentRound.objects.filter(county=county, year=year).order_by("-pk").first()


def open_items(*, region: Region, year: int) -> OpenItems:
    """Count what is still open in `region`'s subtree for `year` (a few aggregate queries)."""
    workflows = CaseWorkflow.objects.filter(state=CaseWorkflow.State.OPEN, **_in(region))
    households = Household.objects.filter(
        status__in=Household.REGISTERED_STATUSES, village__path__startswith=region.path
    )
    income = HouseholdIncome.objects.filter(household=OuterRef("pk"), year=year)
    round_open = False
    if region.level == Region.Level.COUNTY:
        round = year_round(county=region, year=year)
        round_open = round is None or not rates.round_figures_final(round)
    return OpenItems(
        procedures=workflows.filter(kind__in=YEAR_PROCEDURES, year__lte=year).count(),
        missing_incomes=households.filter(~Exists(income)).count(),
        problems=DataProblem.objects.filter(
            state=DataProblem.State.OPEN, village__path__startswith=region.path
        ).count(),
        monitoring=workflows.filter(kind__in=MONITORING_PROCEDURES).count(),
        round_open=round_open,
    )


# --- reads ----------------------------------------------------------------------------------


def default_year() -> int:
    """The year the sign-off page opens on: the income year just ended."""
    return timezone.localdate().year - 1


def waiting(*, user: User, year: int) -> dict[str, Any] | None:
    """What the year's sign-off waits for at the user's own level (the work desk): the village
    cadre's village not submitted; the township's villages (the county's townships) not done,
    or, all done, its own signature. None when nothing waits for this user or its level has
    signed. One query: the region and the level below it, each with its state."""
    region = user.region
    if region is None or not roles.has_case_access(user):
        return None
    level: str | None = {
        User.Role.VILLAGE_CADRE: Region.Level.VILLAGE,
        User.Role.TOWNSHIP_REVIEWER: Region.Level.TOWNSHIP,
        User.Role.COUNTY_OFFICER: Region.Level.COUNTY,
    }.get(User.Role(user.role))
    if level is None or region.level != level:
        return None
    below = BELOW.get(LEVEL_OF_REGION[level])
    area = Q(pk=region.pk) | Q(parent=region, level=below) if below else Q(pk=region.pk)
    state = SignOff.objects.filter(region=OuterRef("pk"), year=year).values("state")[:1]
    rows = list(Region.objects.filter(area).annotate(state=Subquery(state)).order_by("code"))
    own = next((row.state for row in rows if row.pk == region.pk), None) or State.PENDING
    done = (State.SUBMITTED, State.SIGNED) if below is None else (State.SIGNED,)
    if own in done:
        return None
    undone = [
        row
        for row in rows
        if row.pk != region.pk and row.state not in (State.SUBMITTED, State.SIGNED)
    ]
    return {"state": own, "below": undone}


def user_region(user: User) -> Region:
    """The region a user acts for (403 for a role without case access or without a region)."""
    if not roles.has_case_access(user) or user.region is None:
        raise PermissionDenied(_("您的账号不能办理年度签署。"))
    return user.region


def require_may_sign(user: User) -> None:
    """403 unless the user signs a level (township reviewer, county office): checked before
    the form, so that a role that may not act learns that first."""
    if not roles.has_case_access(user) or user.role not in (
        User.Role.TOWNSHIP_REVIEWER,
        User.Role.COUNTY_OFFICER,
    ):
        raise PermissionDenied(_("只有乡镇审核员和县扶贫办可以签署或退回年度数据。"))


def require_may_reopen(user: User) -> None:
    if not roles.has_case_access(user) or user.role != User.Role.COUNTY_OFFICER:
        raise PermissionDenied(_("只有县扶贫办可以重新开启已签署的年度。"))


def county_of(region: Region) -> Region:
    for node in region.ancestors(include_self=True):
        if node.level == Region.Level.COUNTY:
            return node
    raise Http404(_("该区划不属于任何县。"))


def sign_off_for(*, region: Region, year: int) -> SignOff | None:
    return SignOff.objects.filter(region=region, year=year).first()


def state_of(*, region: Region, year: int) -> str:
    found = sign_off_for(region=region, year=year)
    return found.state if found is not None else State.PENDING


def area_sign_offs(*, user: User, year: int) -> dict[str, Any]:
    """The sign-off page's and the API's reading for `user`'s county: the county's row, each
    township with its villages, as (region, sign-off or None) in code order (three queries)."""
    if not roles.has_case_access(user) or user.region is None:
        raise PermissionDenied(_("您的账号不能查看年度签署。"))
    county = county_of(user.region)
    visible = roles.region_scope(user)
    regions = list(
        Region.objects.filter(
            path__startswith=county.path,
            level__in=(Region.Level.COUNTY, Region.Level.TOWNSHIP, Region.Level.VILLAGE),
        ).order_by("code")
    )
    rows = {
        row.region_id: row
        for row in SignOff.objects.filter(year=year, region__in=regions).select_related("acted_by")
    }
    visible_ids = set(visible.filter(path__startswith=county.path).values_list("pk", flat=True))
    townships = []
    for township in (r for r in regions if r.level == Region.Level.TOWNSHIP):
        villages = [
            (village, rows.get(village.pk))
            for village in regions
            if village.parent_id == township.pk and village.pk in visible_ids
        ]
        if township.pk in visible_ids or villages:
            townships.append(
                {"region": township, "sign_off": rows.get(township.pk), "villages": villages}
            )
    return {"county": county, "sign_off": rows.get(county.pk), "townships": townships}


def sign_off_events(*, user: User, year: int) -> QuerySet[SignOffEvent]:
    county = county_of(user.region) if user.region is not None else None
    if county is None:
        return SignOffEvent.objects.none()
    return (
        SignOffEvent.objects.filter(
            sign_off__year=year, sign_off__region__path__startswith=county.path
        )
        .select_related("sign_off__region", "actor")
        .order_by("-at", "-pk")
    )


# --- writes ---------------------------------------------------------------------------------


def _locked_row(*, region: Region, year: int) -> SignOff:
    row, _created = SignOff.objects.select_for_update().get_or_create(
        region=region, year=year, defaults={"level": LEVEL_OF_REGION[region.level]}
    )
    return row


def _record(
    *,
    row: SignOff,
    action: str,
    to_state: str,
    actor: User,
    reason: str = "",
    items: OpenItems | None = None,
) -> SignOffEvent:
    now = timezone.now()
    event = SignOffEvent.objects.create(
        sign_off=row,
        action=action,
        from_state=row.state,
        to_state=to_state,
        actor=actor,
        at=now,
        reason=reason,
        open_items=items.as_dict() if items is not None else {},
    )
    row.state = to_state
    row.acted_by = actor
    row.acted_at = now
    fields = ["state", "acted_by", "acted_at"]
    if action in (SignOffEvent.Action.RETURN, SignOffEvent.Action.REOPEN):
        row.reason = reason
        fields.append("reason")
    else:
        row.explanation = reason
        fields.append("explanation")
    row.save(update_fields=fields)
    audit.record(
        AccessLog.Action.APPROVAL,
        user=actor,
        target="years.SignOff",
        object_id=row.pk,
        reason=reason[:255],
        detail={"action": action, "region": row.region.code, "year": row.year, "to": to_state},
    )
    return event


def _require(user: User, role: str, region: Region, message: str) -> None:
    if not roles.has_case_access(user) or user.role != role:
        raise PermissionDenied(_(message))
    if not roles.region_in_scope(user, region):
        raise Http404(_("未找到该区划，或您无权查看。"))


def _check_items(items: OpenItems, explanation: str) -> None:
    errors: list[ValidationError] = []
    if items.procedures:
        errors.append(
            ValidationError(
                _("还有%(count)s个识别或退出程序未办结，请办结后再签署。")
                % {"count": items.procedures},
                code="open_procedures",
            )
        )
    if items.missing_incomes:
        errors.append(
            ValidationError(
                _("还有%(count)s户建档立卡户未录入本年度收入，请录入后再签署。")
                % {"count": items.missing_incomes},
                code="missing_incomes",
            )
        )
    if items.round_open:
        errors.append(
            ValidationError(
                _("本年度的动态调整批次尚未关闭或指标尚未定稿，请关闭批次、指标计算完成后再签署。"),
                code="round_open",
            )
        )
    if items.warnings and not explanation.strip():
        errors.append(
            ValidationError(
                _(
                    "还有%(problems)s条问题数据、%(monitoring)s个监测程序未办结，"
                    "请填写情况说明后再签署。"
                )
                % {"problems": items.problems, "monitoring": items.monitoring},
                code="explanation_required",
            )
        )
    if errors:
        raise ValidationError({"explanation": errors} if not items.blocking else errors)


def _not_locked(region: Region, year: int) -> None:
    yearlock.ensure_writable(region, year)


@transaction.atomic
def signoff_submit(*, actor: User, village: Region, year: int, explanation: str = "") -> SignOff:
    """The village cadre submits the village's year (未提交 or 已退回 → 已提交)."""
    _require(
        actor,
        User.Role.VILLAGE_CADRE,
        village,
        gettext_noop("只有村级信息员可以提交本村年度数据。"),
    )
    if village.level != Region.Level.VILLAGE:
        raise ValidationError(_("只能提交行政村的年度数据。"), code="not_a_village")
    _not_locked(village, year)
    township = village.parent
    if township is not None and state_of(region=township, year=year) == State.SIGNED:
        raise ValidationError(_("乡镇已签署本年度，不能再提交。"), code="township_signed")
    row = _locked_row(region=village, year=year)
    if row.state == State.SUBMITTED:
        raise ValidationError(_("本村本年度已提交。"), code="already_submitted")
    items = open_items(region=village, year=year)
    _check_items(items, explanation)
    _record(
        row=row,
        action=SignOffEvent.Action.SUBMIT,
        to_state=State.SUBMITTED,
        actor=actor,
        reason=explanation.strip(),
        items=items,
    )
    return row


def _children_done(region: Region, year: int) -> list[Region]:
    """The regions of the level below `region` whose sign-off is not done."""
    below = BELOW[LEVEL_OF_REGION[region.level]]
    children = list(Region.objects.filter(parent=region, level=below).order_by("code"))
    done = set(
        SignOff.objects.filter(
            region__in=children, year=year, state__in=(State.SUBMITTED, State.SIGNED)
        ).values_list("region_id", flat=True)
    )
    return [child for child in children if child.pk not in done]


@transaction.atomic
def signoff_sign(*, actor: User, region: Region, year: int, explanation: str = "") -> SignOff:
    """A township reviewer signs the township (all its villages submitted); the county office
    signs the county (all its townships signed), freezing the figures and locking the year."""
    if region.level == Region.Level.TOWNSHIP:
        _require(
            actor,
            User.Role.TOWNSHIP_REVIEWER,
            region,
            gettext_noop("只有乡镇审核员可以签署乡镇年度数据。"),
        )
    elif region.level == Region.Level.COUNTY:
        _require(
            actor,
            User.Role.COUNTY_OFFICER,
            region,
            gettext_noop("只有县扶贫办可以签署全县年度数据。"),
        )
    else:
        raise ValidationError(_("只有乡镇和县签署年度数据。"), code="not_a_signing_level")
    _not_locked(region, year)
    row = _locked_row(region=region, year=year)
    if row.state == State.SIGNED:
        raise ValidationError(_("本年度已签署。"), code="already_signed")
    missing = _children_done(region, year)
    if missing:
        names = _("、").join(child.name for child in missing[:10])
        if region.level == Region.Level.TOWNSHIP:
            message = _("还有%(count)s个村未提交（%(names)s），不能签署。")
        else:
            message = _("还有%(count)s个乡镇未签署（%(names)s），不能签署。")
        raise ValidationError(message % {"count": len(missing), "names": names}, code="below_open")
    items = open_items(region=region, year=year)
    _check_items(items, explanation)
    _record(
        row=row,
        action=SignOffEvent.Action.SIGN,
        to_state=State.SIGNED,
        actor=actor,
        reason=explanation.strip(),
        items=items,
    )
    if region.level == Region.Level.COUNTY:
        round = year_round(county=region, year=year)
        row.figures = frozen_figures(round) if round is not None else []
        row.save(update_fields=["figures"])
        yearlock.lock(county=region, year=year, actor=actor)
    return row


def frozen_figures(round: AdjustmentRound) -> list[dict[str, Any]]:
    """The round's final figures, one entry per region (its latest snapshot), as numerators
    and denominators: the signed year's figures, kept with the sign-off."""
    latest: dict[int, RateSnapshot] = {}
    for snapshot in (
        RateSnapshot.objects.filter(round=round).select_related("region").order_by("computed_at")
    ):
        latest[snapshot.region_id] = snapshot
    keys = ("wrongful_inclusion", "omission", "wrongful_exit", "incidence", "completeness")
    return [
        {
            "code": snapshot.region.code,
            "name": snapshot.region.name,
            "level": snapshot.level,
            "round": round.pk,
            "computed_at": snapshot.computed_at.isoformat(),
            **{
                key: [
                    getattr(snapshot, f"{key}_numerator"),
                    getattr(snapshot, f"{key}_denominator"),
                ]
                for key in keys
            },
        }
        for snapshot in sorted(latest.values(), key=lambda s: s.region.code)
    ]


@transaction.atomic
def signoff_return(*, actor: User, region: Region, year: int, reason: str) -> SignOff:
    """Return a village's submission (the township reviewer, before the township signed) or a
    township's signature (the county office, before the county signed), with a reason."""
    require_may_sign(actor)
    parent = region.parent
    if region.level == Region.Level.VILLAGE and parent is not None:
        _require(
            actor,
            User.Role.TOWNSHIP_REVIEWER,
            parent,
            gettext_noop("只有乡镇审核员可以退回村的提交。"),
        )
    elif region.level == Region.Level.TOWNSHIP and parent is not None:
        _require(
            actor,
            User.Role.COUNTY_OFFICER,
            parent,
            gettext_noop("只有县扶贫办可以退回乡镇的签署。"),
        )
    else:
        raise ValidationError(_("只能退回村或乡镇的年度签署。"), code="not_returnable")
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写退回理由。")]}, code="reason_required")
    _not_locked(region, year)
    upper = _locked_row(region=parent, year=year)
    if upper.state == State.SIGNED:
        raise ValidationError(
            _("上级已签署，不能退回；请先由上级退回或重新开启。"), code="upper_signed"
        )
    row = _locked_row(region=region, year=year)
    if not row.is_done:
        raise ValidationError(_("该区划尚未提交或签署，无需退回。"), code="not_done")
    _record(
        row=row,
        action=SignOffEvent.Action.RETURN,
        to_state=State.RETURNED,
        actor=actor,
        reason=reason.strip(),
    )
    return row


@transaction.atomic
def signoff_reopen(*, actor: User, county: Region, year: int, reason: str) -> SignOff:
    """The county office reopens its signed year, with a reason: the lock lifts; signing the
    county again relocks it (the townships and villages keep their signatures)."""
    _require(
        actor,
        User.Role.COUNTY_OFFICER,
        county,
        gettext_noop("只有县扶贫办可以重新开启已签署的年度。"),
    )
    if county.level != Region.Level.COUNTY:
        raise ValidationError(_("只能重新开启县的年度签署。"), code="not_a_county")
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写重新开启的理由。")]}, code="reason_required")
    row = _locked_row(region=county, year=year)
    if row.state != State.SIGNED:
        raise ValidationError(_("本年度尚未签署，无需重新开启。"), code="not_signed")
    yearlock.unlock(county=county, year=year)
    _record(
        row=row,
        action=SignOffEvent.Action.REOPEN,
        to_state=State.REOPENED,
        actor=actor,
        reason=reason.strip(),
    )
    return row
