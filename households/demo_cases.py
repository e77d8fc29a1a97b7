"""Demo step: 识别 and 退出 cases standing at every step of their procedure, at today's date.

Every case is made by the procedure services (`households.services.workflow_start`,
`workflow_step_complete`, `notice_start`, `notice_objection_record`), by the demo users who own
each step, on the day the step was done: the clock is moved to that day while the service runs
(time-machine), so each record carries its real date and the services apply their rules as of
that day. The dates follow the legal order: each step after the previous one, every 公示 runs
its full 7 days before the step after it is done, the second 公示 follows the township's review,
the 公告 follows the second 公示, nothing in the future.

The cases are in the demo cadre's village (新州镇), so `cadre`, `township` and `county` see their
own work in 待办事项. `SCENARIOS` lists them: one case resting at each step, notices running
and notices run out waiting for their step to be completed, objections during each 公示 (the
case sent back), overdue identifications and finished ones (identified / exited in this year's
open round), cases withdrawn by the village (撤回) and cases a reviewer returned to a named
earlier step (退回), each through `services.workflow_withdraw` / `workflow_return`. Two batches
(批量办理) follow, through the batch services: a 识别 batch waiting for the township's review
(one household not passed by the meeting, one sent back by an objection) and a 退出 batch
waiting for the county's 公告.

Idempotent: a county that already has cases is left alone.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from households import services, workflows
from households.models import CaseWorkflow, Household

NOTICE_DAYS = 7
NOTICE_PHONE = "0855-2421234"
NOTICE_PLACE = "村委会公示栏"

# Each procedure's actions in order, with the day (after the application) each is done on.
# A notice published on day d runs d … d + 6; the step is completed on d + 7 at the earliest.
IDENTIFICATION_ACTIONS: list[tuple[str, int]] = [
    ("application", 0),
    ("appraisal", 2),
    ("verification", 4),
    ("first_notice:start", 5),
    ("first_notice", 12),
    ("township_review", 14),
    ("second_notice:start", 15),
    ("second_notice", 22),
    ("county_approval", 24),
    ("announcement", 25),
]
EXIT_ACTIONS: list[tuple[str, int]] = [
    ("start", 0),
    ("appraisal", 1),
    ("verification", 3),
    ("household_confirmation", 4),
    ("notice:start", 5),
    ("notice", 12),
    ("announcement", 14),
]
ACTIONS: dict[str, list[tuple[str, int]]] = {
    CaseWorkflow.Kind.IDENTIFICATION: IDENTIFICATION_ACTIONS,
    CaseWorkflow.Kind.EXIT: EXIT_ACTIONS,
}


@dataclass(frozen=True)
class Scenario:
    """A demo case: run its procedure up to and including `stop`, the last action `days_ago`
    days before today; with `objection_after`, an objection arrives that many days into the
    notice published by `stop` and sends the case back."""

    kind: str
    stop: str
    days_ago: int
    objection_after: int | None = None
    description: str = ""
    # After `stop`, on the same day: the village withdraws the case (撤回) with `withdraw`, or
    # the owner of the step it stands at returns it to the step `return_to` (退回).
    withdraw: str = ""
    return_to: str = ""


IDENTIFICATION = CaseWorkflow.Kind.IDENTIFICATION
EXIT = CaseWorkflow.Kind.EXIT
SCENARIOS: list[Scenario] = [
    Scenario(IDENTIFICATION, "application", 1, description="已申请，待民主评议"),
    Scenario(IDENTIFICATION, "appraisal", 1, description="已评议，待核实"),
    Scenario(IDENTIFICATION, "verification", 1, description="已核实，待发布第一次公示"),
    Scenario(IDENTIFICATION, "first_notice:start", 2, description="第一次公示中"),
    Scenario(IDENTIFICATION, "first_notice:start", 9, description="第一次公示期满，待办结"),
    Scenario(IDENTIFICATION, "first_notice", 1, description="待乡镇审核"),
    Scenario(IDENTIFICATION, "township_review", 1, description="乡镇已审核，待第二次公示"),
    Scenario(IDENTIFICATION, "second_notice:start", 3, description="第二次公示中"),
    Scenario(IDENTIFICATION, "second_notice", 1, description="待县扶贫办审定"),
    Scenario(IDENTIFICATION, "county_approval", 1, description="已审定，待公告"),
    Scenario(IDENTIFICATION, "announcement", 2, description="已公告纳入"),
    Scenario(
        IDENTIFICATION,
        "first_notice:start",
        4,
        objection_after=2,
        description="第一次公示有异议，退回民主评议",
    ),
    Scenario(
        IDENTIFICATION,
        "second_notice:start",
        4,
        objection_after=2,
        description="第二次公示有异议，退回乡镇审核",
    ),
    Scenario(IDENTIFICATION, "first_notice", 25, description="超期：待乡镇审核"),
    Scenario(IDENTIFICATION, "second_notice", 12, description="超期：待县扶贫办审定"),
    Scenario(EXIT, "start", 1, description="已发起退出，待民主评议"),
    Scenario(EXIT, "appraisal", 1, description="已评议，待核实"),
    Scenario(EXIT, "verification", 1, description="已核实，待贫困户确认"),
    Scenario(EXIT, "household_confirmation", 1, description="已确认，待公示"),
    Scenario(EXIT, "notice:start", 3, description="退出公示中"),
    Scenario(EXIT, "notice:start", 9, description="退出公示期满，待办结"),
    Scenario(EXIT, "notice", 1, description="待公告退出"),
    Scenario(EXIT, "announcement", 2, description="已公告退出"),
    Scenario(EXIT, "notice:start", 4, objection_after=2, description="退出公示有异议，退回评议"),
    Scenario(
        IDENTIFICATION,
        "appraisal",
        3,
        withdraw="户主外出务工，家庭收入已超过扶贫标准，本人申请撤回",
        description="已撤回（评议后农户申请撤回）",
    ),
    Scenario(
        EXIT,
        "verification",
        2,
        withdraw="核实后发现户内新增重病患者，暂缓退出",
        description="已撤回（退出核实后暂缓）",
    ),
    Scenario(
        IDENTIFICATION,
        "first_notice",
        2,
        return_to="verification",
        description="乡镇退回村级重新核实",
    ),
    Scenario(
        IDENTIFICATION,
        "second_notice",
        2,
        return_to="appraisal",
        description="县扶贫办退回民主评议",
    ),
]
RETURN_OPINIONS = {
    "verification": "收入核算缺少务工收入证明，请补充核实",
    "appraisal": "评议参会人数不足三分之二，请重新组织民主评议",
}

OPINIONS = {
    "application": "户主本人申请，家庭人均纯收入低于扶贫标准",
    "appraisal": "经村民代表评议，同意{what}",
    "verification": "经入户核实，收入、住房和家庭成员情况属实",
    "household_confirmation": "户主签字确认脱贫",
    "township_review": "经乡镇审核，程序规范，情况属实",
    "county_approval": "经县扶贫办审定，同意",
    "announcement": "已在县政府网站和村务公开栏公告",
}
OBJECTIONS = [
    ("村民", "反映该户有家庭成员在县城经营门面，收入未如实申报"),
    ("同组村民", "反映该户子女已在外地购房"),
]
CAUSES = ["因病", "缺技术", "缺劳力", "因学", "因残"]


def _minutes(name: str) -> SimpleUploadedFile:
    """A small PDF standing in for the scanned minutes or signed confirmation."""
    body = (
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        "2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return SimpleUploadedFile(name, body.encode(), content_type="application/pdf")


@contextmanager
def on_day(day: datetime.date) -> Iterator[None]:
    """Run the services as on `day` (10:00 local time): their dates and records are that
    day's."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    with time_machine.travel(moment, tick=True):
        yield


def _candidates(village: Any, kind: str, today: datetime.date) -> list[Household]:
    """The village's households a case of `kind` can be opened for, in a stable order: for an
    exit, the poor households that meet the exit test today."""
    statuses = (
        (Household.Status.NON_REGISTERED, Household.Status.REMOVED)
        if kind == IDENTIFICATION
        else (Household.Status.POOR, Household.Status.RETURNED)
    )
    households = list(
        Household.objects.filter(village=village, status__in=statuses).order_by("number")
    )
    if kind == EXIT:
        households = [
            household
            for household in households
            if not services.exit_refusals(household, year=today.year, on=today)
        ]
    return households


def _run(
    scenario: Scenario,
    household: Household,
    *,
    today: datetime.date,
    users: dict[str, Any],
    index: int,
) -> CaseWorkflow:
    actions = ACTIONS[scenario.kind]
    keys = [key for key, _offset in actions]
    last = keys.index(scenario.stop)
    stop_offset = actions[last][1]
    first_day = today - datetime.timedelta(days=scenario.days_ago + stop_offset)
    owners = {"village": users["cadre"], "township": users["township"], "county": users["county"]}
    what = "纳入建档立卡" if scenario.kind == IDENTIFICATION else "退出"
    workflow: CaseWorkflow | None = None
    notice: Any = None
    for key, offset in actions[: last + 1]:
        day = first_day + datetime.timedelta(days=offset)
        with on_day(day):
            if key in ("application", "start"):
                if scenario.kind == IDENTIFICATION and not household.main_cause:
                    household = services.household_update(
                        actor=users["cadre"],
                        household=household,
                        data={"main_cause": CAUSES[index % len(CAUSES)]},
                        expected_version=household.version,
                        reason="农户申请时填写致贫原因",
                    )
                workflow = services.workflow_start(
                    actor=users["cadre"],
                    household=household,
                    kind=scenario.kind,
                    opinion=OPINIONS["application"],
                )
                continue
            assert workflow is not None
            workflow.refresh_from_db()
            step = _step_level(workflow)
            actor = owners[step]
            if key.endswith(":start"):
                notice = services.notice_start(
                    actor=actor,
                    workflow=workflow,
                    expected_step=workflow.step,
                    start_date=day,
                    days=NOTICE_DAYS,
                    phone=NOTICE_PHONE,
                    place=NOTICE_PLACE,
                )
                continue
            needs_file = key in ("appraisal", "household_confirmation")
            services.workflow_step_complete(
                actor=actor,
                workflow=workflow,
                expected_step=workflow.step,
                opinion=OPINIONS.get(key, "").format(what=what),
                evidence=_minutes(f"{household.number}-{key}.pdf") if needs_file else None,
                attendance=23 + index % 9 if key == "appraisal" else None,
            )
    assert workflow is not None
    if scenario.objection_after is not None:
        assert notice is not None
        objector, content = OBJECTIONS[index % len(OBJECTIONS)]
        received = notice.start_date + datetime.timedelta(days=scenario.objection_after)
        with on_day(received):
            services.notice_objection_record(
                actor=users["cadre"],
                notice=notice,
                content=content,
                objector=objector,
                received_on=received,
            )
    workflow.refresh_from_db()
    if scenario.withdraw or scenario.return_to:
        with on_day(first_day + datetime.timedelta(days=actions[last][1])):
            if scenario.withdraw:
                services.workflow_withdraw(
                    actor=users["cadre"],
                    workflow=workflow,
                    reason=scenario.withdraw,
                    expected_step=workflow.step,
                )
            else:
                services.workflow_return(
                    actor=owners[_step_level(workflow)],
                    workflow=workflow,
                    expected_step=workflow.step,
                    opinion=RETURN_OPINIONS[scenario.return_to],
                    to_step=scenario.return_to,
                )
        workflow.refresh_from_db()
    return workflow


# --- batches: one meeting, one 公示, one review for many households -------------------------

IDENTIFICATION_BATCH_SIZE = 4
EXIT_BATCH_SIZE = 3
BATCH_MEETING_NOT_PASSED = "经评议，该户家庭收入高于扶贫标准，未通过"


def _ago(today: datetime.date, days: int) -> datetime.date:
    return today - datetime.timedelta(days=days)


def _identification_batch(
    village: Any, households: list[Household], *, today: datetime.date, users: dict[str, Any]
) -> Any:
    """A 识别 batch of four applicants, made through the batch services: one 民主评议 meeting
    (the last applicant not passed, withdrawn), one verification, one first 公示 of the list
    (an objection sends the third back to the meeting), the 公示 run out: two households wait
    for the township's review of the batch."""
    cadre = users["cadre"]
    for index, household in enumerate(households):
        if not household.main_cause:
            with on_day(_ago(today, 17)):
                services.household_update(
                    actor=cadre,
                    household=household,
                    data={"main_cause": CAUSES[index % len(CAUSES)]},
                    expected_version=household.version,
                    reason="农户申请时填写致贫原因",
                )
    with on_day(_ago(today, 16)):
        batch = services.case_batch_create(
            actor=cadre,
            village=village,
            kind=IDENTIFICATION,
            name=f"{village.name}{today.year}年第一批贫困户识别",
            households=[Household.objects.get(pk=household.pk) for household in households],
            opened_on=_ago(today, 16),
            opinion=OPINIONS["application"],
        )
    members = services.case_batch_members(batch)
    with on_day(_ago(today, 15)):
        services.case_batch_record_meeting(
            actor=cadre,
            batch=batch,
            meeting_date=_ago(today, 15),
            attendance=41,
            minutes=_minutes(f"{village.name}民主评议会议记录.pdf"),
            opinion="经村民代表大会评议，同意以下农户纳入建档立卡",
            exceptions={members[-1].pk: BATCH_MEETING_NOT_PASSED},
        )
    with on_day(_ago(today, 14)):
        services.case_batch_complete_step(
            actor=cadre,
            batch=batch,
            step="verification",
            opinion=OPINIONS["verification"],
            acted_on=_ago(today, 14),
        )
    with on_day(_ago(today, 13)):
        services.case_batch_start_notice(
            actor=cadre,
            batch=batch,
            step="first_notice",
            start_date=_ago(today, 13),
            days=NOTICE_DAYS,
            phone=NOTICE_PHONE,
            place=NOTICE_PLACE,
        )
    objected = members[2]
    with on_day(_ago(today, 11)):
        objector, content = OBJECTIONS[0]
        services.notice_objection_record(
            actor=cadre,
            notice=objected.notices.get(is_open=True),
            content=content,
            objector=objector,
            received_on=_ago(today, 11),
        )
    with on_day(_ago(today, 6)):
        services.case_batch_complete_step(actor=cadre, batch=batch, step="first_notice")
    return batch


def _exit_batch(
    village: Any, households: list[Household], *, today: datetime.date, users: dict[str, Any]
) -> Any:
    """A 退出 batch of three households: one meeting, one verification, each household's own
    signed confirmation, one 公示 of the list run out and completed: the batch waits for the
    county's 公告."""
    cadre = users["cadre"]
    with on_day(_ago(today, 12)):
        batch = services.case_batch_create(
            actor=cadre,
            village=village,
            kind=EXIT,
            name=f"{village.name}{today.year}年第一批贫困户退出",
            households=households,
            opened_on=_ago(today, 12),
        )
    with on_day(_ago(today, 11)):
        services.case_batch_record_meeting(
            actor=cadre,
            batch=batch,
            meeting_date=_ago(today, 11),
            attendance=37,
            minutes=_minutes(f"{village.name}退出评议会议记录.pdf"),
            opinion="经村两委评议，以下贫困户达到退出标准，同意退出",
        )
    with on_day(_ago(today, 10)):
        services.case_batch_complete_step(
            actor=cadre,
            batch=batch,
            step="verification",
            opinion=OPINIONS["verification"],
            acted_on=_ago(today, 10),
        )
    with on_day(_ago(today, 9)):
        for case in services.case_batch_members(batch, "household_confirmation"):
            services.workflow_step_complete(
                actor=cadre,
                workflow=case,
                expected_step="household_confirmation",
                opinion=OPINIONS["household_confirmation"],
                evidence=_minutes(f"{case.household.number}-household_confirmation.pdf"),
            )
    with on_day(_ago(today, 8)):
        services.case_batch_start_notice(
            actor=cadre,
            batch=batch,
            step="notice",
            start_date=_ago(today, 8),
            days=NOTICE_DAYS,
            phone=NOTICE_PHONE,
            place=NOTICE_PLACE,
        )
    with on_day(_ago(today, 1)):
        services.case_batch_complete_step(actor=cadre, batch=batch, step="notice")
    return batch


def _step_level(workflow: CaseWorkflow) -> str:
    return workflows.current_step(workflow).level


@transaction.atomic
def build(*, result: dict[str, Any], seed: int) -> None:
    """The `seed_demo` step (after the rounds: finished cases land in the open round)."""
    county = result["county"].county
    users = result["users"]
    if CaseWorkflow.objects.filter(household__village__path__startswith=county.path).exists():
        return
    today = result.get("today") or timezone.localdate()
    village = users["cadre"].region
    pools: dict[str, list[Household]] = {
        kind: _candidates(village, kind, today) for kind in (IDENTIFICATION, EXIT)
    }
    for index, scenario in enumerate(SCENARIOS):
        pool = pools[scenario.kind]
        if not pool:
            continue  # a small county: fewer cases
        _run(scenario, pool.pop(0), today=today, users=users, index=index)
    if len(pools[IDENTIFICATION]) >= IDENTIFICATION_BATCH_SIZE:
        _identification_batch(
            village, pools[IDENTIFICATION][:IDENTIFICATION_BATCH_SIZE], today=today, users=users
        )
    if len(pools[EXIT]) >= EXIT_BATCH_SIZE:
        _exit_batch(village, pools[EXIT][:EXIT_BATCH_SIZE], today=today, users=users)
