"""The yearly rollover (年度切换, issue 16): the county office opens the new income year Y.

One guided action in four steps, planned first (`rollover_plan`: what each step will do and
what is missing) and then done in one transaction (`rollover_perform`):

1. the year's lines (DOMAIN §5, §7): the national poverty line, the 省定/市定 lines that applied
   to the county the year before, the 防返贫监测标准 and the 农村低保标准 — each already set for Y,
   or carried from Y−1 or entered, by the officer's explicit choice, never guessed: without the
   poverty line and the monitoring line of Y the rollover is refused, because a year with no line
   cannot be evaluated;
2. the value lists (`households.ValueListItem`): a list with no label valid in Y gets copies of
   its labels of Y−1 (valid from Y on); a list that has labels for Y is left as it is;
3. the villages' year rows (`VillageYear`): a village without a row for Y gets a copy of its row
   of Y−1, flagged as carried (`CarriedVillageYear`) until the village-year import gives it the
   year's population;
4. the year's 动态调整 round, opened by `rounds.services.round_open` (its baseline frozen).

Idempotent: a step already done is reported as such and left alone; a rollover with nothing left
to do writes nothing. Every rollover that changed something is kept (`YearRollover`) and audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from households.models import PovertyLine, Standard, ValueList, ValueListItem
from monitoring.models import DibaoStandard, MonitoringLine
from povertyapp import audit, roles
from povertyapp.models import Region, User, VillageYear
from rounds.models import AdjustmentRound
from rounds.services import round_open
from years.models import CarriedVillageYear, YearRollover

# The monitoring line is at least 1.5 times the poverty line (DOMAIN §7).
MONITORING_FACTOR = Decimal("1.5")
SHOWN_NAMES = 10


class Choice(models.TextChoices):
    """What the officer chose for a line the year does not have yet."""

    CARRY = "carry", gettext_lazy("沿用上年标准")
    ENTER = "enter", gettext_lazy("录入本年标准")
    SKIP = "skip", gettext_lazy("暂不设置")


class State(models.TextChoices):
    DONE = "done", gettext_lazy("已完成")
    TODO = "todo", gettext_lazy("将办理")
    CHOICE = "choice", gettext_lazy("待选择")
    BLOCKED = "blocked", gettext_lazy("无法办理")


@dataclass(frozen=True)
class LineDecision:
    """The officer's choice for one line: carry Y−1's, enter an amount, or (where allowed)
    leave it unset."""

    choice: str = ""
    amount: Decimal | None = None


@dataclass
class Step:
    """One step of the rollover as the page shows it."""

    key: str
    label: str
    state: str
    will: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    previous: str = ""  # the line of Y−1, shown beside the choice

    @property
    def state_label(self) -> str:
        return str(State(self.state).label)


@dataclass
class Plan:
    county: Region
    year: int
    steps: list[Step]

    @property
    def nothing_to_do(self) -> bool:
        return all(step.state == State.DONE for step in self.steps)

    def step(self, key: str) -> Step:
        return next(step for step in self.steps if step.key == key)


@dataclass
class Result:
    """What a confirmed rollover did (`done`) or found already done (`already`)."""

    rollover: YearRollover | None
    done: list[str]
    already: list[str]

    @property
    def changed(self) -> bool:
        return self.rollover is not None


# --- reading what the year has -----------------------------------------------------------------


def _province(county: Region) -> Region | None:
    return next((node for node in county.ancestors() if node.level == Region.Level.PROVINCE), None)


def national_line(year: int) -> PovertyLine | None:
    return PovertyLine.objects.filter(
        year=year, standard=Standard.NATIONAL, region__isnull=True
    ).first()


def _regional_lines(county: Region, year: int) -> list[PovertyLine]:
    """The 省定/市定 lines set on the county or above it for the year."""
    chain = [node.pk for node in county.ancestors(include_self=True)]
    return list(
        PovertyLine.objects.filter(year=year, region_id__in=chain)
        .exclude(standard=Standard.NATIONAL)
        .select_related("region")
        .order_by("standard", "region__code")
    )


def nearest(model: Any, county: Region, year: int) -> Any:
    chain = [node.pk for node in reversed(county.ancestors(include_self=True))]
    found = {row.region_id: row for row in model.objects.filter(region_id__in=chain, year=year)}
    return next((found[pk] for pk in chain if pk in found), None)


def _valid_in(year: int) -> Q:
    return Q(year_from__lte=year) & (Q(year_to__isnull=True) | Q(year_to__gte=year))


def value_list_items(county: Region, year: int) -> models.QuerySet[ValueListItem]:
    province = _province(county)
    scope = Q(province__isnull=True) | (Q(province=province) if province else Q())
    return ValueListItem.objects.filter(_valid_in(year)).filter(scope)


def _villages(county: Region) -> models.QuerySet[Region]:
    return Region.objects.filter(path__startswith=county.path, level=Region.Level.VILLAGE)


def _names(names: list[str]) -> str:
    shown = _("、").join(names[:SHOWN_NAMES])
    return shown + (_("等%(count)d个") % {"count": len(names)} if len(names) > SHOWN_NAMES else "")


def _money(value: Any) -> str:
    return _("%(amount)s元") % {"amount": value}


def _monitoring_text(line: MonitoringLine) -> str:
    if line.kind == MonitoringLine.Kind.AMOUNT:
        return _money(line.amount)
    return _("农村低保标准的%(multiple)s倍") % {"multiple": line.multiple}


# --- the plan ---------------------------------------------------------------------------------


def _poverty_step(county: Region, year: int) -> Step:
    step = Step("poverty_line", _("扶贫标准"), State.DONE)
    current = national_line(year)
    previous = national_line(year - 1)
    if previous is not None:
        step.previous = _("%(year)s年国家扶贫标准%(amount)s") % {
            "year": year - 1,
            "amount": _money(previous.amount),
        }
    if current is not None:
        step.will.append(
            _("%(year)s年国家扶贫标准已设置：%(amount)s。")
            % {"year": year, "amount": _money(current.amount)}
        )
    else:
        step.state = State.CHOICE
        step.missing.append(
            _(
                "%(year)s年国家扶贫标准尚未设置：请选择沿用上年标准或录入本年标准，未设置的年度无法评估。"
            )
            % {"year": year}
        )
    carried = _regional_to_carry(county, year)
    if carried:
        step.state = State.CHOICE
        step.missing.append(
            _("上年适用的%(lines)s在%(year)s年尚未设置：请选择是否沿用。")
            % {
                "year": year,
                "lines": _("、").join(f"{line.region}{line.standard}" for line in carried),
            }
        )
    return step


def _regional_to_carry(county: Region, year: int) -> list[PovertyLine]:
    have = {(line.standard, line.region_id) for line in _regional_lines(county, year)}
    return [
        line
        for line in _regional_lines(county, year - 1)
        if (line.standard, line.region_id) not in have
    ]


def _monitoring_step(county: Region, year: int) -> Step:
    step = Step("monitoring_line", _("防返贫监测标准"), State.DONE)
    current = nearest(MonitoringLine, county, year)
    previous = nearest(MonitoringLine, county, year - 1)
    if previous is not None:
        step.previous = _("%(year)s年%(region)s防返贫监测标准：%(line)s") % {
            "year": year - 1,
            "region": previous.region,
            "line": _monitoring_text(previous),
        }
    if current is not None:
        step.will.append(
            _("%(year)s年防返贫监测标准已设置（%(region)s）：%(line)s。")
            % {"year": year, "region": current.region, "line": _monitoring_text(current)}
        )
    else:
        step.state = State.CHOICE
        step.missing.append(
            _("%(year)s年防返贫监测标准尚未设置：请选择沿用上年标准或录入本年标准。")
            % {"year": year}
        )
    return step


def _dibao_step(county: Region, year: int) -> Step:
    step = Step("dibao_standard", _("农村低保标准"), State.DONE)
    current = nearest(DibaoStandard, county, year)
    previous = nearest(DibaoStandard, county, year - 1)
    if previous is not None:
        step.previous = _("%(year)s年%(region)s农村低保标准%(amount)s") % {
            "year": year - 1,
            "region": previous.region,
            "amount": _money(previous.amount),
        }
    monitoring = nearest(MonitoringLine, county, year)
    if current is not None:
        step.will.append(
            _("%(year)s年农村低保标准已设置（%(region)s）：%(amount)s。")
            % {"year": year, "region": current.region, "amount": _money(current.amount)}
        )
    elif monitoring is not None and monitoring.kind == MonitoringLine.Kind.AMOUNT:
        step.will.append(
            _("%(year)s年防返贫监测标准为固定金额，不需要农村低保标准。") % {"year": year}
        )
    else:
        step.state = State.CHOICE
        step.missing.append(
            _(
                "%(year)s年农村低保标准尚未设置：防返贫监测标准按低保标准倍数确定时必须设置，"
                "否则可暂不设置。"
            )
            % {"year": year}
        )
    return step


def _value_list_step(county: Region, year: int) -> Step:
    step = Step("value_lists", _("代码表"), State.DONE)
    have = set(value_list_items(county, year).values_list("list", flat=True).distinct())
    before = set(value_list_items(county, year - 1).values_list("list", flat=True).distinct())
    carry = [ValueList(key).label for key in ValueList.values if key not in have and key in before]
    lacking = [
        ValueList(key).label for key in ValueList.values if key not in have and key not in before
    ]
    if carry:
        step.state = State.TODO
        step.will.append(
            _("沿用%(from)s年的代码表：%(lists)s。")
            % {"from": year - 1, "lists": _("、").join(str(label) for label in carry)}
        )
    if have:
        step.will.append(
            _("%(count)d个代码表已有%(year)s年的取值，保持不变。")
            % {"count": len(have), "year": year}
        )
    if lacking:
        step.missing.append(
            _("以下代码表在%(from)s年和%(year)s年都没有取值，请系统管理员维护：%(lists)s。")
            % {
                "from": year - 1,
                "year": year,
                "lists": _("、").join(str(label) for label in lacking),
            }
        )
    return step


def _village_year_step(county: Region, year: int) -> Step:
    step = Step("village_years", _("村年度信息"), State.DONE)
    villages = _villages(county)
    without = villages.exclude(yearly__year=year)
    carry = without.filter(yearly__year=year - 1)
    lacking = list(without.exclude(yearly__year=year - 1).values_list("name", flat=True))
    has = villages.filter(yearly__year=year).count()
    count = carry.count()
    if count:
        step.state = State.TODO
        step.will.append(
            _(
                "%(count)d个行政村沿用%(from)s年的村年度信息（户籍农业人口等），标记为“结转”，"
                "请再用村年度信息导入更新本年人口。"
            )
            % {"count": count, "from": year - 1}
        )
    if has:
        step.will.append(
            _("%(count)d个行政村已有%(year)s年的村年度信息，保持不变。")
            % {"count": has, "year": year}
        )
    if lacking:
        step.state = State.BLOCKED
        step.missing.append(
            _(
                "%(count)d个行政村既无%(year)s年也无%(from)s年的村年度信息，无法开启动态调整："
                "%(names)s。请先导入村年度信息。"
            )
            % {"count": len(lacking), "year": year, "from": year - 1, "names": _names(lacking)}
        )
    return step


def _round_step(county: Region, year: int) -> Step:
    step = Step("round", _("动态调整批次"), State.DONE)
    existing = AdjustmentRound.objects.filter(county=county, year=year).first()
    if existing is not None:
        step.will.append(
            _("%(round)s已开启（%(status)s）。")
            % {"round": existing.display_name, "status": existing.get_status_display()}
        )
        return step
    other = AdjustmentRound.objects.filter(
        county=county, status=AdjustmentRound.Status.OPEN
    ).first()
    if other is not None:
        step.state = State.BLOCKED
        step.missing.append(
            _("%(round)s尚未关闭：请先在动态调整中审定并关闭，再开启%(year)s年的批次。")
            % {"round": other.display_name, "year": year}
        )
        return step
    step.state = State.TODO
    step.will.append(
        _("开启%(year)s年动态调整批次，冻结基期（全县农户与各村户籍农业人口）。") % {"year": year}
    )
    return step


def county_for_user(user: User) -> Region:
    """The county a county officer works for (the rollover and the checklist are per county)."""
    if not roles.can_configure(user):
        raise PermissionDenied(_("只有县扶贫办可以办理年度切换。"))
    region = user.region
    if region is None or region.level != Region.Level.COUNTY:
        raise PermissionDenied(_("请使用县级账号办理。"))
    return region


def _require(actor: User, county: Region) -> None:
    if not roles.can_configure(actor):
        raise PermissionDenied(_("只有县扶贫办可以办理年度切换。"))
    if county.level != Region.Level.COUNTY or not roles.region_in_scope(actor, county):
        raise PermissionDenied(_("该县不在您的管辖范围内。"))


def rollover_plan(*, county: Region, year: int) -> Plan:
    """What each step of the rollover to `year` will do and what it misses (reads only)."""
    return Plan(
        county=county,
        year=year,
        steps=[
            _poverty_step(county, year),
            _monitoring_step(county, year),
            _dibao_step(county, year),
            _value_list_step(county, year),
            _village_year_step(county, year),
            _round_step(county, year),
        ],
    )


# --- doing it ---------------------------------------------------------------------------------


def parse_amount(value: Any) -> Decimal | None:
    """A typed amount as Decimal (None when empty or not a number: the caller says so)."""
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _check_decision(
    errors: dict[str, list[ValidationError]],
    name: str,
    decision: LineDecision,
    *,
    previous: Any,
    label: str,
    may_skip: bool,
) -> None:
    def fail(message: str, code: str) -> None:
        errors.setdefault(name, []).append(ValidationError(message, code=code))

    if decision.choice == Choice.CARRY:
        if previous is None:
            fail(
                _("上年没有%(label)s可沿用，请录入本年标准。") % {"label": label},
                "nothing_to_carry",
            )
    elif decision.choice == Choice.ENTER:
        if decision.amount is None or decision.amount < 1 or decision.amount >= Decimal(10**6):
            fail(_("请填写%(label)s（元/人·年）。") % {"label": label}, "amount_missing")
    elif decision.choice in (Choice.SKIP, "") and may_skip:
        return
    else:
        fail(
            _("请选择%(label)s的办理方式：沿用上年标准或录入本年标准。") % {"label": label},
            "choice_missing",
        )


def _validate(
    county: Region,
    year: int,
    plan: Plan,
    *,
    poverty_line: LineDecision,
    regional_lines: LineDecision,
    monitoring_line: LineDecision,
    dibao_standard: LineDecision,
) -> None:
    errors: dict[str, list[ValidationError]] = {}
    national = national_line(year)
    national_amount = national.amount if national is not None else None
    if national is None:
        previous = national_line(year - 1)
        _check_decision(
            errors,
            "poverty_line",
            poverty_line,
            previous=previous,
            label=_("国家扶贫标准"),
            may_skip=False,
        )
        if poverty_line.choice == Choice.CARRY and previous is not None:
            national_amount = previous.amount
        elif poverty_line.choice == Choice.ENTER:
            national_amount = poverty_line.amount
    if _regional_to_carry(county, year) and regional_lines.choice not in (
        Choice.CARRY,
        Choice.SKIP,
    ):
        errors.setdefault("regional_lines", []).append(
            ValidationError(_("请选择是否沿用上年的省定/市定扶贫标准。"), code="choice_missing")
        )
    monitoring = nearest(MonitoringLine, county, year)
    monitoring_kind = monitoring.kind if monitoring is not None else None
    if monitoring is None:
        previous_line = nearest(MonitoringLine, county, year - 1)
        _check_decision(
            errors,
            "monitoring_line",
            monitoring_line,
            previous=previous_line,
            label=_("防返贫监测标准"),
            may_skip=False,
        )
        if monitoring_line.choice == Choice.CARRY and previous_line is not None:
            monitoring_kind = previous_line.kind
        elif monitoring_line.choice == Choice.ENTER:
            monitoring_kind = MonitoringLine.Kind.AMOUNT
            minimum = (
                (MONITORING_FACTOR * Decimal(national_amount)).quantize(Decimal("0.01"))
                if national_amount is not None
                else None
            )
            if (
                monitoring_line.amount is not None
                and minimum is not None
                and monitoring_line.amount < minimum
            ):
                errors.setdefault("monitoring_line", []).append(
                    ValidationError(
                        _("防返贫监测标准不应低于扶贫标准的1.5倍（%(minimum)s元）。")
                        % {"minimum": minimum},
                        code="monitoring_below_minimum",
                    )
                )
    if nearest(DibaoStandard, county, year) is None:
        needed = monitoring_kind == MonitoringLine.Kind.DIBAO_MULTIPLE
        _check_decision(
            errors,
            "dibao_standard",
            dibao_standard,
            previous=nearest(DibaoStandard, county, year - 1),
            label=_("农村低保标准"),
            may_skip=not needed,
        )
    blocked = [
        message for step in plan.steps if step.state == State.BLOCKED for message in step.missing
    ]
    if blocked:
        errors.setdefault("__all__", []).extend(
            ValidationError(message, code="blocked") for message in blocked
        )
    if errors:
        raise ValidationError(errors)


def _entered(decision: LineDecision) -> Decimal:
    """The amount of an ENTER decision (`_validate` made sure there is one)."""
    assert decision.amount is not None
    return decision.amount


def _set_lines(
    county: Region,
    year: int,
    *,
    poverty_line: LineDecision,
    regional_lines: LineDecision,
    monitoring_line: LineDecision,
    dibao_standard: LineDecision,
) -> list[str]:
    done: list[str] = []
    if national_line(year) is None:
        previous = national_line(year - 1)
        if poverty_line.choice == Choice.CARRY and previous is not None:
            line = PovertyLine(
                year=year,
                standard=Standard.NATIONAL,
                amount=previous.amount,
                monitoring_amount=previous.monitoring_amount,
            )
            how = _("沿用上年")
        else:
            line = PovertyLine(year=year, standard=Standard.NATIONAL, amount=_entered(poverty_line))
            how = _("录入")
        line.full_clean()
        line.save()
        done.append(
            _("%(how)s%(year)s年国家扶贫标准：%(amount)s。")
            % {"how": how, "year": year, "amount": _money(line.amount)}
        )
    if regional_lines.choice == Choice.CARRY:
        for previous in _regional_to_carry(county, year):
            line = PovertyLine(
                year=year,
                standard=previous.standard,
                region=previous.region,
                amount=previous.amount,
                monitoring_amount=previous.monitoring_amount,
            )
            line.full_clean()
            line.save()
            done.append(
                _("沿用上年%(region)s%(standard)s：%(amount)s。")
                % {"region": line.region, "standard": line.standard, "amount": _money(line.amount)}
            )
    if nearest(MonitoringLine, county, year) is None:
        previous_line = nearest(MonitoringLine, county, year - 1)
        if monitoring_line.choice == Choice.CARRY and previous_line is not None:
            monitoring = MonitoringLine(
                region=previous_line.region,
                year=year,
                kind=previous_line.kind,
                amount=previous_line.amount,
                multiple=previous_line.multiple,
                basis=previous_line.basis,
            )
            how = _("沿用上年")
        else:
            monitoring = MonitoringLine(
                region=county,
                year=year,
                kind=MonitoringLine.Kind.AMOUNT,
                amount=monitoring_line.amount,
                basis=_("县扶贫办年度切换时录入"),
            )
            how = _("录入")
        monitoring.full_clean()
        monitoring.save()
        done.append(
            _("%(how)s%(year)s年防返贫监测标准（%(region)s）：%(line)s。")
            % {
                "how": how,
                "year": year,
                "region": monitoring.region,
                "line": _monitoring_text(monitoring),
            }
        )
    chosen = dibao_standard.choice in (Choice.CARRY, Choice.ENTER)
    if nearest(DibaoStandard, county, year) is None and chosen:
        previous_standard = nearest(DibaoStandard, county, year - 1)
        if dibao_standard.choice == Choice.CARRY and previous_standard is not None:
            standard = DibaoStandard(
                region=previous_standard.region, year=year, amount=previous_standard.amount
            )
            how = _("沿用上年")
        else:
            standard = DibaoStandard(region=county, year=year, amount=_entered(dibao_standard))
            how = _("录入")
        standard.full_clean()
        standard.save()
        done.append(
            _("%(how)s%(year)s年农村低保标准（%(region)s）：%(amount)s。")
            % {
                "how": how,
                "year": year,
                "region": standard.region,
                "amount": _money(standard.amount),
            }
        )
    return done


def _carry_value_lists(county: Region, year: int) -> list[str]:
    have = set(value_list_items(county, year).values_list("list", flat=True).distinct())
    copies = [
        ValueListItem(
            list=item.list,
            label=item.label,
            year_from=year,
            year_to=None,
            province_id=item.province_id,
            position=item.position,
        )
        for item in value_list_items(county, year - 1).exclude(list__in=have).order_by("pk")
    ]
    if not copies:
        return []
    ValueListItem.objects.bulk_create(copies)
    lists = sorted({str(ValueList(copy.list).label) for copy in copies})
    return [
        _("沿用%(from)s年的代码表（%(count)d项）：%(lists)s。")
        % {"from": year - 1, "count": len(copies), "lists": _("、").join(lists)}
    ]


def _carry_village_years(county: Region, year: int, rollover: YearRollover) -> list[str]:
    without = _villages(county).exclude(yearly__year=year)
    sources = list(
        VillageYear.objects.filter(village__in=without, year=year - 1).order_by("village__code")
    )
    if not sources:
        return []
    copies = []
    for source in sources:
        copy = VillageYear(
            village_id=source.village_id,
            year=year,
            registered_rural_population=source.registered_rural_population,
            total_households=source.total_households,
            is_poor_village=source.is_poor_village,
            exit_year=source.exit_year,
            is_deep_poverty=source.is_deep_poverty,
            condition=source.condition,
            first_secretary=source.first_secretary,
            first_secretary_phone=source.first_secretary_phone,
        )
        copies.append(copy)
    VillageYear.objects.bulk_create(copies)
    saved = {
        row.village_id: row
        for row in VillageYear.objects.filter(
            year=year, village_id__in=[source.village_id for source in sources]
        )
    }
    CarriedVillageYear.objects.bulk_create(
        CarriedVillageYear(
            village_year=saved[source.village_id],
            rollover=rollover,
            from_year=year - 1,
            registered_rural_population=source.registered_rural_population,
            total_households=source.total_households,
        )
        for source in sources
    )
    return [
        _("%(count)d个行政村沿用%(from)s年的村年度信息（已标记为结转）。")
        % {"count": len(sources), "from": year - 1}
    ]


@transaction.atomic
def rollover_perform(
    *,
    actor: User,
    county: Region,
    year: int,
    poverty_line: LineDecision | None = None,
    regional_lines: LineDecision | None = None,
    monitoring_line: LineDecision | None = None,
    dibao_standard: LineDecision | None = None,
) -> Result:
    """Open `year` for the county (see the module docstring). Validates everything first and
    writes nothing on a refusal (a ValidationError keyed by the choice it concerns)."""
    _require(actor, county)
    none = LineDecision()
    decisions = {
        "poverty_line": poverty_line or none,
        "regional_lines": regional_lines or none,
        "monitoring_line": monitoring_line or none,
        "dibao_standard": dibao_standard or none,
    }
    # Two officers confirming at once: the second waits here, then finds the steps done.
    Region.objects.select_for_update().filter(pk=county.pk).first()
    plan = rollover_plan(county=county, year=year)
    already = [message for step in plan.steps if step.state == State.DONE for message in step.will]
    if plan.nothing_to_do:
        return Result(rollover=None, done=[], already=already)
    _validate(county, year, plan, **decisions)
    rollover = YearRollover.objects.create(
        county=county, year=year, performed_by=actor, performed_at=timezone.now()
    )
    done = _set_lines(county, year, **decisions)
    done += _carry_value_lists(county, year)
    done += _carry_village_years(county, year, rollover)
    if plan.step("round").state == State.TODO:
        opened = round_open(actor=actor, county=county, year=year)
        done.append(_("已开启%(round)s，基期已冻结。") % {"round": opened.display_name})
    rollover.done = done
    rollover.save(update_fields=["done"])
    audit.record(
        "configuration",
        user=actor,
        target="year:rollover",
        object_id=rollover.pk,
        reason=f"{county.code} {year}",
        detail={"county": county.code, "year": year, "done": done},
    )
    return Result(rollover=rollover, done=done, already=already)


def still_carried(county: Region, year: int) -> models.QuerySet[CarriedVillageYear]:
    """The carried village-year rows of the county and year that still hold last year's
    figures (the village-year import has not given them the year's population yet)."""
    return CarriedVillageYear.objects.filter(
        village_year__year=year,
        village_year__village__path__startswith=county.path,
        village_year__registered_rural_population=models.F("registered_rural_population"),
        village_year__total_households=models.F("total_households"),
    )
