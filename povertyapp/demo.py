"""The demo county: a realistic 黄平县 (Guizhou, a western county) for `make demo` and tests.

The platform's part and the composer. Each app seeds its own part in its own `<app>/demo.py`;
`seed` runs them in the order of `settings.DEMO_STEPS` (dotted paths, so the platform imports
no app): the registry first (`households.demo`: households, members, incomes, lines, village
years), then the other apps' steps, the checks and the history (the last two are here).

This module holds what the platform owns and the parts share: the region tree and the demo
users (platform models, built by the registry's step because the county's shape follows its
number of households and shares its seeded random stream), the pools of names, the demo
password, and the first history row of bulk-loaded records.

Every step is called as `step(result=..., seed=...)` and must be idempotent. `result` starts
with the demo's `households` and `today` (`seed(today=...)`, default the local date: every
part is dated relative to it); the registry's step adds `county`, `users`, `created` and
`generated`, and the later steps read them.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from povertyapp import bulk, jobs
from povertyapp.models import Job, Region, User
from povertyapp.services import region_create, user_create

DEMO_PASSWORD = "Huangping@2020"
PROVINCE = ("520000000000", "贵州省")
CITY = ("522600000000", "黔东南苗族侗族自治州")
COUNTY = ("522622000000", "黄平县")
TOWNSHIPS = [
    "新州镇",
    "旧州镇",
    "重安镇",
    "谷陇镇",
    "平溪镇",
    "野洞河镇",
    "上塘镇",
    "一碗水乡",
    "浪洞镇",
    "纸房乡",
]
VILLAGE_FIRST = "东西南北上下新旧大小龙凤金石白青红黄马牛羊桥塘坪坝岩溪河湾寨山田冲"
VILLAGE_SECOND = "坪坝寨村溪冲湾岭坡堡屯营口庄场洞岗垭"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_MALE = "伟强磊军洋勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳成志国文德荣贵福海"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲桂英梅兰秀凤琴云莲红萍雪琳婷慧倩颖欣妍春花翠菊"
# DOMAIN-realistic shares of the main cause among registered households (the registry's
# generator and the rounds' new households draw from them).
CAUSE_SHARES = [
    ("缺技术", 33),
    ("因病", 26),
    ("自身发展动力不足", 16),
    ("缺劳力", 11),
    ("因学", 5),
    ("因残", 4),
    ("缺资金", 3),
    ("因灾", 1),
    ("交通条件落后", 1),
]


@dataclass
class DemoCounty:
    """The region tree of the demo county: `groups` are each village's 村民小组 by village id."""

    county: Region
    townships: list[Region]
    villages: list[Region]
    groups: dict[int, list[Region]]


def _weighted(rng: random.Random, shares: list[tuple[Any, int]]) -> Any:
    total = sum(weight for _, weight in shares)
    pick = rng.uniform(0, total)
    for value, weight in shares:
        pick -= weight
        if pick <= 0:
            return value
    return shares[-1][0]


def build_regions(
    *,
    rng: random.Random,
    villages_per_township: int = 10,
    county: tuple[str, str] = COUNTY,
    townships: list[str] | None = None,
    city: tuple[str, str] = CITY,
) -> DemoCounty:
    """The region tree (get-or-create: running twice changes nothing): the county under `city`
    (the demo county's, or a neighbour's) in the demo province."""

    # One query for what exists already (a second run), instead of one per region.
    known = {
        region.code: region
        for region in Region.objects.filter(
            Q(code__startswith=county[0][:6]) | Q(code__in=[PROVINCE[0], city[0]])
        )
    }

    def get_or_create(
        code: str, name: str, level: str, parent: Region | None, is_western: bool = False
    ) -> Region:
        existing = known.get(code)
        return existing or region_create(
            code=code, name=name, level=level, parent=parent, is_western=is_western
        )

    province = get_or_create(*PROVINCE, Region.Level.PROVINCE, None, True)
    city_region = get_or_create(*city, Region.Level.CITY, province, True)
    county_region = get_or_create(*county, Region.Level.COUNTY, city_region, True)
    township_regions, village_regions = [], []
    groups: dict[int, list[Region]] = {}
    used_names: set[str] = set()
    for t_index, township_name in enumerate(townships or TOWNSHIPS):
        t_code = f"{county[0][:6]}{100 + t_index:03d}000"
        township = get_or_create(t_code, township_name, Region.Level.TOWNSHIP, county_region)
        township_regions.append(township)
        for v_index in range(villages_per_township):
            v_code = f"{t_code[:9]}{200 + v_index:03d}"
            name = ""
            while not name or name in used_names:
                name = rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_SECOND) + "村"
            used_names.add(name)
            village = get_or_create(v_code, name, Region.Level.VILLAGE, township)
            village_regions.append(village)
            group_list = []
            for g_index in range(rng.randint(3, 6)):
                g_code = f"{v_code}{g_index + 1:03d}"
                group_list.append(
                    get_or_create(
                        g_code,
                        f"第{'一二三四五六七八九'[g_index]}村民小组",
                        Region.Level.GROUP,
                        village,
                    )
                )
            groups[village.pk] = group_list
    return DemoCounty(county_region, township_regions, village_regions, groups)


def person_name(rng: random.Random, surname: str, sex: str) -> str:
    """A person's name: the surname and one or two given characters of the sex's pool."""
    pool = GIVEN_MALE if sex == "男" else GIVEN_FEMALE
    return surname + "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2))))


DEMO_USERS = [
    # username, role, region (key), full name, unit, post
    ("county", User.Role.COUNTY_OFFICER, "county", "周明华", "黄平县扶贫开发办公室", "主任"),
    ("township", User.Role.TOWNSHIP_REVIEWER, "township", "吴桂兰", "新州镇人民政府", "扶贫站站长"),
    ("cadre", User.Role.VILLAGE_CADRE, "village", "杨光荣", "", "村文书"),
    ("cadre2", User.Role.VILLAGE_CADRE, "village2", "龙秀英", "", "村文书"),
    ("helper", User.Role.HELPER, "village", "潘志强", "县农业农村局", "科员"),
    ("auditor", User.Role.AUDITOR, "county", "陈立新", "第三方评估组", "评估员"),
    ("sysadmin", User.Role.SYSTEM_ADMIN, None, "系统管理员", "县大数据中心", "管理员"),
    ("secadmin", User.Role.SECURITY_ADMIN, None, "安全管理员", "县大数据中心", "安全管理员"),
    ("auditadmin", User.Role.AUDIT_ADMIN, None, "审计管理员", "县纪委监委", "审计管理员"),
    # A department's account (医保): pushes its lists and reads their results (issue 15).
    ("yibao", User.Role.DEPARTMENT, "county", "罗晓燕", "黄平县医疗保障局", "待遇保障股"),
    # Above the county (issue 16): the city's and the province's offices read the roll-up.
    ("city", User.Role.CITY_OFFICER, "city", "田志刚", "黔东南州乡村振兴局", "科长"),
    ("province", User.Role.PROVINCE_OFFICER, "province", "韦晓梅", "贵州省乡村振兴局", "处长"),
]
# The department of each department account above.
DEMO_DEPARTMENTS = {"yibao": User.Department.MEDICAL_INSURANCE}


def ensure_users(county: DemoCounty) -> dict[str, User]:
    city = county.county.parent
    regions = {
        "city": city,
        "province": city.parent if city else None,
        "county": county.county,
        "township": county.townships[0],
        "village": county.villages[0],
        # A village in another township.
        "village2": next(v for v in county.villages if v.parent_id == county.townships[1].pk),
    }
    users = {}
    for username, role, region_key, full_name, unit, post in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                region=regions[region_key] if region_key else None,
                full_name=full_name,
                unit=unit,
                post=post,
                phone="13800000000",
                department=DEMO_DEPARTMENTS.get(username, ""),
                validate_password=False,
            )
        users[username] = user
    return users


def describe_users(users: dict[str, User]) -> Iterator[str]:
    for username, user in users.items():
        region = user.region.full_name if user.region else "—"
        yield f"  {username:<10} {DEMO_PASSWORD}  {user.get_role_display()}  {region}"


# --- the whole demo: each app's part in the order of settings.DEMO_STEPS ----------------------

# The checks a county office finds already run (job kinds of `povertyapp.jobs`): 问题数据 and
# the 优惠政策落实防漏表. Registered by their apps; run in this order, after the cases.
DEMO_JOBS: list[str] = ["data_quality", "assistance.coverage"]
HISTORY_REASON = gettext_noop("演示数据：系统初始化导入")  # stored; shown translated


def seed(*, households: int, seed: int, today: datetime.date | None = None) -> dict[str, Any]:
    """Build the whole demo county as of `today` (default: the local date): every step of
    `settings.DEMO_STEPS` in order, each handed the same `result`. Idempotent."""
    result: dict[str, Any] = {"households": households, "today": today or timezone.localdate()}
    for step in settings.DEMO_STEPS:
        import_string(step)(result=result, seed=seed)
    return result


def history_moment(today: datetime.date) -> datetime.datetime:
    """When the seeded records entered the system: the start of last year, before any dated
    demo action (rounds, cases), so a record's first history row comes before its changes."""
    return timezone.make_aware(datetime.datetime(today.year - 1, 1, 2, 9, 0))


def initial_history(models: Any, *, today: datetime.date, user: User | None = None) -> int:
    """The first history row of every record of `models` that has none (bulk-loaded rows)."""
    return sum(
        bulk.initial_history(
            model,
            when=history_moment(today),
            reason=HISTORY_REASON,
            user_id=user.pk if user else None,
        )
        for model in models
    )


def history_step(*, result: dict[str, Any], seed: int) -> None:
    """Last step: every model with django-simple-history gets the first history row of any
    record still without one (whatever a step loaded in bulk), so no record lacks its start."""
    from simple_history.models import registered_models

    today = result.get("today") or timezone.localdate()
    with transaction.atomic():
        initial_history(
            sorted(registered_models.values(), key=lambda model: model._meta.label),
            today=today,
            user=result["users"]["county"],
        )


def checks_step(*, result: dict[str, Any], seed: int) -> None:
    """Run the checks of `DEMO_JOBS` over the county as jobs of the county officer, right now
    (the job's body, whatever the Celery mode), so the county office finds their results on
    their pages. A kind that already succeeded for the county is not run again."""
    county = result["county"].county
    officer = result["users"]["county"]
    for kind in DEMO_JOBS:
        if Job.objects.filter(kind=kind, region=county, status=Job.Status.SUCCEEDED).exists():
            continue
        job = jobs.job_create(user=officer, kind=kind, region=county)
        finished = jobs.job_run(job.pk)
        if finished.status != Job.Status.SUCCEEDED:
            raise RuntimeError(f"demo check {kind} failed: {finished.error}")
