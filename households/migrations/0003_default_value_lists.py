"""The default value lists of DOMAIN §2–§6 and the national poverty lines of §5.

These are the starting data; the county office edits them in the admin (by year and province).
2017–2019 national lines are deliberately absent: DOMAIN says the county office enters them, and
a year without a line is reported as such, never guessed.
"""

from decimal import Decimal

from django.db import migrations

ETHNICITIES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 "
    "哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 "
    "达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 "
    "俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族 其他"
).split()

LISTS = {
    "identification_standard": ["国家标准", "省定标准", "市定标准"],
    "poverty_attribute": ["一般贫困户", "低保贫困户", "特困供养贫困户"],
    "cause": ["因病", "因残", "因学", "因灾", "缺土地", "缺水", "缺技术", "缺劳力", "缺资金",
              "交通条件落后", "自身发展动力不足", "其他"],
    "id_type": ["居民身份证", "残疾人证", "军官证", "其他"],
    "relation": ["户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女", "之外孙子",
                 "之外孙女", "之父", "之母", "之岳父", "之岳母", "之公公", "之婆婆", "之祖父", "之祖母",
                 "之外祖父", "之外祖母", "其他"],
    "ethnicity": ETHNICITIES,
    "political_status": ["中共党员", "中共预备党员", "共青团员", "民主党派", "群众"],
    "education": ["文盲或半文盲", "小学", "初中", "高中", "大专及以上", "学龄前儿童"],
    "school_status": ["非在校生", "学前教育", "小学", "七年级", "八年级", "九年级", "高中一年级",
                      "高中二年级", "高中三年级", "中职一年级", "中职二年级", "中职三年级",
                      "高职一年级", "高职二年级", "高职三年级", "大专及以上"],
    "health": ["健康", "长期慢性病", "患有大病", "残疾"],
    "labour_skill": ["普通劳动力", "技能劳动力", "丧失劳动力", "无劳动力"],
    "work_status": ["乡内", "县内", "省内", "省外", "无"],
    "living_status": ["正常", "死亡", "失踪", "服刑"],
    "road_type": ["泥土路", "砂石路", "水泥路", "沥青路"],
    "house_grade": ["A", "B", "C", "D"],
    "fuel_type": ["柴草", "干畜粪", "煤炭", "清洁能源", "其他"],
    "relocation_mode": ["集中安置", "分散安置"],
    "removal_ground": ["家庭成员有财政供养人员", "家庭成员为村干部", "购买3万元以上车辆",
                       "在城镇购买商品房或门面", "经营工商企业", "雇工从事规模种养",
                       "为享受政策分户或并户", "空挂户", "死亡、服刑或失踪", "优亲厚友、弄虚作假",
                       "收入超过标准", "其他"],
    "leave_reason": ["死亡", "婚出", "分户", "迁出", "服刑", "失踪", "其他"],
    "join_reason": ["出生", "婚入", "迁入", "刑满释放", "其他"],
    "measure_category": ["产业帮扶", "就业帮扶", "易地扶贫搬迁", "生态补偿", "教育帮扶", "健康帮扶",
                         "兜底保障", "金融帮扶", "危房改造", "饮水安全", "资产收益", "公益岗位",
                         "基础设施", "社会帮扶", "残疾人帮扶", "技能培训"],
}

# 五保户 was the attribute's name before 特困供养 (2016); kept for old records.
HISTORIC = [("poverty_attribute", "五保户", 2014, 2015)]

NATIONAL_LINES = {2010: "2300", 2011: "2536", 2012: "2625", 2013: "2736", 2014: "2800",
                  2015: "2855", 2016: "2952", 2020: "4000"}


def add_defaults(apps, schema_editor):
    ValueListItem = apps.get_model("households", "ValueListItem")
    PovertyLine = apps.get_model("households", "PovertyLine")
    items = [
        ValueListItem(list=key, label=label, year_from=2014, position=position)
        for key, labels in LISTS.items()
        for position, label in enumerate(labels)
    ]
    items += [
        ValueListItem(list=key, label=label, year_from=start, year_to=end, position=99)
        for key, label, start, end in HISTORIC
    ]
    ValueListItem.objects.bulk_create(items, ignore_conflicts=True)
    for year, amount in NATIONAL_LINES.items():
        PovertyLine.objects.get_or_create(
            year=year, standard="国家标准", region=None, defaults={"amount": Decimal(amount)}
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("households", "ValueListItem").objects.filter(province__isnull=True).delete()
    apps.get_model("households", "PovertyLine").objects.filter(region__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("households", "0002_initial")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
