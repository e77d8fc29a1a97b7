"""The national system's code tables, kept as data: our Chinese labels → national codes.

DOMAIN keys everything on the Chinese labels; the national system's files carry codes. Each
table maps a label of our value lists (or of a model's choices) to the national code, and a
layout version (`LAYOUT_VERSION`) names the set of tables and record layouts in force: when the
national system changes a code, a new version is added beside the old one, never edited in
place, so that a file exported under one version is still read back with that version's tables.

A label without a code is never written as a blank: the exporter reports it (`encode` answers
None and the caller lists the record, the column and the value). Sources and assumptions:
docs/national-exchange.md.
"""

from __future__ import annotations

from collections.abc import Mapping

# The layout version written on every national export (its letterhead and the sheet title)
# and assumed by the reconciliation when an upload does not name one.
LAYOUT_VERSION = "2021.1"

SEX = "sex"
RELATION = "relation"
ETHNICITY = "ethnicity"
EDUCATION = "education"
SCHOOL_STATUS = "school_status"
HEALTH = "health"
LABOUR_SKILL = "labour_skill"
WORK_STATUS = "work_status"
CAUSE = "cause"
POVERTY_ATTRIBUTE = "poverty_attribute"
IDENTIFICATION_STANDARD = "identification_standard"
HOUSEHOLD_STATUS = "household_status"
LIST_KIND = "list_kind"
ID_TYPE = "id_type"
LIVING_STATUS = "living_status"
HOUSE_GRADE = "house_grade"
YES_NO = "yes_no"

# GB/T 3304-1991 中国各民族名称的罗马字母拼写法和代码: 01–56 in the standard's order, 97 其他.
_ETHNICITIES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 "
    "瑶族 白族 土家族 哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 "
    "拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 "
    "布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 "
    "乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 "
    "鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
)


def _numbered(labels: str, *, width: int = 1, start: int = 1) -> dict[str, str]:
    return {
        label: str(number).zfill(width) for number, label in enumerate(labels.split(), start=start)
    }


TABLES_2021_1: dict[str, dict[str, str]] = {
    # GB/T 2261.1-2003 人的性别代码.
    SEX: {"男": "1", "女": "2"},
    # GB/T 4761-2008 家庭关系代码.
    RELATION: {
        "户主": "02",
        "配偶": "10",
        "之子": "20",
        "之女婿": "28",
        "之女": "30",
        "之儿媳": "38",
        "之孙子": "41",
        "之孙女": "42",
        "之外孙子": "43",
        "之外孙女": "44",
        "之父": "51",
        "之母": "52",
        "之公公": "53",
        "之婆婆": "54",
        "之岳父": "55",
        "之岳母": "56",
        "之祖父": "61",
        "之祖母": "62",
        "之外祖父": "63",
        "之外祖母": "64",
        "其他": "99",
    },
    ETHNICITY: {**_numbered(_ETHNICITIES, width=2), "其他": "97"},
    EDUCATION: _numbered("文盲或半文盲 小学 初中 高中 大专及以上 学龄前儿童"),
    SCHOOL_STATUS: _numbered(
        "非在校生 学前教育 小学 七年级 八年级 九年级 高中一年级 高中二年级 高中三年级 "
        "中职一年级 中职二年级 中职三年级 高职一年级 高职二年级 高职三年级 大专及以上",
        width=2,
    ),
    HEALTH: _numbered("健康 长期慢性病 患有大病 残疾"),
    LABOUR_SKILL: _numbered("普通劳动力 技能劳动力 丧失劳动力 无劳动力"),
    WORK_STATUS: _numbered("乡内 县内 省内 省外 无"),
    CAUSE: _numbered(
        "因病 因残 因学 因灾 缺土地 缺水 缺技术 缺劳力 缺资金 交通条件落后 自身发展动力不足 其他",
        width=2,
    ),
    POVERTY_ATTRIBUTE: {**_numbered("一般贫困户 低保贫困户 特困供养贫困户"), "五保户": "3"},
    IDENTIFICATION_STANDARD: _numbered("国家标准 省定标准 市定标准"),
    # 贫困户状态 (脱贫/风险消除 status): our household statuses by their Chinese labels.
    HOUSEHOLD_STATUS: {"未脱贫": "1", "已脱贫": "2", "返贫": "3", "剔除": "4"},
    # 四类名单 and the round's other lines, by their Chinese labels.
    LIST_KIND: {
        "新识别纳入": "1",
        "剔除": "2",
        "返贫": "3",
        "标注脱贫": "4",
        "自然增减": "5",
        "信息更正": "6",
    },
    # GB/T 22119-2017's 证件类型 as the national system narrows it.
    ID_TYPE: _numbered("居民身份证 残疾人证 军官证 其他"),
    LIVING_STATUS: _numbered("正常 死亡 失踪 服刑"),
    HOUSE_GRADE: {"A": "1", "B": "2", "C": "3", "D": "4"},
    YES_NO: {"是": "1", "否": "0"},
}

TABLES: dict[str, Mapping[str, Mapping[str, str]]] = {LAYOUT_VERSION: TABLES_2021_1}

TABLE_TITLES: dict[str, str] = {
    SEX: "性别",
    RELATION: "与户主关系",
    ETHNICITY: "民族",
    EDUCATION: "文化程度",
    SCHOOL_STATUS: "在校生状况",
    HEALTH: "健康状况",
    LABOUR_SKILL: "劳动技能",
    WORK_STATUS: "务工状况",
    CAUSE: "致贫原因",
    POVERTY_ATTRIBUTE: "贫困户属性",
    IDENTIFICATION_STANDARD: "识别标准",
    HOUSEHOLD_STATUS: "贫困户状态",
    LIST_KIND: "名单类型",
    ID_TYPE: "证件类型",
    LIVING_STATUS: "生存状态",
    HOUSE_GRADE: "危房等级",
    YES_NO: "是否",
}

# Several health conditions may apply to one person: our labels are joined by "、", the
# national codes by ",".
MULTI_SEPARATOR = "、"
NATIONAL_MULTI_SEPARATOR = ","


def tables(version: str = LAYOUT_VERSION) -> Mapping[str, Mapping[str, str]]:
    try:
        return TABLES[version]
    except KeyError:
        raise LookupError(f"Unknown national layout version {version!r}") from None


def encode(table: str, label: str, *, version: str = LAYOUT_VERSION) -> str | None:
    """The national code of our `label` in `table`; None when the label has no code."""
    return tables(version)[table].get(label)


def decode(table: str, code: str, *, version: str = LAYOUT_VERSION) -> str | None:
    """Our label of a national `code`; None for a code the table does not hold."""
    return _reverse(version, table).get(code)


_REVERSED: dict[tuple[str, str], dict[str, str]] = {}


def _reverse(version: str, table: str) -> dict[str, str]:
    key = (version, table)
    if key not in _REVERSED:
        reverse: dict[str, str] = {}
        for label, code in tables(version)[table].items():
            # Two labels on one code (五保户, the name of 特困供养 before 2016): the first, the
            # current label, is what a code decodes to.
            reverse.setdefault(code, label)
        _REVERSED[key] = reverse
    return _REVERSED[key]
