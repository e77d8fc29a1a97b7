"""A hand-counted monitoring world for the dashboard, ledger and API tests (issue 15, figures).

The registry's date is frozen on TODAY (2026-06-15). In the test county:

village A (凤场村, township 1)
  household_a    边缘易致贫户, 监测中 since 2025-03-01 (over a year), risks 因病 (open) and 因学
                 (resolved); one member 7 years old out of school (义务教育 fails)
  a_unstable     脱贫不稳定户, 监测中 since 2026-06-02 (this month), risk 因自然灾害, green channel;
                 house grade C not renovated (住房 fails)
  a_eliminated   风险已消除 帮扶消除 on 2026-02-10 (identified 2025-01-05), 1 measure-free object
village A2 (龙坪村, township 1)
  a2_identifying 突发严重困难户, 识别中 (clue 2026-06-10), risk 因意外事故; water unsafe
village B (西垭村, township 2)
  household_b    边缘易致贫户, 监测中 since 2026-01-20 (this year), risk 因病; a member uninsured
  b_eliminated   风险已消除 自然消除 on 2025-11-03 (identified 2025-04-01)

Clues (received → verify due / decide due):
  1 self-declaration, village A, 待核实, received 2026-06-01, verify due 06-03 (overdue),
    decide due 06-16 (not overdue)
  2 cadre check, village A2, 识别中, received 2026-05-20, decide due 06-04 (overdue)
  3 department 医保, village B, 纳入监测, received 2026-01-10, decided 2026-01-20 (10 days)
  4 department 医保, village B, 不纳入, received 2026-03-01, decided 2026-03-21 (20 days)
  5 department 民政, the county (unmatched), 待登记, received 2026-06-05, decide due 06-20
  6 department 医保, village A, 待核实, received 2025-12-01, verify due 2025-12-03 (overdue),
    decide due 2025-12-16 (overdue)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from households.models import Household
from monitoring.models import Clue, MonitoringObject, ObjectRisk
from povertyapp.models import User
from tests import factories

D = datetime.date
TODAY = D(2026, 6, 15)


@dataclass
class World:
    objects: dict[str, MonitoringObject]
    households: dict[str, Household]
    clues: dict[int, Clue]


def _object(household: Household, actor: User, **values: Any) -> MonitoringObject:
    risks = values.pop("risks", {})
    values.setdefault("clue_date", values.get("identified_on") or TODAY)
    item = MonitoringObject.objects.create(household=household, created_by=actor, **values)
    for risk, resolved_on in risks.items():
        ObjectRisk.objects.create(monitoring_object=item, risk_type=risk, resolved_on=resolved_on)
    return item


def _clue(number: int, region: Any, **values: Any) -> Clue:
    household = values.get("household")
    values.setdefault("name", f"线索{number}")
    values.setdefault("id_number", factories.id_number())
    values.setdefault("accepted_on", values["received_on"])
    values.setdefault("risk_type", "illness")
    values.setdefault("member", household.members.order_by("pk").first() if household else None)
    return Clue.objects.create(region=region, **values)


def build(cast: Any, county: Any, household_a: Household, household_b: Household) -> World:
    actor = cast.county
    State = MonitoringObject.State
    # A child of 7 out of school in household_a: 义务教育 fails.
    household_a.members.create(
        name="王小",
        relation="之子",
        sex="男",
        birth_date=D(2019, 3, 1),
        school_status="非在校生",
        has_medical_insurance=True,
    )
    # An uninsured member in household_b: 基本医疗 fails.
    member = household_b.members.order_by("pk").last()
    member.has_medical_insurance = False
    member.save(update_fields=["has_medical_insurance"])
    households = {
        "a": household_a,
        "b": household_b,
        "a_unstable": factories.household(
            actor=actor, village=county.village_a, house_grade="C", status="exited"
        ),
        "a_eliminated": factories.household(actor=actor, village=county.village_a),
        "a2_identifying": factories.household(
            actor=actor, village=county.village_a2, water_safe=False, status="non_registered"
        ),
        "b_eliminated": factories.household(actor=actor, village=county.village_b),
    }
    objects = {
        "a": _object(
            household_a,
            actor,
            object_type="marginal",
            state=State.MONITORED,
            identified_on=D(2025, 3, 1),
            risks={"illness": None, "education": D(2025, 9, 1)},
        ),
        "a_unstable": _object(
            households["a_unstable"],
            actor,
            object_type="unstable",
            state=State.MONITORED,
            identified_on=D(2026, 6, 2),
            green_channel=True,
            risks={"disaster": None},
        ),
        "a_eliminated": _object(
            households["a_eliminated"],
            actor,
            object_type="marginal",
            state=State.ELIMINATED,
            identified_on=D(2025, 1, 5),
            elimination_way="assisted",
            eliminated_on=D(2026, 2, 10),
            elimination_basis="人均纯收入稳定超过监测标准",
            risks={"illness": D(2026, 2, 10)},
        ),
        "a2_identifying": _object(
            households["a2_identifying"],
            actor,
            object_type="sudden",
            state=State.IDENTIFYING,
            clue_date=D(2026, 6, 10),
            risks={"accident": None},
        ),
        "b": _object(
            household_b,
            actor,
            object_type="marginal",
            state=State.MONITORED,
            identified_on=D(2026, 1, 20),
            risks={"illness": None},
        ),
        "b_eliminated": _object(
            households["b_eliminated"],
            actor,
            object_type="unstable",
            state=State.ELIMINATED,
            identified_on=D(2025, 4, 1),
            elimination_way="natural",
            eliminated_on=D(2025, 11, 3),
            risks={"employment": D(2025, 11, 3)},
        ),
    }
    channel, state = Clue.Channel, Clue.State
    clues = {
        1: _clue(
            1,
            county.village_a,
            channel=channel.SELF_DECLARATION,
            household=household_a,
            received_on=D(2026, 6, 1),
            verify_due=D(2026, 6, 3),
            decide_due=D(2026, 6, 16),
        ),
        2: _clue(
            2,
            county.village_a2,
            channel=channel.CADRE_CHECK,
            household=households["a2_identifying"],
            state=state.IDENTIFYING,
            received_on=D(2026, 5, 20),
            verify_due=D(2026, 5, 22),
            decide_due=D(2026, 6, 4),
            risk_type="accident",
        ),
        3: _clue(
            3,
            county.village_b,
            channel=channel.DEPARTMENT,
            department="medical_insurance",
            household=household_b,
            state=state.INCLUDED,
            received_on=D(2026, 1, 10),
            verify_due=D(2026, 1, 12),
            decide_due=D(2026, 1, 25),
            decided_on=D(2026, 1, 20),
            result_reason="纳入监测",
            monitoring_object=objects["b"],
        ),
        4: _clue(
            4,
            county.village_b,
            channel=channel.DEPARTMENT,
            department="medical_insurance",
            household=households["b_eliminated"],
            state=state.NOT_INCLUDED,
            received_on=D(2026, 3, 1),
            verify_due=D(2026, 3, 3),
            decide_due=D(2026, 3, 16),
            decided_on=D(2026, 3, 21),
            result_reason="收入高于监测标准",
        ),
        5: _clue(
            5,
            county.county,
            channel=channel.DEPARTMENT,
            department="civil_affairs",
            state=state.UNREGISTERED,
            received_on=D(2026, 6, 5),
            verify_due=D(2026, 6, 9),
            decide_due=D(2026, 6, 20),
        ),
        6: _clue(
            6,
            county.village_a,
            channel=channel.DEPARTMENT,
            department="medical_insurance",
            household=household_a,
            received_on=D(2025, 12, 1),
            verify_due=D(2025, 12, 3),
            decide_due=D(2025, 12, 16),
        ),
    }
    return World(objects=objects, households=households, clues=clues)
