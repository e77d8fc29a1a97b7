"""Demo data of the assistance app (a `seed_demo` step): measures matched to each household's
needs by the matching rules themselves, plans, visits, village sponsors and resident teams,
projects with their fund movements.

Most registered households get the measures the rules ask for, topped up to 4–6; measures fit
the members' age and situation (an education aid names the student's stage, employment and
training go only to households with a working-age labourer). A few are deliberately short (2–3
measures) or mismatched (measures unrelated to their causes), and a few adults receive an
education aid they do not qualify for, so that the household-page warnings and the coverage
table have something to show: each of those measures carries `DELIBERATE_LABEL` in its content.
Rows are streamed with `povertyapp.bulk` (COPY on PostgreSQL), so the step is fast at 5,000
households and serves the 100k-household benchmark. Idempotent: a county that already has
measures is left alone.

The 帮扶责任人 pairings are older than the measures (one from the December a household was
identified), so they come earlier, in the registry's own pass: `PAIRINGS` is registered with
`households.demo.register_rows` by `AssistanceConfig.ready`.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from assistance import matching
from assistance.models import (
    Asset,
    AssetDistribution,
    AssetIncome,
    AssistanceEvent,
    FundMovement,
    FundSource,
    HouseholdPlan,
    MatchingRule,
    Measure,
    Pairing,
    Project,
    ProjectFunding,
    VillageSponsor,
    Visit,
)
from households.demo import RegistryRows
from households.models import Household, Member
from households.standards import years_before
from povertyapp import bulk
from povertyapp.demo import GIVEN_MALE, SURNAMES, DemoCounty, person_name
from povertyapp.models import Region, ResidentTeamMember, User, VillageYear

CONTENT = {
    "产业帮扶": [
        "发放精品水果苗木{n}株",
        "养殖黄牛{n}头产业奖补",
        "种植食用菌{n}棒",
        "加入合作社入股分红",
    ],
    "就业帮扶": ["推荐到县工业园区务工", "组织赴浙江省务工并补贴交通费", "就业扶贫车间就业"],
    "技能培训": ["参加电工技能培训", "参加家政服务培训", "参加种养殖实用技术培训"],
    "公益岗位": ["聘为生态护林员", "聘为村级保洁员", "聘为道路养护员"],
    "生态补偿": ["享受退耕还林补助", "享受公益林生态补偿"],
    "教育帮扶": [
        "雨露计划职业教育补助",
        "义务教育“两免一补”",
        "高中阶段免学费并发放国家助学金",
        "学前教育资助",
    ],
    "健康帮扶": ["家庭医生签约服务", "慢性病门诊报销", "大病集中救治", "参保个人缴费代缴"],
    "残疾人帮扶": ["发放困难残疾人生活补贴", "发放重度残疾人护理补贴", "辅助器具适配"],
    "金融帮扶": ["扶贫小额信贷{n}万元", "产业贷款贴息"],
    "危房改造": ["农村危房改造（拆除重建）", "农村危房改造（修缮加固）"],
    "易地扶贫搬迁": ["易地扶贫搬迁集中安置"],
    "饮水安全": ["接通集中供水管网", "修建家庭水窖"],
    "兜底保障": ["纳入农村低保", "纳入特困供养"],
    "资产收益": ["光伏扶贫收益分红", "村集体经济收益分红"],
    "社会帮扶": ["东西部协作帮扶物资", "企业结对帮扶慰问"],
    "基础设施": ["通组硬化路入户", "改厨改厕"],
}
TOP_UP = ["产业帮扶", "就业帮扶", "公益岗位", "生态补偿", "技能培训", "资产收益", "社会帮扶"]
# Measures that need a working-age labourer (16–60, 普通/技能劳动力) in the household.
NEEDS_LABOUR = ("就业帮扶", "技能培训", "公益岗位")
# The education aid of each school stage (在校生状况).
STAGE_AID = {
    "学前教育": "学前教育资助",
    "小学": "义务教育“两免一补”",
    "七年级": "义务教育“两免一补”",
    "八年级": "义务教育“两免一补”",
    "九年级": "义务教育“两免一补”",
    "高中": "高中阶段免学费并发放国家助学金",
    "中职": "中职免学费并发放国家助学金（雨露计划）",
    "高职": "雨露计划职业教育补助",
    "大专及以上": "雨露计划职业教育补助",
}
# Marks the deliberately wrong measures of the demo (short, mismatched, wrongful).
DELIBERATE_LABEL = "【演示：故意设置的不符项】"


def stage_aid(school_status: str) -> str | None:
    """The education aid a student of this stage receives; None for a non-student."""
    for prefix, aid in STAGE_AID.items():
        if school_status.startswith(prefix):
            return aid
    return None


UNRELATED = ["社会帮扶", "基础设施", "生态补偿"]
AMOUNTS = {
    "产业帮扶": (1000, 5000),
    "危房改造": (15000, 35000),
    "易地扶贫搬迁": (20000, 40000),
    "教育帮扶": (500, 3000),
    "健康帮扶": (200, 3000),
    "残疾人帮扶": (600, 1200),
    "金融帮扶": (20000, 50000),
    "饮水安全": (800, 3000),
    "公益岗位": (6000, 9600),
    "资产收益": (300, 1500),
    "兜底保障": (2000, 4500),
    "生态补偿": (200, 1000),
}
SOURCES = [
    FundSource.CENTRAL,
    FundSource.PROVINCIAL,
    FundSource.COUNTY,
    FundSource.INTEGRATED,
    FundSource.SOCIAL,
]
UNITS = [
    "县农业农村局",
    "县教育局",
    "县卫生健康局",
    "县人社局",
    "县交通运输局",
    "县住建局",
    "县财政局",
    "县水务局",
    "县民政局",
    "县供电局",
    "杭州市余杭区结对帮扶组",
    "县税务局",
]
PROJECTS = [
    ("产业", "{v}精品水果种植基地", "建设精品水果基地{n}亩，带动贫困户入股分红"),
    ("产业", "{v}生态养牛场", "建设标准化牛舍{n}平方米"),
    ("基础设施", "{v}通组硬化路", "硬化通组路{n}公里"),
    ("生活条件改善", "{v}人饮工程", "新建蓄水池{n}立方米及管网"),
    ("教育", "{v}教学点改造", "改造教学用房{n}平方米"),
    ("就业", "{v}就业扶贫车间", "建设扶贫车间{n}平方米，吸纳贫困劳动力就业"),
]
DUE_STATUSES = (Household.Status.POOR, Household.Status.RETURNED)
# The measure categories a project of each category takes from its 受益户 (issue 16).
LINKED_CATEGORIES = {
    "产业": ("产业帮扶", "资产收益"),
    "基础设施": ("基础设施", "饮水安全", "危房改造"),
    "就业": ("就业帮扶", "公益岗位", "技能培训"),
    "生活条件改善": ("饮水安全", "危房改造", "基础设施"),
    "教育": ("教育帮扶",),
}


def pairing_helpers(
    *, rng: random.Random, county: DemoCounty, users: dict[str, User]
) -> dict[int, list[dict[str, Any]]]:
    """Each village's 帮扶责任人 (6–12, from the county's units), drawn on the county's random
    stream; the demo helper's account is the first helper of the demo cadre's village."""
    units = [
        "县农业农村局",
        "县教育局",
        "县卫生健康局",
        "县人社局",
        "县交通运输局",
        "县住建局",
        "县财政局",
        "县自然资源局",
        "县水务局",
        "县民政局",
        "乡镇人民政府",
        "县供电局",
    ]
    posts = ["科员", "副科长", "科长", "干部", "副主任"]
    helpers: dict[int, list[dict[str, Any]]] = {}
    for village in county.villages:
        helpers[village.pk] = [
            {
                "name": person_name(rng, rng.choice(SURNAMES), rng.choice("男女")),
                "unit": rng.choice(units),
                "post": rng.choice(posts),
                "phone": f"139{rng.randint(0, 99999999):08d}",
                "user_id": None,
            }
            for _ in range(rng.randint(6, 12))
        ]
    helper = users["helper"]
    helpers[county.villages[0].pk][0].update(
        user_id=helper.pk,
        name=helper.full_name,
        unit=helper.unit,
        post=helper.post,
        phone=helper.phone,
    )
    return helpers


def pairing_rows(
    helpers_by_village: dict[int, list[dict[str, Any]]],
    *,
    household: dict[str, Any],
    sequence: int,
) -> list[dict[str, Any]]:
    """The pairing of one generated household: every registered household still on the list
    (not 剔除) has the village's helpers in turn, since the December of its first year."""
    helpers = helpers_by_village.get(household["village_id"], [])
    first_year = household["first_identified_year"]
    if first_year is None or household["status"] == "removed" or not helpers:
        return []
    helper = helpers[(sequence - 1) % len(helpers)]
    return [
        {
            "household_id": household["id"],
            "helper_id": helper.get("user_id"),
            "name": helper["name"],
            "unit": helper["unit"],
            "post": helper["post"],
            "phone": helper["phone"],
            "start_date": datetime.date(first_year, 12, 1),
        }
    ]


# The pairings are registry-era data: generated and loaded in the registry's own pass
# (`households.demo.register_rows`, from `AssistanceConfig.ready`).
PAIRINGS = RegistryRows(model=Pairing, prepare=pairing_helpers, rows=pairing_rows)


def step(*, result: dict[str, Any], seed: int) -> None:
    """The `seed_demo` step, after the registry's (`households.demo.step`) and the rounds'."""
    populate(
        county=result["county"].county,
        seed=seed,
        users=result.get("users") or {},
        today=result.get("today"),
    )


@transaction.atomic
def populate(
    *,
    county: Region,
    seed: int,
    users: dict[str, Any] | None = None,
    today: datetime.date | None = None,
) -> dict[str, int]:
    """Generate the county's assistance data (no-op when it already has measures)."""
    households = Household.objects.filter(village__path__startswith=county.path)
    if Measure.objects.filter(household__in=households).exists():
        return {"measures": 0}
    rng = random.Random(seed * 7 + 4)
    today = today or timezone.localdate()
    now = timezone.now()
    rules = {rule.pk: rule for rule in matching.rules_for(today.year)}
    measure_rules = [rule for rule in rules.values() if rule.kind == MatchingRule.Kind.MEASURE]
    needs: dict[int, list[tuple[MatchingRule, int | None]]] = defaultdict(list)
    for gap in matching.coverage_rows(households, measure_rules, on=today):
        if gap.kind == matching.MISSING:
            needs[gap.household_id].append((rules[gap.rule_id], gap.member_id))
    covered = list(
        matching.covered_households(households).values_list(
            "pk", "status", "village_id", "first_identified_year", "exit_year"
        )
    )
    pairing_names = dict(
        households.model.objects.filter(
            pk__in=[row[0] for row in covered], pairings__end_date__isnull=True
        ).values_list("pk", "pairings__name")
    )
    pairing_users = dict(
        households.model.objects.filter(
            pk__in=[row[0] for row in covered],
            pairings__end_date__isnull=True,
            pairings__helper__isnull=False,
        ).values_list("pk", "pairings__helper")
    )
    adults: dict[int, list[int]] = defaultdict(list)
    for adult_id, household_id in Member.objects.filter(
        household__in=households,
        is_active=True,
        school_status__in=("", "非在校生"),
        birth_date__lte=today - datetime.timedelta(days=20 * 365),
    ).values_list("pk", "household_id"):
        adults[household_id].append(adult_id)
    # Each member's school stage, and the households with a working-age labourer.
    stages: dict[int, str] = {}
    students: dict[int, list[int]] = defaultdict(list)
    with_labour: set[int] = set()
    young = years_before(today, matching.WORKING_AGE[0])
    old = years_before(today, matching.WORKING_AGE[1] + 1)
    for living_id, household_id, school, labour, born in Member.objects.filter(
        household__in=households, is_active=True, living_status=matching.LIVING
    ).values_list("pk", "household_id", "school_status", "labour_skill", "birth_date"):
        stages[living_id] = school
        if stage_aid(school):
            students[household_id].append(living_id)
        if labour in matching.WORKER_SKILLS and old < born <= young:
            with_labour.add(household_id)

    measure_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    plan_rows: list[dict[str, Any]] = []
    visit_rows: list[dict[str, Any]] = []
    ids = {
        "measure": bulk.next_id(Measure),
        "event": bulk.next_id(AssistanceEvent),
        "plan": bulk.next_id(HouseholdPlan),
        "visit": bulk.next_id(Visit),
    }

    def add_measure(
        household_id: int,
        status: str,
        category: str,
        member_id: int | None,
        year: int,
        responsible: str,
        deliberate: bool = False,
    ) -> None:
        low, high = AMOUNTS.get(category, (0, 0))
        amount = Decimal(rng.randrange(low, high + 1, 50)) if high else Decimal("0")
        content = rng.choice(CONTENT[category]).format(n=rng.randint(2, 300))
        if category == "教育帮扶":
            # The aid of the student's stage (the member's, or the household's first student).
            student = member_id or next(iter(students.get(household_id, [])), None)
            content = stage_aid(stages.get(student or 0, "")) or "教育扶贫政策宣传和控辍保学"
            if member_id is not None and member_id not in students.get(household_id, []):
                content = "雨露计划职业教育补助"  # an adult: the deliberate wrongful aid
        if member_id is not None:
            year = today.year  # a member's benefit is this year's (the member's age today)
        if deliberate:
            content = f"{content}{DELIBERATE_LABEL}"
        start = datetime.date(year, rng.randint(1, 6), rng.randint(1, 28))
        end = start + datetime.timedelta(days=rng.randint(60, 240))
        if status in (Household.Status.EXITED,) or end < today - datetime.timedelta(days=30):
            measure_status = Measure.Status.COMPLETED
        else:
            measure_status = rng.choice(
                [Measure.Status.PLANNED, Measure.Status.IN_PROGRESS, Measure.Status.COMPLETED]
            )
        completed = measure_status == Measure.Status.COMPLETED
        effect = Decimal(rng.randrange(0, 4001, 100)) if completed else Decimal("0")
        measure_id = ids["measure"]
        ids["measure"] += 1
        measure_rows.append(
            {
                "id": measure_id,
                "household_id": household_id,
                "member_id": member_id,
                "year": year,
                "category": category,
                "content": content,
                "planned_start": start,
                "planned_end": end,
                "actual_start": start if measure_status != Measure.Status.PLANNED else None,
                "actual_end": min(end, today) if completed else None,
                "responsible": responsible,
                "amount": amount,
                "fund_source": rng.choice(SOURCES) if amount else "",
                "project_id": None,
                "status": measure_status,
                "result": "已落实，" + ("年增收" + str(effect) + "元" if effect else "保障到位")
                if completed
                else "",
                "income_effect": effect,
                "version": 1,
                "created_by_id": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        event_rows.append(
            {
                "id": ids["event"],
                "kind": AssistanceEvent.Kind.MEASURE_ADDED,
                "household_id": household_id,
                "measure_id": measure_id,
                "summary": f"{category}：{content}",
                "actor_id": None,
                "created_at": now,
                "to_value": str(Measure.Status(measure_status).label),
                "data": {"amount": str(amount), "demo": True},
            }
        )
        ids["event"] += 1

    counts = {"short": 0, "mismatched": 0, "wrongful": 0}
    for household_id, status, _village, first_year, exit_year in covered:
        responsible = pairing_names.get(household_id) or ""
        year = (exit_year or today.year) if status == Household.Status.EXITED else today.year
        year = max(year, first_year or year)
        wanted = list(needs.get(household_id, []))
        categories: list[tuple[str, int | None]] = []
        for rule, wanted_member in wanted:
            choices = rule.category_list
            categories.append(
                (
                    rng.choice(choices) if rule.code == "cause-labour" else choices[0],
                    wanted_member,
                )
            )
        draw = rng.random()
        deliberate = False
        if status in DUE_STATUSES and draw < 0.03:
            # Deliberately short: 2–3 measures only.
            counts["short"] += 1
            deliberate = True
            rng.shuffle(categories)
            categories = categories[: rng.choice([2, 3])]
        elif (
            status in DUE_STATUSES
            and draw < 0.05
            and any(rule.condition == MatchingRule.Condition.CAUSE for rule, _m in wanted)
        ):
            # Deliberately mismatched: nothing answers the causes.
            counts["mismatched"] += 1
            deliberate = True
            categories = [(category, None) for category in rng.sample(UNRELATED, 3)]
        target = rng.choice([4, 4, 5, 5, 6])
        used = {category for category, member in categories if member is None}
        if not (status in DUE_STATUSES and draw < 0.05):
            for category in rng.sample(TOP_UP, len(TOP_UP)):
                if len(categories) >= target:
                    break
                if category in NEEDS_LABOUR and household_id not in with_labour:
                    continue  # no one of working age to employ or train
                if category not in used:
                    categories.append((category, None))
                    used.add(category)
        wrongful: int | None = None
        if status in DUE_STATUSES and 0.05 <= draw < 0.055 and adults.get(household_id):
            counts["wrongful"] += 1
            wrongful = rng.choice(adults[household_id])
        for category, member_id in categories:
            add_measure(household_id, status, category, member_id, year, responsible, deliberate)
        if wrongful is not None:
            add_measure(household_id, status, "教育帮扶", wrongful, year, responsible, True)
        visits = rng.randint(2, 4) if status in DUE_STATUSES else 1
        for index in range(visits):
            day = today - datetime.timedelta(days=rng.randint(5, 80) + 95 * index)
            visit_id = ids["visit"]
            ids["visit"] += 1
            seen = rng.choice(
                [
                    "户主在家，家中整洁，生产生活正常",
                    "了解到家中老人慢性病需长期服药",
                    "务工人员已返岗，收入稳定",
                    "养殖的牛长势良好，准备出栏",
                    "子女在校就读，资助已到位",
                ]
            )
            visit_rows.append(
                {
                    "id": visit_id,
                    "household_id": household_id,
                    "date": day,
                    "visitor_id": pairing_users.get(household_id),
                    "visitor_name": responsible or "驻村工作队",
                    "seen": seen,
                    "done": "宣讲扶贫政策，核对帮扶措施落实情况",
                    "next_steps": rng.choice(
                        ["跟进产业奖补兑现", "协助申报医疗救助", "联系务工岗位", ""]
                    ),
                    "questionnaire": {
                        "food": "是",
                        "clothing": "是",
                        "medical": "是",
                        "satisfaction": rng.choice(["满意", "满意", "基本满意"]),
                        "helper_known": "是",
                    },
                    "contact_card_given": index == visits - 1,
                    "benefit_card_given": index == visits - 1,
                    "created_at": now,
                }
            )
            event_rows.append(
                {
                    "id": ids["event"],
                    "kind": AssistanceEvent.Kind.VISIT,
                    "household_id": household_id,
                    "visit_id": visit_id,
                    "summary": f"{day.isoformat()} {responsible}：{seen}",
                    "actor_id": None,
                    "created_at": now,
                    "data": {"demo": True},
                }
            )
            ids["event"] += 1
        if status in DUE_STATUSES:
            plan_rows.append(
                {
                    "id": ids["plan"],
                    "household_id": household_id,
                    "year": today.year,
                    "goals": rng.choice(
                        [
                            "发展特色产业，稳定外出务工，年内达到脱贫标准",
                            "落实健康扶贫政策，减轻医疗负担，发展庭院经济",
                            "落实教育资助，培训就业技能，一人就业全家脱贫",
                        ]
                    ),
                    "expected_income": Decimal(rng.randrange(9000, 30001, 100)),
                    "exit_target": rng.random() < 0.6,
                    "version": 1,
                    "created_by_id": None,
                    "updated_at": now,
                }
            )
            ids["plan"] += 1
    # The projects come first: they link some of the measures (`project_id`) before these load.
    project_count = _projects(
        rng=rng,
        county=county,
        households=households,
        today=today,
        now=now,
        event_rows=event_rows,
        ids=ids,
        measure_rows=measure_rows,
    )
    bulk.load_rows(Measure, iter(measure_rows), now=now)
    bulk.load_rows(Visit, iter(visit_rows), now=now)
    bulk.load_rows(HouseholdPlan, iter(plan_rows), now=now)
    bulk.load_rows(AssistanceEvent, iter(event_rows), now=now)
    bulk.reset_sequences(
        Measure, Visit, HouseholdPlan, AssistanceEvent, Project, ProjectFunding, FundMovement
    )
    _teams(rng=rng, county=county)
    _assets(rng=rng, county=county, today=today)
    return {
        "measures": len(measure_rows),
        "visits": len(visit_rows),
        "plans": len(plan_rows),
        "projects": project_count,
        **counts,
    }


def _projects(
    *,
    rng: random.Random,
    county: Region,
    households: Any,
    today: datetime.date,
    now: datetime.datetime,
    event_rows: list[dict[str, Any]],
    ids: dict[str, int],
    measure_rows: list[dict[str, Any]],
) -> int:
    """The county's projects (2–3 a village) with their budgets, fund movements and 受益户.
    A project of a linked category takes, for each 受益户, the household's measure of that
    category closest to the project's year (`LINKED_CATEGORIES`): its `project_id` is set,
    and under a 产业 project its amount is the household's 到户 支出, so the reconciliation is
    clean except where the demo leaves it drifting (受益户 without such a measure, a project
    whose 到户 money is not yet spent). No draw of the random stream is added."""
    by_household: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for measure in measure_rows:
        if measure["member_id"] is None:
            by_household[measure["household_id"]].append(measure)
    villages = list(
        Region.objects.filter(level=Region.Level.VILLAGE, path__startswith=county.path).order_by(
            "code"
        )
    )
    registered: dict[int, list[int]] = defaultdict(list)
    for pk, village_id in households.filter(status__in=Household.REGISTERED_STATUSES).values_list(
        "pk", "village_id"
    ):
        registered[village_id].append(pk)
    project_rows, funding_rows, movement_rows, beneficiary_rows = [], [], [], []
    project_id, funding_id = bulk.next_id(Project), bulk.next_id(ProjectFunding)
    movement_id = bulk.next_id(FundMovement)
    through = Project.beneficiaries.through
    through_id = bulk.next_id(through)
    sequence: dict[int, int] = defaultdict(int)
    for village in villages:
        for _ in range(rng.randint(2, 3)):
            category, name, content = rng.choice(PROJECTS)
            year = rng.choice([today.year - 2, today.year - 1, today.year])
            sources = rng.sample(SOURCES, 2)
            budget = {source: Decimal(rng.randrange(50_000, 800_001, 1000)) for source in sources}
            totals = dict.fromkeys(("allocated", "arrived", "spent", "reimbursed"), Decimal("0"))
            pool = registered.get(village.pk, [])
            beneficiaries = rng.sample(pool, min(len(pool), rng.randint(5, 15)))
            finished = year < today.year
            start = datetime.date(year, rng.randint(1, 4), rng.randint(1, 28))
            first_money = today
            shares: dict[int, Decimal] = defaultdict(Decimal)  # 到户 支出 by household
            for source, amount in budget.items():
                funding_rows.append(
                    {"id": funding_id, "project_id": project_id, "source": source, "amount": amount}
                )
                funding_id += 1
                allocated = (
                    amount
                    if finished or rng.random() < 0.7
                    else (amount * Decimal("0.6")).quantize(Decimal("1"))
                )
                arrived = (
                    allocated
                    if finished
                    else (allocated * Decimal(rng.choice(["1", "0.8", "0.5"]))).quantize(
                        Decimal("1")
                    )
                )
                # Current-year projects sometimes leave arrived money idle for months.
                idle = not finished and rng.random() < 0.25
                spent = (
                    arrived
                    if finished
                    else (
                        Decimal("0")
                        if idle
                        else (arrived * Decimal(rng.choice(["0.9", "0.6", "0.3"]))).quantize(
                            Decimal("0.01")
                        )
                    )
                )
                reimbursed = (
                    spent
                    if finished
                    else (spent * Decimal(rng.choice(["1", "0.7", "0.4"]))).quantize(
                        Decimal("0.01")
                    )
                )
                allocation_day = max(start - datetime.timedelta(days=20), datetime.date(year, 1, 2))
                if idle:
                    allocation_day = min(allocation_day, today - datetime.timedelta(days=120))
                first_money = min(first_money, allocation_day)
                day = {
                    "allocated": allocation_day,
                    "arrived": allocation_day + datetime.timedelta(days=10),
                    "spent": allocation_day + datetime.timedelta(days=40),
                    "reimbursed": allocation_day + datetime.timedelta(days=70),
                }
                household_share = Decimal("0")
                if spent and beneficiaries and category == "产业":
                    household_share = min(spent, Decimal(1500 * len(beneficiaries)))
                for kind, value in (
                    ("allocated", allocated),
                    ("arrived", arrived),
                    ("spent", spent - household_share),
                    ("reimbursed", reimbursed),
                ):
                    if value <= 0:
                        continue
                    movement_rows.append(
                        {
                            "id": movement_id,
                            "project_id": project_id,
                            "kind": kind,
                            "source": source,
                            "amount": value,
                            "date": min(day[kind], today),
                            "document_number": f"黄扶发〔{year}〕{rng.randint(1, 99)}号"
                            if kind == "allocated"
                            else "",
                            "voucher": f"PZ{year}{movement_id:06d}" if kind == "reimbursed" else "",
                            "household_id": None,
                            "note": "",
                            "created_by_id": None,
                            "created_at": now,
                        }
                    )
                    movement_id += 1
                if household_share:
                    each = (household_share / len(beneficiaries)).quantize(Decimal("0.01"))
                    for index, household_id in enumerate(beneficiaries):
                        value = (
                            each
                            if index < len(beneficiaries) - 1
                            else (household_share - each * (len(beneficiaries) - 1))
                        )
                        movement_rows.append(
                            {
                                "id": movement_id,
                                "project_id": project_id,
                                "kind": "spent",
                                "source": source,
                                "amount": value,
                                "date": min(day["spent"], today),
                                "document_number": "",
                                "voucher": "",
                                "household_id": household_id,
                                "note": "到户产业奖补",
                                "created_by_id": None,
                                "created_at": now,
                            }
                        )
                        movement_id += 1
                        shares[household_id] += value
                totals["allocated"] += allocated
                totals["arrived"] += arrived
                totals["spent"] += spent
                totals["reimbursed"] += reimbursed
            status = (
                Project.Status.CLOSED
                if finished and year < today.year - 1
                else (Project.Status.ACCEPTED if finished else Project.Status.IN_PROGRESS)
            )
            wanted = LINKED_CATEGORIES.get(category, ())
            for household_id in beneficiaries if wanted else ():
                options = [
                    measure
                    for measure in by_household.get(household_id, ())
                    if measure["category"] in wanted and measure["project_id"] is None
                ]
                if not options:
                    continue
                linked = min(
                    options, key=lambda measure: (abs(measure["year"] - year), measure["id"])
                )
                linked["project_id"] = project_id
                if household_id in shares:
                    linked["amount"] = shares[household_id]
                    linked["fund_source"] = sources[0]
            sequence[village.pk] += 1
            project_rows.append(
                {
                    "id": project_id,
                    "code": f"XM{year}{village.code[6:12]}{sequence[village.pk]:02d}",
                    "name": name.format(v=village.name),
                    "category": category,
                    "region_id": village.pk,
                    "year": year,
                    "content": content.format(n=rng.randint(20, 500)),
                    "responsible_unit": rng.choice(UNITS),
                    "planned_start": start,
                    "planned_end": start + datetime.timedelta(days=240),
                    "actual_start": start,
                    "actual_end": start + datetime.timedelta(days=220) if finished else None,
                    "progress_percent": 100 if finished else rng.randint(10, 90),
                    "progress_note": "已完工" if finished else "按计划推进",
                    "accepted_on": start + datetime.timedelta(days=230) if finished else None,
                    "settled_amount": totals["spent"] if finished else None,
                    "performance_goal": "带动贫困户增收，项目建成后持续运营",
                    "status": status,
                    # 申报 → 审批 → 公告公示: the 10-day 公示 ended the day before money moved.
                    "approval": Project.Approval.PUBLISHED,
                    "approved_on": first_money - datetime.timedelta(days=12),
                    "approval_document": f"黄扶办〔{first_money.year}〕{rng.randint(1, 60)}号",
                    "publicity_start": first_money - datetime.timedelta(days=10),
                    "publicity_end": first_money - datetime.timedelta(days=1),
                    "budget_total": sum(budget.values(), Decimal("0")),
                    "allocated_total": totals["allocated"],
                    "arrived_total": totals["arrived"],
                    "spent_total": totals["spent"],
                    "reimbursed_total": totals["reimbursed"],
                    "version": 1,
                    "created_by_id": None,
                    "created_at": now,
                }
            )
            for household_id in beneficiaries:
                beneficiary_rows.append(
                    {"id": through_id, "project_id": project_id, "household_id": household_id}
                )
                through_id += 1
            event_rows.append(
                {
                    "id": ids["event"],
                    "kind": AssistanceEvent.Kind.PROJECT_CREATED,
                    "project_id": project_id,
                    "actor_id": None,
                    "created_at": now,
                    "summary": name.format(v=village.name),
                    "data": {"demo": True},
                }
            )
            ids["event"] += 1
            project_id += 1
    bulk.load_rows(Project, iter(project_rows), now=now)
    bulk.load_rows(ProjectFunding, iter(funding_rows), now=now)
    bulk.load_rows(FundMovement, iter(movement_rows), now=now)
    bulk.load_rows(through, iter(beneficiary_rows), now=now)
    bulk.reset_sequences(through)
    return len(project_rows)


def _assets(*, rng: random.Random, county: Region, today: datetime.date) -> None:
    """资产收益: a 村集体 asset from each village's first finished 产业 or 基础设施 project, with
    its income of every full year since and the income shared among up to 12 of the village's
    registered households (what is left stays with the collective)."""
    if Asset.objects.filter(village__path__startswith=county.path).exists():
        return
    projects = (
        Project.objects.filter(
            region__path__startswith=county.path,
            region__level=Region.Level.VILLAGE,
            category__in=["产业", "基础设施"],
            accepted_on__isnull=False,
        )
        .order_by("region", "accepted_on", "pk")
        .select_related("region")
    )
    first: dict[int, Project] = {}
    for project in projects:
        first.setdefault(project.region_id, project)
    registered: dict[int, list[int]] = defaultdict(list)
    for pk, village_id in Household.objects.filter(
        village__in=list(first), status__in=Household.REGISTERED_STATUSES
    ).values_list("pk", "village_id"):
        registered[village_id].append(pk)
    assets = Asset.objects.bulk_create(
        [
            Asset(
                project=project,
                kind=Asset.Kind.COLLECTIVE,
                name=rng.choice(["村级光伏电站", "村集体养殖场", "扶贫车间", "冷链仓储库"]),
                village_id=village_id,
                value=project.spent_total,
                ownership=Asset.Ownership.COLLECTIVE,
                manager=rng.choice(["村股份经济合作社", "村集体经济组织", "农民专业合作社"]),
                formed_on=project.accepted_on,
            )
            for village_id, project in first.items()
            if project.accepted_on is not None
        ]
    )
    incomes: list[AssetIncome] = []
    lines: list[AssetDistribution] = []
    for asset in assets:
        pool = registered.get(asset.village_id, [])
        sharing = rng.sample(pool, min(len(pool), 12))
        for year in range(asset.formed_on.year + 1, today.year):
            income = (asset.value * Decimal(rng.choice(["0.06", "0.08", "0.1"]))).quantize(
                Decimal("1")
            )
            incomes.append(AssetIncome(asset=asset, year=year, amount=income))
            if not sharing or not income:
                continue
            each = (income * Decimal("0.6") / len(sharing)).quantize(Decimal("0.01"))
            lines.extend(
                AssetDistribution(
                    asset=asset,
                    household_id=household_id,
                    year=year,
                    amount=each,
                    paid_on=datetime.date(year, 12, 20),
                )
                for household_id in sharing
                if each > 0
            )
    AssetIncome.objects.bulk_create(incomes)
    AssetDistribution.objects.bulk_create(lines, batch_size=2000)


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN_MALE) for _ in range(2))


def _teams(*, rng: random.Random, county: Region) -> None:
    """挂包单位 for every village year; 驻村工作队 for the poor villages, a few short of 200
    days resident."""
    sponsors, members = [], []
    for village_year in VillageYear.objects.filter(
        village__path__startswith=county.path
    ).select_related("village"):
        sponsors.append(
            VillageSponsor(
                village=village_year.village,
                year=village_year.year,
                unit=rng.choice(UNITS),
                leader="",
                phone="",
            )
        )
        if not village_year.is_poor_village or village_year.team.exists():
            continue
        team = [
            (village_year.first_secretary or _person(rng), ResidentTeamMember.Post.FIRST_SECRETARY)
        ] + [(_person(rng), ResidentTeamMember.Post.MEMBER) for _ in range(rng.randint(1, 2))]
        for name, post in team:
            members.append(
                ResidentTeamMember(
                    village_year=village_year,
                    name=name,
                    post=post,
                    unit=rng.choice(UNITS),
                    days_resident=rng.choice([rng.randint(200, 260)] * 9 + [rng.randint(120, 199)]),
                )
            )
    VillageSponsor.objects.bulk_create(sponsors, ignore_conflicts=True)
    ResidentTeamMember.objects.bulk_create(members)
