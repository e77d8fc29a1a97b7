"""The two procedures of monitoring, on the registry's procedure machine (`households.workflows`):
监测对象识别 (identification as a monitoring object) and 风险消除 (risk elimination), with the
services that open them and the rules (DOMAIN §7) that let them finish.

监测对象识别: 入户核实 → 民主评议 → 村内公示 (≥ 5 days, the local rule; the sheet shows no ID,
phone, bank or health details) → 乡镇审核 → 县级审定并公告, finished within the local identify
limit of the first clue (15 days, or 20 working days where the province counts so). The
household's 承诺授权 (a signed scan and its date) is signed at the 入户核实, so no 入户核实 is
recorded without it: a clue's 入户核实 (`monitoring.inbox.clue_verify`) refuses without the
scan, and the case, whose first step is the 入户核实, opens only with the scan on file —
uploaded then, or taken over from the clue's 入户核实; the county's decision checks it again.
The 绿色通道 (disasters and accidents only) lets measures start while the case runs.

风险消除: 村级提出 (way 帮扶消除/自然消除 and basis) → 村内公示 (≥ 5 days) → 乡镇审核 → 县级审定.
The rules are checked when it opens and again at the county's decision, each failing one named
(`elimination_refusals`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistance.matching import WORKER_SKILLS
from households import standards, workflows
from households.models import CaseWorkflow, Household, WorkflowStep
from households.services import common
from households.services import procedures as case_services
from households.workflows import COUNTY, NOTICE, TOWNSHIP, VILLAGE, Procedure, Step
from monitoring import clues as clue_services
from monitoring import lines
from monitoring.models import (
    GREEN_CHANNEL_RISKS,
    Clue,
    EliminationWay,
    IncomeAssessment,
    MonitoringObject,
    ObjectRisk,
    ObjectType,
    RiskType,
)
from monitoring.rules import rules_for
from povertyapp import roles, uploads
from povertyapp.conflicts import ConflictError
from povertyapp.models import User

# Every status may be monitored but 剔除 (a household removed as wrongly included).
MONITORED_STATUSES = tuple(
    status for status in Household.Status.values if status != Household.Status.REMOVED
)
# The risks whose rigid costs must be resolved before 风险消除 (DOMAIN §7).
RIGID_COST_RISKS = (
    RiskType.ILLNESS,
    RiskType.EDUCATION,
    RiskType.DISABILITY,
    RiskType.DISASTER,
    RiskType.ACCIDENT,
)
# The notice sheet of both procedures lists no ID, phone, bank or health details: the
# households' sheet reads these keys of `Procedure.extra`.
NOTICE_EXTRA = {"notice_hides_id": True, "notice_hides_cause": True}


# --- 监测对象识别 ---------------------------------------------------------------------------------


def _identifying_object(household: Household) -> MonitoringObject | None:
    return (
        MonitoringObject.objects.filter(
            household=household, state=MonitoringObject.State.IDENTIFYING
        )
        .order_by("-id")
        .first()
    )


def _object_of(workflow: CaseWorkflow) -> MonitoringObject:
    field = "identification" if workflow.kind == CaseWorkflow.Kind.MONITORING else "elimination"
    return MonitoringObject.objects.select_for_update().get(**{field: workflow})


def identification_start_refusals(household: Household) -> list[str]:
    """The case is opened by `identification_start` only (it creates the object first)."""
    found = _identifying_object(household)
    if found is None or found.identification_id is not None:
        return [str(_("监测对象识别须从风险线索或农户页面的“识别为监测对象”发起"))]
    return []


def identification_done_refusals(workflow: CaseWorkflow, acted_on: datetime.date) -> list[str]:
    found = _object_of(workflow)
    reasons = []
    if not found.consent or not found.consent_signed_on:
        reasons.append(str(_("承诺授权：未上传农户签字的承诺授权书及签署日期")))
    rules = rules_for(workflow.household.village)
    short = [n for n in workflow.notices.all() if n.days < rules.notice_days]
    if short:
        reasons.append(
            str(_("村内公示：公示期%(days)d天，本地规定不少于%(minimum)d天"))
            % {"days": short[-1].days, "minimum": rules.notice_days}
        )
    return reasons


def identification_done(
    *, workflow: CaseWorkflow, actor: User, acted_on: datetime.date, opinion: str
) -> None:
    """县级审定并公告: the object is 监测中 from `acted_on`; its clues are 纳入监测."""
    found = _object_of(workflow)
    found.state = MonitoringObject.State.MONITORED
    found.identified_on = acted_on
    found.version += 1
    found.save(update_fields=["state", "identified_on", "version"])
    found.clues.filter(state__in=Clue.OPEN_STATES).update(
        state=Clue.State.INCLUDED,
        decided_on=acted_on,
        decided_by=actor,
        result_reason=str(_("县级审定纳入监测")),
    )


def _withdraw_reason(workflow: CaseWorkflow) -> str:
    record = (
        workflow.steps.filter(decision=WorkflowStep.Decision.WITHDRAWN)
        .order_by("-created_at", "-id")
        .first()
    )
    return record.opinion if record is not None else str(_("程序终止"))


def identification_ended(*, workflow: CaseWorkflow, actor: User) -> None:
    """Withdrawn: the object is 未纳入 and its clues 不纳入, with the reason."""
    found = _object_of(workflow)
    reason = _withdraw_reason(workflow)
    found.state = MonitoringObject.State.NOT_INCLUDED
    found.note = reason[:500]
    found.version += 1
    found.save(update_fields=["state", "note", "version"])
    found.clues.filter(state__in=Clue.OPEN_STATES).update(
        state=Clue.State.NOT_INCLUDED,
        decided_on=common.today(),
        decided_by=actor,
        result_reason=reason[:500],
    )


IDENTIFICATION = Procedure(
    kind=CaseWorkflow.Kind.MONITORING,
    label=gettext_lazy("监测对象识别"),
    steps=(
        Step(
            "home_visit",
            gettext_lazy("入户核实"),
            VILLAGE,
            help=gettext_lazy("入户核实家庭收入、支出和风险情况，农户签署承诺授权书。"),
            photos=True,
        ),
        Step(
            "appraisal",
            gettext_lazy("民主评议"),
            VILLAGE,
            needs_evidence=True,
            needs_attendance=True,
            returns_to="home_visit",
            help=gettext_lazy("填写评议意见和参会人数，上传会议记录或照片。"),
        ),
        Step(
            "notice",
            gettext_lazy("村内公示"),
            VILLAGE,
            type=NOTICE,
            notice_days=5,
            objection_returns_to="appraisal",
            notice_intro=gettext_lazy(
                "经入户核实、民主评议，以下农户拟纳入防止返贫监测对象，现予以公示，公示期"
                "%(days)d天（%(start)s至%(end)s）。如有异议，请在公示期内向村委会或通过下列电话反映。"
            ),
            help=gettext_lazy("在村内公示不少于5天，公示内容不含身份证号、电话、银行和健康信息。"),
        ),
        Step("township_review", gettext_lazy("乡镇审核"), TOWNSHIP, returns_to="appraisal"),
        Step(
            "county_approval",
            gettext_lazy("县级审定并公告"),
            COUNTY,
            returns_to="township_review",
            help=gettext_lazy("县级审定后公告，纳入监测对象。"),
        ),
    ),
    deadline_working_days=None,
    deadline_days=15,
    event_kind="",
    to_status="",
    from_statuses=MONITORED_STATUSES,
    extra={**NOTICE_EXTRA, "notice_title": gettext_lazy("防止返贫监测对象识别")},
    start_refusals=identification_start_refusals,
    done_refusals=identification_done_refusals,
    on_done=identification_done,
    on_end=identification_ended,
)


def _date_field_error(field: str, message: Any, code: str, **params: Any) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code, params=params)]})


def _require_village_cadre(actor: User, household: Household) -> None:
    if actor.role != User.Role.VILLAGE_CADRE or not roles.region_in_scope(actor, household.village):
        raise ValidationError(_("只有本村的村级录入员可以发起该程序。"), code="not_step_owner")


def current_object(household: Household) -> MonitoringObject | None:
    return (
        MonitoringObject.objects.filter(
            household=household, state__in=MonitoringObject.CURRENT_STATES
        )
        .order_by("-id")
        .first()
    )


@transaction.atomic
def identification_start(
    *,
    actor: User,
    household: Household,
    object_type: str,
    risk_types: Iterable[str],
    clue_date: datetime.date,
    clues: Iterable[Clue] = (),
    green_channel: bool = False,
    green_channel_reason: str = "",
    consent: Any = None,
    consent_signed_on: datetime.date | None = None,
    assessment: IncomeAssessment | None = None,
    opinion: str = "",
) -> MonitoringObject:
    """Open 监测对象识别 for a household: the `MonitoringObject` (识别中) with its risks, the
    case (its clock from `clue_date` by the local rules) and the clues it answers (识别中).
    Refused, naming why, for a household that is 剔除 or already a current object, a clue of
    another household or already closed, the 绿色通道 without a disaster or accident risk, or
    without the signed 承诺授权: uploaded here, or taken over (with its date) from a clue whose
    入户核实 recorded it."""
    _require_village_cadre(actor, household)
    locked = Household.objects.select_for_update().get(pk=household.pk)
    if locked.status == Household.Status.REMOVED:
        raise ValidationError(
            _("该户状态为“%(status)s”，不能识别为监测对象。"),
            code="bad_status",
            params={"status": locked.get_status_display()},
        )
    existing = current_object(locked)
    if existing is not None:
        raise ValidationError(
            _("该户已是监测对象（%(type)s，%(state)s，首次发现风险%(date)s）。"),
            code="already_monitored",
            params={
                "type": existing.get_object_type_display(),
                "state": existing.get_state_display(),
                "date": existing.clue_date.isoformat(),
            },
        )
    errors: dict[str, list[ValidationError]] = {}
    today = common.today()
    if object_type not in ObjectType.values:
        errors["object_type"] = [ValidationError(_("请选择监测对象类型。"), code="required")]
    risks = list(dict.fromkeys(risk_types))
    if not risks:
        errors["risk_types"] = [ValidationError(_("请选择至少一项风险类型。"), code="required")]
    elif any(risk not in RiskType.values for risk in risks):
        errors["risk_types"] = [ValidationError(_("风险类型无效。"), code="invalid_choice")]
    if clue_date is None:
        errors["clue_date"] = [ValidationError(_("请填写首次发现风险日期。"), code="required")]
    elif clue_date > today:
        errors["clue_date"] = [
            ValidationError(_("首次发现风险日期不能晚于今天。"), code="date_in_future")
        ]
    clue_list = list(clues)
    for clue in clue_list:
        if clue.household_id != locked.pk:
            errors["clues"] = [ValidationError(_("所选线索不属于该户。"), code="clue_elsewhere")]
        elif clue.state not in (Clue.State.PENDING, Clue.State.VERIFIED):
            errors["clues"] = [
                ValidationError(
                    _("线索状态为“%(state)s”，不能再发起识别。"),
                    code="clue_closed",
                    params={"state": clue.get_state_display()},
                )
            ]
    if green_channel:
        if not set(risks) & set(GREEN_CHANNEL_RISKS):
            errors["green_channel"] = [
                ValidationError(
                    _("绿色通道仅适用于因自然灾害、因意外事故的风险，本户风险类型不适用。"),
                    code="green_channel_not_allowed",
                )
            ]
        elif not green_channel_reason.strip():
            errors["green_channel_reason"] = [
                ValidationError(_("请说明启用绿色通道的原因。"), code="required")
            ]
    # The scan the household signed at the clue's 入户核实 is on file already: taken over,
    # with its date, unless a new one is uploaded.
    on_file = None if consent else next((clue for clue in clue_list if clue.consent), None)
    if on_file is not None:
        consent = on_file.consent.name
        consent_signed_on = consent_signed_on or on_file.consent_signed_on
    elif not consent:
        errors["consent"] = [
            ValidationError(_("请上传农户签字的承诺授权书扫描件。"), code="required")
        ]
    else:
        try:
            uploads.check_evidence(consent, accept=uploads.IMAGES_AND_PDF)
        except ValidationError as error:
            errors["consent"] = error.error_list
    if consent_signed_on is None:
        errors["consent_signed_on"] = [
            ValidationError(_("请填写承诺授权签署日期。"), code="required")
        ]
    elif consent_signed_on > today:
        errors["consent_signed_on"] = [
            ValidationError(_("承诺授权签署日期不能晚于今天。"), code="date_in_future")
        ]
    if assessment is not None and assessment.household_id != locked.pk:
        errors["assessment"] = [
            ValidationError(_("所选收入核算不属于该户。"), code="assessment_elsewhere")
        ]
    if errors:
        raise ValidationError(errors)
    found = MonitoringObject(
        household=locked,
        object_type=object_type,
        clue_date=clue_date,
        assessment=assessment,
        consent=consent,
        consent_signed_on=consent_signed_on,
        green_channel=green_channel,
        green_channel_reason=green_channel_reason.strip() if green_channel else "",
        no_labour_capacity=not has_labour(locked),
        created_by=actor,
    )
    found.full_clean()
    found.save()
    ObjectRisk.objects.bulk_create(
        ObjectRisk(monitoring_object=found, risk_type=risk) for risk in risks
    )
    workflow = case_services.workflow_start(
        actor=actor,
        household=locked,
        kind=CaseWorkflow.Kind.MONITORING,
        opinion=opinion,
        effective_date=clue_date,
    )
    # The clock of the local rules: 15 days of the clue, or working days where counted so.
    workflow.deadline = clue_services.decide_due(clue_date, rules_for(locked.village))
    workflow.save(update_fields=["deadline"])
    found.identification = workflow
    found.save(update_fields=["identification"])
    for clue in clue_list:
        Clue.objects.filter(pk=clue.pk).update(
            state=Clue.State.IDENTIFYING, monitoring_object=found, version=clue.version + 1
        )
    return found


def measures_may_start(found: MonitoringObject) -> bool:
    """Measures are recorded for a 监测中 object; for a 识别中 one only on the 绿色通道
    (disasters and accidents: help first, procedure after)."""
    if found.state == MonitoringObject.State.MONITORED:
        return True
    return found.state == MonitoringObject.State.IDENTIFYING and found.green_channel


# --- 风险消除 -----------------------------------------------------------------------------------


def has_labour(household: Household) -> bool:
    """Whether a living member can work: 劳动技能 普通劳动力 or 技能劳动力 (the assistance app's
    `WORKER_SKILLS`). 丧失劳动力, 无劳动力 or nothing recorded count as none."""
    return any(
        member.labour_skill in WORKER_SKILLS
        for member in standards.living_members(household.members.filter(is_active=True))
    )


def no_labour(found: MonitoringObject) -> bool:
    """No labour capacity at all: the flag the village set, or no living member able to work."""
    return found.no_labour_capacity or not has_labour(found.household)


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


@dataclass(frozen=True)
class Rule:
    """One rule of 风险消除 and whether the object meets it."""

    key: str
    label: str
    met: bool
    reason: str


def income_rule(found: MonitoringObject, on: datetime.date, stable_months: int) -> Rule:
    """收入稳定超过监测标准: the income assessments up to `on`, newest first, are above the
    current year's line (of `on`'s year) without a break back to an assessment whose
    `period_end` is at least `stable_months` months before the newest one's. So two
    assessments ≥ 6 months apart, both above, and none at or below the line between them."""
    label = str(_("收入稳定超过监测标准"))
    try:
        line = lines.monitoring_line(found.household.village, on.year)
    except ValidationError as error:
        return Rule("income", label, False, error.messages[0])
    assessments = list(
        IncomeAssessment.objects.filter(household=found.household, period_end__lte=on).order_by(
            "-period_end", "-id"
        )
    )
    if not assessments:
        return Rule("income", label, False, str(_("尚无收入核算")))
    latest = assessments[0]
    if latest.per_capita <= line:
        return Rule(
            "income",
            label,
            False,
            str(
                _(
                    "最近一次核算（%(date)s）人均纯收入%(figure)s元，未超过%(year)s年监测标准%(line)s元"
                )
            )
            % {
                "date": latest.period_end.isoformat(),
                "figure": latest.per_capita,
                "year": on.year,
                "line": line,
            },
        )
    since = latest
    for assessment in assessments[1:]:
        if assessment.per_capita <= line:
            break
        since = assessment
    if add_months(since.period_end, stable_months) > latest.period_end:
        return Rule(
            "income",
            label,
            False,
            str(
                _(
                    "人均纯收入自%(since)s起超过监测标准%(line)s元，至最近一次核算（%(date)s）"
                    "不满%(months)d个月"
                )
            )
            % {
                "since": since.period_end.isoformat(),
                "line": line,
                "date": latest.period_end.isoformat(),
                "months": stable_months,
            },
        )
    return Rule(
        "income",
        label,
        True,
        str(_("人均纯收入自%(since)s起持续超过监测标准%(line)s元"))
        % {"since": since.period_end.isoformat(), "line": line},
    )


def elimination_rules(found: MonitoringObject, on: datetime.date) -> list[Rule]:
    """Every rule of 风险消除 (DOMAIN §7) for the object on `on`, met or not, with the reason:
    labour capacity, income stably above the line, rigid costs resolved, 两不愁三保障 and
    drinking water secure, no new risk."""
    household = found.household
    rules = rules_for(household.village)
    checked: list[Rule] = []
    label = str(_("有劳动能力"))
    if no_labour(found):
        checked.append(
            Rule(
                "labour",
                label,
                False,
                str(_("全户无劳动能力，不标注风险消除，继续监测并落实兜底保障等社会保障措施")),
            )
        )
    else:
        checked.append(Rule("labour", label, True, str(_("有成员具备劳动能力"))))
    checked.append(income_rule(found, on, rules.stable_months))
    open_rigid = [
        risk
        for risk in found.risks.all()
        if risk.risk_type in RIGID_COST_RISKS and risk.resolved_on is None
    ]
    label = str(_("刚性支出问题已解决"))
    if open_rigid:
        names = "、".join(risk.get_risk_type_display() for risk in open_rigid)
        checked.append(
            Rule("rigid_costs", label, False, str(_("风险未解除：%(names)s")) % {"names": names})
        )
    else:
        checked.append(Rule("rigid_costs", label, True, str(_("刚性支出风险均已解除"))))
    members = list(household.members.all())
    for check in standards.evaluate_two_assurances(household, members, on=on):
        checked.append(Rule(check.key, str(check.label), check.met is True, str(check.reason)))
    label = str(_("无新增风险"))
    known = {risk.risk_type for risk in found.risks.all()}
    since = found.identified_on or found.clue_date
    new_clues = [
        clue
        for clue in Clue.objects.filter(household=household, received_on__gt=since)
        .exclude(monitoring_object=found, state__in=[Clue.State.INCLUDED])
        .order_by("received_on", "id")
        if clue.state in Clue.OPEN_STATES
        or (clue.state == Clue.State.DUPLICATE and clue.risk_type not in known)
    ]
    if new_clues:
        names = "、".join(
            f"{clue.received_on.isoformat()} {clue.get_risk_type_display()}" for clue in new_clues
        )
        checked.append(
            Rule(
                "new_risk",
                label,
                False,
                str(_("识别后有新的风险线索：%(names)s")) % {"names": names},
            )
        )
    else:
        checked.append(Rule("new_risk", label, True, str(_("识别后无新的风险线索"))))
    return checked


def elimination_refusals(found: MonitoringObject, on: datetime.date) -> list[str]:
    """Each failing rule, named: '<rule>：<why>'."""
    return [f"{rule.label}：{rule.reason}" for rule in elimination_rules(found, on) if not rule.met]


def elimination_start_refusals(household: Household) -> list[str]:
    found = (
        MonitoringObject.objects.filter(household=household, state=MonitoringObject.State.MONITORED)
        .select_related("household__village")
        .first()
    )
    if found is None or not found.elimination_way:
        return [str(_("风险消除须从监测对象页面提出"))]
    return elimination_refusals(found, common.today())


def elimination_done_refusals(workflow: CaseWorkflow, acted_on: datetime.date) -> list[str]:
    found = _object_of(workflow)
    reasons = elimination_refusals(found, acted_on)
    rules = rules_for(workflow.household.village)
    short = [n for n in workflow.notices.all() if n.days < rules.notice_days]
    if short:
        reasons.append(
            str(_("村内公示：公示期%(days)d天，本地规定不少于%(minimum)d天"))
            % {"days": short[-1].days, "minimum": rules.notice_days}
        )
    return reasons


def elimination_done(
    *, workflow: CaseWorkflow, actor: User, acted_on: datetime.date, opinion: str
) -> None:
    """县级审定: the object is 风险已消除 on `acted_on`, with the way and basis proposed. Its
    measures with a contract end go on to their end (nothing is ended here)."""
    found = _object_of(workflow)
    found.state = MonitoringObject.State.ELIMINATED
    found.eliminated_on = acted_on
    found.version += 1
    found.save(update_fields=["state", "eliminated_on", "version"])


def elimination_ended(*, workflow: CaseWorkflow, actor: User) -> None:
    """Withdrawn: the proposal is dropped; the object stays 监测中 (the case keeps the record)."""
    found = _object_of(workflow)
    found.elimination_way = ""
    found.elimination_basis = ""
    found.elimination = None
    found.version += 1
    found.save(update_fields=["elimination_way", "elimination_basis", "elimination", "version"])


ELIMINATION = Procedure(
    kind=CaseWorkflow.Kind.RISK_ELIMINATION,
    label=gettext_lazy("风险消除"),
    steps=(
        Step(
            "proposal",
            gettext_lazy("村级提出"),
            VILLAGE,
            help=gettext_lazy("村级提出风险消除，写明消除方式和依据。"),
        ),
        Step(
            "notice",
            gettext_lazy("村内公示"),
            VILLAGE,
            type=NOTICE,
            notice_days=5,
            objection_returns_to="proposal",
            notice_intro=gettext_lazy(
                "以下监测对象经村级提出，拟标注风险消除，现予以公示，公示期%(days)d天"
                "（%(start)s至%(end)s）。如有异议，请在公示期内向村委会或通过下列电话反映。"
            ),
            help=gettext_lazy("在村内公示不少于5天。"),
        ),
        Step("township_review", gettext_lazy("乡镇审核"), TOWNSHIP, returns_to="proposal"),
        Step("county_approval", gettext_lazy("县级审定"), COUNTY, returns_to="township_review"),
    ),
    deadline_working_days=None,
    event_kind="",
    to_status="",
    from_statuses=MONITORED_STATUSES,
    extra={**NOTICE_EXTRA, "notice_title": gettext_lazy("防止返贫监测对象风险消除")},
    start_refusals=elimination_start_refusals,
    done_refusals=elimination_done_refusals,
    on_done=elimination_done,
    on_end=elimination_ended,
)


@transaction.atomic
def elimination_propose(
    *,
    actor: User,
    monitoring_object: MonitoringObject,
    way: str,
    basis: str,
    expected_version: int | None = None,
    acted_on: datetime.date | None = None,
) -> CaseWorkflow:
    """村级提出 风险消除 for a 监测中 object: the way and basis are recorded on the object and
    the case opened with its first step done. Refused with every failing rule named (the
    same rules are checked again at the county's decision)."""
    found = (
        MonitoringObject.objects.select_for_update()
        .select_related("household__village")
        .get(pk=monitoring_object.pk)
    )
    _require_village_cadre(actor, found.household)
    if expected_version is not None and found.version != expected_version:
        raise ConflictError(
            [
                {
                    "field": "version",
                    "label": str(_("监测对象")),
                    "old": "",
                    "new": "",
                    "who": str(_("他人")),
                }
            ]
        )
    if found.state != MonitoringObject.State.MONITORED:
        raise ValidationError(
            _("监测状态为“%(state)s”，不能提出风险消除。"),
            code="bad_state",
            params={"state": found.get_state_display()},
        )
    errors: dict[str, list[ValidationError]] = {}
    if way not in EliminationWay.values:
        errors["way"] = [ValidationError(_("请选择风险消除方式。"), code="required")]
    if not (basis or "").strip():
        errors["basis"] = [ValidationError(_("请填写风险消除依据。"), code="required")]
    if errors:
        raise ValidationError(errors)
    found.elimination_way = way
    found.elimination_basis = basis.strip()
    found.save(update_fields=["elimination_way", "elimination_basis"])
    acted_on = acted_on or common.today()
    workflow = case_services.workflow_start(
        actor=actor,
        household=found.household,
        kind=CaseWorkflow.Kind.RISK_ELIMINATION,
        effective_date=acted_on,
    )
    found.elimination = workflow
    found.version += 1
    found.save(update_fields=["elimination", "version"])
    return case_services.workflow_step_complete(
        actor=actor,
        workflow=workflow,
        expected_step="proposal",
        opinion=f"{EliminationWay(way).label}：{basis.strip()}",
        acted_on=acted_on,
    )


def register_procedures() -> None:
    """Called from `monitoring.apps` `ready()`."""
    workflows.register(IDENTIFICATION)
    workflows.register(ELIMINATION)
