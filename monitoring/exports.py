"""Monitoring ledgers (issue 15): 监测对象台账, 风险线索台账 (a sheet per source and department),
风险消除台账 and 集中排查进度表. Declared here, written by `povertyapp.ledgers` (its layout,
masking of ID numbers for roles without the right, sheet chunking, jobs and access log).

Rows stream from one ordered query each; the list-valued column (an object's risk types) is
read per chunk of rows, never per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import Member
from households.services import common
from monitoring import identities
from monitoring.models import (
    Clue,
    EliminationWay,
    IdentityKind,
    IncomeAssessment,
    MonitoringObject,
    ObjectRisk,
    ObjectType,
    PersonIdentity,
    RiskType,
    Sweep,
    SweepHousehold,
)
from povertyapp import ledgers
from povertyapp.ledgers.layout import DATE, INTEGER, MONEY, SENSITIVE, Column, SheetSpec
from povertyapp.ledgers.queries import choice_label, household_linked, region_linked
from povertyapp.models import User

CHUNK = 2000
PLACE = (Column("township", "乡（镇）"), Column("village", "行政村"))
HOUSEHOLD = (
    Column("number", "户编号"),
    Column("head", "户主姓名"),
    Column("head_id_number", "户主身份证号", SENSITIVE),
)


def _head() -> dict[str, Subquery]:
    head = Member.objects.filter(
        household=OuterRef("household_id"), is_active=True, relation="户主"
    ).order_by()
    return {
        "head_name": Subquery(head.values("name")[:1]),
        "head_id_number": Subquery(head.values("id_number")[:1]),
    }


def _risk_labels(object_ids: list[int]) -> dict[int, str]:
    """The risk types of each object, in the order of the choices, joined with 、."""
    labels = dict(RiskType.choices)
    order = {key: index for index, key in enumerate(labels)}
    found: dict[int, list[str]] = {}
    pairs = ObjectRisk.objects.filter(monitoring_object__in=object_ids).values_list(
        "monitoring_object_id", "risk_type"
    )
    for object_id, risk in sorted(pairs, key=lambda pair: (pair[0], order.get(pair[1], 99))):
        found.setdefault(object_id, []).append(str(labels.get(risk, risk)))
    return {key: "、".join(values) for key, values in found.items()}


def _chunked(queryset: QuerySet[Any], fields: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of `queryset` (ordered) in lists of CHUNK, the primary key first."""
    batch: list[tuple[Any, ...]] = []
    for row in queryset.values_list("pk", *fields).iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


# --- 监测对象台账 ------------------------------------------------------------------------------

OBJECT_COLUMNS = (
    *PLACE,
    *HOUSEHOLD,
    Column("object_type", "监测对象类型"),
    Column("risks", "风险类型", width=24),
    Column("identified_on", "识别纳入日期", DATE),
    Column("state", "监测状态"),
    Column("measures", "帮扶措施数", INTEGER, total=True),
    Column("elimination_way", "风险消除方式", group=("风险消除",)),
    Column("eliminated_on", "风险消除日期", DATE, ("风险消除",)),
)


def _objects(user: User, filters: dict[str, Any]) -> QuerySet[MonitoringObject]:
    return household_linked(
        MonitoringObject.objects.all(), user=user, filters=filters, year_field="clue_date__year"
    )


def _measure_count() -> Coalesce:
    from assistance.models import Measure

    # The household's measures from the year the risk was first found on.
    measures = (
        Measure.objects.filter(
            household=OuterRef("household_id"), year__gte=OuterRef("clue_date__year")
        )
        .order_by()
        .values("household")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(measures, output_field=IntegerField()), 0)


def _object_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    object_type = choice_label(ObjectType.choices)
    state = choice_label(MonitoringObject.State.choices)
    way = choice_label(EliminationWay.choices)

    def rows() -> Iterator[Sequence[Any]]:
        ordered = (
            _objects(user, filters)
            .annotate(**_head(), measures=_measure_count())
            .order_by("household__village__code", "household__number", "clue_date", "pk")
        )
        fields = (
            "household__village__parent__name",
            "household__village__name",
            "household__number",
            "head_name",
            "head_id_number",
            "object_type",
            "identified_on",
            "state",
            "measures",
            "elimination_way",
            "eliminated_on",
        )
        for batch in _chunked(ordered, fields):
            risks = _risk_labels([row[0] for row in batch])
            for pk, township, village, number, head, head_id, kind, *rest in batch:
                identified_on, status, measures, elimination, eliminated_on = rest
                yield (
                    township,
                    village,
                    number,
                    head,
                    head_id,
                    object_type(kind),
                    risks.get(pk, ""),
                    identified_on,
                    state(status),
                    measures,
                    way(elimination) if elimination else "",
                    eliminated_on,
                )

    return SheetSpec(
        name=_("监测对象台账"),
        title=_("防止返贫监测对象台账"),
        columns=OBJECT_COLUMNS,
        rows=rows,
        count=lambda: _objects(user, filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d户"),
    )


# --- 风险线索台账 ------------------------------------------------------------------------------

CLUE_COLUMNS = (
    Column("channel", "线索来源"),
    Column("department", "推送部门"),
    Column("received_on", "线索日期", DATE),
    *PLACE,
    Column("name", "姓名"),
    Column("id_number", "身份证号", SENSITIVE),
    Column("risk_type", "风险类型"),
    Column("state", "办理状态"),
    Column("verify_due", "入户核实期限", DATE, ("入户核实",)),
    Column("verified_on", "核实日期", DATE, ("入户核实",)),
    Column("decide_due", "识别办结期限", DATE, ("识别办结",)),
    Column("decided_on", "处理日期", DATE, ("识别办结",)),
    Column("overdue", "是否超期"),
    Column("result", "处理结果", width=24),
)


def _clues(user: User, filters: dict[str, Any]) -> QuerySet[Clue]:
    return region_linked(
        Clue.objects.all(), user=user, filters=filters, year_field="received_on__year"
    )


def _clue_sheet(
    user: User, filters: dict[str, Any], *, name: str, condition: Q, today: Any
) -> SheetSpec:
    channel = choice_label(Clue.Channel.choices)
    department = choice_label(User.Department.choices)
    risk = choice_label(RiskType.choices)
    state = choice_label(Clue.State.choices)
    undecided = {Clue.State.PENDING, Clue.State.VERIFIED, Clue.State.IDENTIFYING}

    def queryset() -> QuerySet[Clue]:
        return _clues(user, filters).filter(condition)

    def overdue(status: str, verify_due: Any, verified_on: Any, decide_due: Any) -> str:
        late = []
        if status == Clue.State.PENDING and verify_due < today:
            late.append(_("入户核实超期"))
        if status in undecided and decide_due < today:
            late.append(_("识别超期"))
        return "、".join(late) or _("否")

    def rows() -> Iterator[Sequence[Any]]:
        ordered = queryset().order_by("department", "received_on", "pk")
        fields = (
            "channel",
            "department",
            "received_on",
            "region__level",
            "region__parent__name",
            "region__name",
            "name",
            "id_number",
            "risk_type",
            "state",
            "verify_due",
            "verified_on",
            "decide_due",
            "decided_on",
            "result_reason",
        )
        for row in ordered.values_list(*fields).iterator(chunk_size=CHUNK):
            (source, sender, received_on, level, parent, place, person, number, kind, status) = row[
                :10
            ]
            verify_due, verified_on, decide_due, decided_on, reason = row[10:]
            in_village = level == "village"
            yield (
                channel(source),
                department(sender) if sender else "",
                received_on,
                parent if in_village else "",
                place if in_village else "",
                person,
                number,
                risk(kind),
                state(status),
                verify_due,
                verified_on,
                decide_due,
                decided_on,
                overdue(status, verify_due, verified_on, decide_due),
                reason,
            )

    return SheetSpec(
        name=name,
        title=_("风险线索台账（%(source)s）") % {"source": name},
        columns=CLUE_COLUMNS,
        rows=rows,
        count=lambda: queryset().count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d条"),
    )


def _clue_sheets(user: User, filters: dict[str, Any]) -> list[SheetSpec]:
    """One sheet per channel, the department channel one per department present."""
    from households.services import common

    today = common.today()
    channel = choice_label(Clue.Channel.choices)
    department = choice_label(User.Department.choices)
    sheets = [
        _clue_sheet(
            user,
            filters,
            name=channel(source),
            condition=Q(channel=source),
            today=today,
        )
        for source in (Clue.Channel.SELF_DECLARATION, Clue.Channel.CADRE_CHECK)
    ]
    senders = (
        _clues(user, filters)
        .filter(channel=Clue.Channel.DEPARTMENT)
        .values_list("department", flat=True)
        .order_by("department")
        .distinct()
    )
    for sender in senders:
        sheets.append(
            _clue_sheet(
                user,
                filters,
                name=department(sender) if sender else _("未注明部门"),
                condition=Q(channel=Clue.Channel.DEPARTMENT, department=sender),
                today=today,
            )
        )
    return sheets


# --- 风险消除台账 ------------------------------------------------------------------------------

ELIMINATION_COLUMNS = (
    *PLACE,
    *HOUSEHOLD,
    Column("object_type", "监测对象类型"),
    Column("identified_on", "识别纳入日期", DATE),
    Column("way", "风险消除方式"),
    Column("eliminated_on", "风险消除日期", DATE),
    Column("basis", "风险消除依据", width=30),
    Column("per_capita", "人均纯收入（元）", MONEY, ("风险消除时收入",)),
    Column("line", "监测标准（元）", MONEY, ("风险消除时收入",)),
)


def _eliminated(user: User, filters: dict[str, Any]) -> QuerySet[MonitoringObject]:
    return household_linked(
        MonitoringObject.objects.filter(state=MonitoringObject.State.ELIMINATED),
        user=user,
        filters=filters,
        year_field="eliminated_on__year",
    )


def _elimination_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    object_type = choice_label(ObjectType.choices)
    way = choice_label(EliminationWay.choices)

    def rows() -> Iterator[Sequence[Any]]:
        # The income at elimination: the household's last assessment up to that day.
        assessment = IncomeAssessment.objects.filter(
            household=OuterRef("household_id"), period_end__lte=OuterRef("eliminated_on")
        ).order_by("-period_end", "-id")
        ordered = (
            _eliminated(user, filters)
            .annotate(
                **_head(),
                per_capita=Subquery(assessment.values("per_capita")[:1]),
                line=Subquery(assessment.values("line")[:1]),
            )
            .order_by("household__village__code", "household__number", "eliminated_on", "pk")
        )
        fields = (
            "household__village__parent__name",
            "household__village__name",
            "household__number",
            "head_name",
            "head_id_number",
            "object_type",
            "identified_on",
            "elimination_way",
            "eliminated_on",
            "elimination_basis",
            "per_capita",
            "line",
        )
        for row in ordered.values_list(*fields).iterator(chunk_size=CHUNK):
            yield (*row[:5], object_type(row[5]), row[6], way(row[7]), *row[8:])

    return SheetSpec(
        name=_("风险消除台账"),
        title=_("防止返贫监测对象风险消除台账"),
        columns=ELIMINATION_COLUMNS,
        rows=rows,
        count=lambda: _eliminated(user, filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d户"),
    )


# --- 集中排查进度表 ----------------------------------------------------------------------------

SWEEP_COLUMNS = (
    Column("sweep", "排查名称"),
    *PLACE,
    Column("households", "排查户数", INTEGER, total=True),
    Column("visited", "已排查", INTEGER, ("排查进度（户）",), total=True),
    Column("skipped", "未入户（已说明）", INTEGER, ("排查进度（户）",), total=True),
    Column("pending", "待排查", INTEGER, ("排查进度（户）",), total=True),
    Column("risks", "发现风险户数", INTEGER, total=True),
    Column("progress", "完成率"),
)


def _sweep_rows(user: User, filters: dict[str, Any]) -> QuerySet[Any]:
    """Per village of the sweeps in scope (the year's when a year is chosen, else the latest
    of each county)."""
    households = household_linked(
        SweepHousehold.objects.all(), user=user, filters=filters, year_field="sweep__year"
    )
    if not filters.get("year"):
        latest = Sweep.objects.filter(county=OuterRef("sweep__county")).order_by("-year", "-pk")
        households = households.filter(sweep=Subquery(latest.values("pk")[:1]))
    state = SweepHousehold.State
    return (
        households.values("sweep__name", "village__parent__name", "village__name", "village__code")
        .annotate(
            households=Count("pk"),
            visited=Count("pk", filter=Q(state=state.VISITED)),
            skipped=Count("pk", filter=Q(state=state.SKIPPED)),
            pending=Count("pk", filter=Q(state=state.PENDING)),
            risks=Count("pk", filter=Q(risk_found=True)),
        )
        .order_by("sweep__name", "village__code")
    )


def _sweep_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    def rows() -> Iterator[Sequence[Any]]:
        for row in _sweep_rows(user, filters):
            done = row["visited"] + row["skipped"]
            progress = f"{done * 100 / row['households']:.1f}%" if row["households"] else "—"
            yield (
                row["sweep__name"],
                row["village__parent__name"],
                row["village__name"],
                row["households"],
                row["visited"],
                row["skipped"],
                row["pending"],
                row["risks"],
                progress,
            )

    return SheetSpec(
        name=_("集中排查进度表"),
        title=_("防止返贫集中排查进度表"),
        columns=SWEEP_COLUMNS,
        rows=rows,
        count=lambda: _sweep_rows(user, filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d个村"),
    )


# --- 农村低收入人口身份台账 --------------------------------------------------------------------

IDENTITY_COLUMNS = (
    *PLACE,
    Column("number", "户编号"),
    Column("name", "姓名"),
    Column("id_number", "身份证号", SENSITIVE),
    Column("kind", "身份类别", width=22),
    Column("department", "认定部门"),
    Column("start", "认定日期", DATE),
    Column("end", "终止日期", DATE),
    Column("current", "是否有效"),
    Column("registry", "本系统身份", width=28),
)


def _identities(user: User, filters: dict[str, Any]) -> QuerySet[PersonIdentity]:
    """The certified identities of the user's area (the persons the registry does not hold:
    those of the user's county, for the county office and above), current and ended."""
    held = household_linked(
        PersonIdentity.objects.filter(household__isnull=False), user=user, filters=filters
    )
    outside = region_linked(
        PersonIdentity.objects.filter(household__isnull=True),
        user=user,
        filters=filters,
        region_field="county",
    )
    return held | outside


def _identity_sheet(user: User, filters: dict[str, Any]) -> SheetSpec:
    kind = choice_label(IdentityKind.choices)
    department = choice_label(User.Department.choices)
    today = common.today()

    def rows() -> Iterator[Sequence[Any]]:
        ordered = _identities(user, filters).order_by(
            "household__village__code", "household__number", "name", "kind", "start", "pk"
        )
        fields = (
            "household__village__parent__name",
            "household__village__name",
            "household__number",
            "household_id",
            "household__status",
            "name",
            "id_number",
            "kind",
            "department",
            "start",
            "end",
        )
        for batch in _chunked(ordered, fields):
            monitored = identities.monitored_households(row[4] for row in batch if row[4])
            for _pk, township, village, number, household, status, *rest in batch:
                name, id_number, held, source, start, end = rest
                registry = identities.registry_labels(status, monitored=household in monitored)
                yield (
                    township or "",
                    village or _("未在本系统登记"),
                    number or "",
                    name,
                    id_number,
                    kind(held),
                    department(source),
                    start,
                    end,
                    _("有效") if identities.in_force(start, end, today) else _("已终止"),
                    "、".join(registry),
                )

    return SheetSpec(
        name=_("低收入人口身份台账"),
        title=_("农村低收入人口身份台账"),
        columns=IDENTITY_COLUMNS,
        rows=rows,
        count=lambda: _identities(user, filters).count(),
        date_label=_("统计截止日期"),
        totals_label=_("共%(rows)d条身份记录"),
    )


ledgers.register(
    ledgers.Ledger(
        key="monitoring_objects",
        title=gettext_lazy("监测对象台账"),
        order=90,
        sheets=lambda *, user, filters: [_object_sheet(user, filters)],
        description=gettext_lazy(
            "每个监测对象一行：类型、风险类型、识别日期、状态、帮扶措施数、风险消除。"
            "可按首次发现风险年度筛选。"
        ),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="monitoring_clues",
        title=gettext_lazy("风险线索台账"),
        order=91,
        sheets=lambda *, user, filters: _clue_sheets(user, filters),
        description=gettext_lazy(
            "按来源和推送部门分表：线索日期、姓名、风险类型、办理状态、核实和办结时限、处理结果。"
        ),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="risk_elimination",
        title=gettext_lazy("风险消除台账"),
        order=92,
        sheets=lambda *, user, filters: [_elimination_sheet(user, filters)],
        description=gettext_lazy("风险已消除的监测对象：消除方式、日期、依据及消除时收入。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="sweep_progress",
        title=gettext_lazy("集中排查进度表"),
        order=93,
        sheets=lambda *, user, filters: [_sweep_sheet(user, filters)],
        description=gettext_lazy("每个村的排查户数、已排查、未入户、待排查和发现风险户数。"),
    )
)
ledgers.register(
    ledgers.Ledger(
        key="low_income_identities",
        title=gettext_lazy("农村低收入人口身份台账"),
        order=94,
        sheets=lambda *, user, filters: [_identity_sheet(user, filters)],
        description=gettext_lazy(
            "民政等部门认定的每一项身份一行：身份类别、认定部门、认定和终止日期、是否有效，"
            "以及本系统中的脱贫人口、防止返贫监测对象身份。"
        ),
    )
)
