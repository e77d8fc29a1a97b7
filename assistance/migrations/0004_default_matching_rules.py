"""The default matching rules of DOMAIN §6 and the default thresholds (≥ 4 measures, 90 idle
days, 200 days resident). The county office edits them in the admin afterwards.

Rules beyond DOMAIN's list (因灾, 缺土地, 缺水, 交通条件落后, 自身发展动力不足) are the usual
provincial practice, so that every cause of the value list has an answer; they are data too.
"""

from django.db import migrations

STUDENT = ("学前教育、小学、七年级、八年级、九年级、高中一年级、高中二年级、高中三年级、中职一年级、"
           "中职二年级、中职三年级、高职一年级、高职二年级、高职三年级、大专及以上")

# code, label, kind, level, condition, values, categories, flags, extra
RULES = [
    ("cause-illness", "健康帮扶", "measure", "household", "cause", "因病", "健康帮扶", "", {}),
    ("member-illness", "健康帮扶（患病成员）", "measure", "member", "health",
     "长期慢性病、患有大病", "健康帮扶", "", {}),
    ("cause-school", "教育帮扶", "measure", "household", "cause", "因学", "教育帮扶", "", {}),
    ("member-student", "教育资助（雨露计划、两免一补）", "measure", "member", "school", STUDENT,
     "教育帮扶", "", {"check_wrongful": True}),
    ("cause-disability", "残疾人帮扶", "measure", "household", "cause", "因残", "残疾人帮扶", "", {}),
    ("member-disability-subsidy", "残疾人补贴", "measure", "member", "health", "残疾",
     "残疾人帮扶", "", {"check_wrongful": True}),
    ("member-disability-certificate", "残疾证", "benefit", "member", "health", "残疾", "",
     "disability_certificate", {}),
    ("cause-labour", "就业帮扶或技能培训", "measure", "household", "cause", "缺技术、缺劳力",
     "就业帮扶、技能培训、公益岗位", "", {"needs_working_age_labour": True}),
    ("cause-capital", "金融帮扶（扶贫小额信贷）", "measure", "household", "cause", "缺资金",
     "金融帮扶", "", {}),
    ("house-unsafe", "危房改造或易地搬迁", "measure", "household", "house_grade", "C、D",
     "危房改造、易地扶贫搬迁", "house_renovated、relocated", {"check_wrongful": True}),
    ("water-unsafe", "饮水安全", "measure", "household", "water_unsafe", "", "饮水安全", "", {}),
    ("no-labour", "兜底保障或资产收益", "measure", "household", "no_labour", "",
     "兜底保障、资产收益", "any_dibao、any_tekun", {}),
    ("cause-disaster", "灾后恢复帮扶", "measure", "household", "cause", "因灾",
     "产业帮扶、危房改造、社会帮扶", "", {}),
    ("cause-land", "产业或就业帮扶（缺土地）", "measure", "household", "cause", "缺土地",
     "产业帮扶、就业帮扶、资产收益", "", {}),
    ("cause-water", "饮水安全（缺水）", "measure", "household", "cause", "缺水", "饮水安全", "", {}),
    ("cause-transport", "基础设施", "measure", "household", "cause", "交通条件落后", "基础设施",
     "", {}),
    ("cause-motivation", "产业、就业或公益岗位", "measure", "household", "cause",
     "自身发展动力不足", "产业帮扶、就业帮扶、技能培训、公益岗位", "", {}),
    ("member-medical", "城乡居民基本医疗保险", "benefit", "member", "everyone", "", "",
     "has_medical_insurance", {}),
    ("member-critical", "大病保险", "benefit", "member", "everyone", "", "",
     "has_critical_illness_insurance", {}),
    ("member-pension", "城乡居民基本养老保险", "benefit", "member", "everyone", "", "",
     "has_pension_insurance", {"min_age": 16, "exclude_students": True}),
    ("attribute-dibao", "农村低保", "benefit", "household", "attribute", "低保贫困户", "",
     "any_dibao", {"check_wrongful": True}),
    ("attribute-tekun", "特困供养", "benefit", "household", "attribute", "特困供养贫困户", "",
     "any_tekun", {"check_wrongful": True}),
]


def add_defaults(apps, schema_editor):
    MatchingRule = apps.get_model("assistance", "MatchingRule")
    AssistanceStandard = apps.get_model("assistance", "AssistanceStandard")
    for position, (code, label, kind, level, condition, values, categories, flags,
                   extra) in enumerate(RULES):
        MatchingRule.objects.get_or_create(
            code=code,
            defaults={"label": label, "kind": kind, "level": level, "condition": condition,
                      "values": values, "categories": categories, "flags": flags,
                      "position": position * 10, "note": "DOMAIN §6", **extra},
        )
    AssistanceStandard.objects.get_or_create(
        year_from=2014, province=None,
        defaults={"min_measures": 4, "idle_fund_days": 90, "min_days_resident": 200},
    )


def remove_defaults(apps, schema_editor):
    apps.get_model("assistance", "MatchingRule").objects.filter(
        code__in=[rule[0] for rule in RULES]).delete()
    apps.get_model("assistance", "AssistanceStandard").objects.filter(
        year_from=2014, province__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("assistance", "0003_assistance_records")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
