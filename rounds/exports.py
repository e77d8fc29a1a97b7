"""The rounds' ledger: the 四类名单 of a dynamic-adjustment round (新识别纳入、剔除、返贫、标注脱贫,
plus the 自然增减 and 信息更正 lines), registered with the platform's ledger machinery."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.exports import CHUNK
from households.models import Household, HouseholdEvent, Member
from households.national.layouts import ROUND_LIST_LAYOUT
from households.national.ledgers import ROUND_LIST_KEY, ProblemCollector, sheet_title
from povertyapp import ledgers, roles
from povertyapp.ledgers.layout import DATE, INTEGER, SENSITIVE, Column, SheetSpec
from povertyapp.models import Region, User
from rounds.models import AdjustmentRound, RoundChange
from rounds.services import change_summary, round_list_events_for_user

ROUND_COLUMNS: tuple[Column, ...] = (
    Column("kind", "名单"),
    Column("township", "乡（镇）"),
    Column("village", "行政村"),
    Column("number", "户编号"),
    Column("head_name", "户主姓名"),
    Column("head_id", "户主证件号码", SENSITIVE),
    Column("persons", "人数", INTEGER, total=True),
    Column("reason", "理由", width=30),
    Column("ground", "剔除理由"),
    Column("state", "办理状态"),
    Column("proposed_at", "提出日期", DATE, ("办理过程",)),
    Column("reviewed_at", "乡镇审核日期", DATE, ("办理过程",)),
    Column("review_opinion", "审核意见", group=("办理过程",)),
    Column("decided_at", "县级审定日期", DATE, ("办理过程",)),
)


def _round_available() -> bool:
    return (
        RoundChange.objects.exists()
        or HouseholdEvent.objects.filter(
            round__isnull=False, kind__in=RoundChange.STATUS_KINDS
        ).exists()
    )


def _round_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    """The round's lines: every proposed, reviewed, returned or approved 自然增减/信息更正 line,
    the pending and returned lines of the four status lists, and what the four lists changed
    (`rounds.services.round_list_events`, the one source the figures count: an approved line and a
    procedure completed during the round alike), each with its line's process dates when a
    line led to it."""

    def chosen_round() -> AdjustmentRound | None:
        rounds = AdjustmentRound.objects.all()
        if user.region is not None:
            area = user.region.path
            rounds = rounds.filter(
                Q(changes__village__path__startswith=area)
                | Q(county__path__startswith=area)
                | Q(county__path__in=[node.path for node in user.region.ancestors()])
            ).distinct()
        try:
            if filters.get("round"):
                return rounds.filter(pk=int(filters["round"])).first()
        except (TypeError, ValueError):
            return None
        return rounds.order_by("-year").first()

    adjustment_round = chosen_round()
    region = Region.objects.filter(code=filters.get("region") or "").first()

    def queryset():
        """The lines listed as lines: all but the withdrawn ones and the approved status-list
        lines (those are listed through their events)."""
        if adjustment_round is None or not roles.has_case_access(user) or user.region is None:
            return RoundChange.objects.none()
        changes = (
            RoundChange.objects.filter(
                round=adjustment_round, village__path__startswith=user.region.path
            )
            .exclude(state=RoundChange.State.WITHDRAWN)
            .exclude(state=RoundChange.State.APPROVED, kind__in=RoundChange.STATUS_KINDS)
        )
        if region is not None:
            changes = changes.filter(village__path__startswith=region.path)
        return changes

    def events():
        if adjustment_round is None:
            return HouseholdEvent.objects.none()
        return round_list_events_for_user(user=user, round=adjustment_round, region=region)

    kinds = dict(RoundChange.Kind.choices)
    states = dict(RoundChange.State.choices)
    order = {value: index for index, value in enumerate(RoundChange.Kind.values)}

    def rows() -> Iterator[Sequence[Any]]:
        head = Member.objects.filter(
            household=OuterRef("household_id"), is_active=True, relation="户主"
        )
        values = (
            queryset()
            .annotate(head_id=Subquery(head.values("id_number")[:1]))
            .values_list(
                "kind",
                "village__parent__name",
                "village__name",
                "household__number",
                "head_name",
                "head_id",
                "persons",
                "reason",
                "ground",
                "state",
                "proposed_at",
                "reviewed_at",
                "review_opinion",
                "decided_at",
                "id",
                "village__path",
            )
        )
        lines = list(values.iterator(chunk_size=CHUNK))
        # What the four lists changed: each event with the line that led to it (if any).
        changed = list(
            events()
            .annotate(
                head_name=Subquery(head.values("name")[:1]),
                head_id=Subquery(head.values("id_number")[:1]),
            )
            .values_list(
                "kind",
                "list_village_id",
                "household__number",
                "head_name",
                "head_id",
                "persons",
                "reason",
                "ground",
                "effective_date",
                "round_change__proposed_at",
                "round_change__reviewed_at",
                "round_change__review_opinion",
                "round_change__decided_at",
                "round_change__reason",
                "round_change__ground",
            )
        )
        places = {
            village.pk: village
            for village in Region.objects.filter(pk__in={row[1] for row in changed}).select_related(
                "parent"
            )
        }
        for row in changed:
            village = places[row[1]]
            lines.append(
                (
                    row[0],
                    village.parent.name if village.parent else "",
                    village.name,
                    row[2],
                    row[3] or "",
                    row[4],
                    row[5],
                    row[13] or row[6],  # the line's reason when a line led to the change
                    row[14] or row[7],
                    RoundChange.State.APPROVED,
                    row[9],
                    row[10],
                    row[11] or "",
                    row[12],
                    None,
                    village.path,
                    row[8],
                )
            )
        lines.sort(key=lambda row: (order.get(row[0], 9), row[15], row[3]))
        # 自然增减 and 信息更正 lines say what they change in their 理由 cell, as on the round page
        # (the few such lines are read once; ID numbers shown as the user may see them).
        described = {RoundChange.Kind.NATURAL, RoundChange.Kind.CORRECTED}
        summaries = {
            change.pk: change_summary(change, user)
            for change in RoundChange.objects.filter(
                pk__in=[row[14] for row in lines if row[0] in described and row[14]]
            ).select_related("member")
        }
        local = timezone.localtime
        for row in lines:
            summary = summaries.get(row[14])
            reason = row[7]
            if summary:
                reason = summary if not reason or reason in summary else f"{summary}；{reason}"
            # A change made by a procedure alone has no line: its date is the event's.
            decided = local(row[13]).date() if row[13] else (row[16] if len(row) > 16 else None)
            yield (
                str(kinds.get(row[0], row[0])),
                *row[1:7],
                reason,
                row[8],
                str(states.get(row[9], row[9])),
                *(local(value).date() if value else None for value in (row[10], row[11])),
                row[12],
                decided,
            )

    title = (
        _("%(round)s 四类名单") % {"round": adjustment_round.name}
        if adjustment_round is not None
        else _("四类名单")
    )
    return SheetSpec(
        name=_("四类名单"),
        title=title,
        columns=ROUND_COLUMNS,
        rows=rows,
        count=lambda: queryset().count() + events().count(),
        date_label=_("填报日期"),
        totals_label=_("共%(rows)d户"),
    )


ledgers.register(
    ledgers.Ledger(
        key="round_lists",
        title=gettext_lazy("四类名单"),
        order=35,
        sheets=lambda *, user, filters: [_round_sheet(user, filters)],
        available=_round_available,
        description=gettext_lazy(
            "动态调整批次的新识别纳入、剔除、返贫、标注脱贫名单（默认最近一批）。"
        ),
    )
)


def _national_round_sheets(*, user: User, filters: dict[str, Any]) -> list[SheetSpec]:
    """The round's approved lines (县级已审定) in the national 四类名单 layout, coded through
    the national code tables; the values without a code listed on a last sheet."""
    source = _round_sheet(user, filters)
    approved = str(RoundChange.State.APPROVED.label)
    collector = ProblemCollector()
    fields = [national_field.key for national_field in ROUND_LIST_LAYOUT.fields]

    def records() -> Iterator[dict[str, Any]]:
        lines = [row for row in source.rows() if row[9] == approved]
        numbers = {row[3] for row in lines}
        codes_by_number = dict(
            Household.objects.filter(number__in=numbers).values_list("number", "village__code")
        )
        for row in lines:
            values = (
                row[0],
                codes_by_number.get(row[3], ""),
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                row[13],
            )
            yield dict(zip(fields, values, strict=True))

    return [
        SheetSpec(
            name=ROUND_LIST_LAYOUT.title,
            title=sheet_title(ROUND_LIST_LAYOUT),
            columns=ROUND_LIST_LAYOUT.columns(),
            rows=lambda: collector.encoded(
                ROUND_LIST_LAYOUT, records, lambda record: str(record.get("number", ""))
            ),
            count=source.count,
            date_label=_("填报日期"),
            with_totals=False,
        ),
        collector.sheet(),
    ]


ledgers.register(
    ledgers.Ledger(
        key=ROUND_LIST_KEY,
        title=gettext_lazy("国家系统格式：四类名单"),
        order=220,
        sheets=_national_round_sheets,
        available=_round_available,
        description=gettext_lazy(
            "动态调整批次县级已审定的名单，按全国防返贫监测信息系统格式和代码表。"
        ),
        may_export=roles.can_exchange_with_national_system,
    )
)
