"""The blank templates of the three onboarding imports (表头 in Chinese, the ledger layout)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from households.onboarding.jobs import KINDS
from households.onboarding.tables import template_workbook
from povertyapp.models import User

HELP: dict[str, tuple[str, ...]] = {
    "regions": (
        "行政区划导入模板 填写说明",
        "1. 按国家统计局“统计用区划代码和城乡划分代码”填写，每个区划一行：统计用区划代码（12位，"
        "村民小组15位）、名称、城乡分类代码（111/112/121/122/123/210/220）、层级（可不填，由代码得出）。"
        "也可直接导入统计部门发布的CSV文件（UTF-8或GBK编码）。",
        "2. 上级区划由代码得出，须在文件中列出或已在系统中。重复导入同一文件不会产生变化。",
        "3. 更名：按原代码填写新名称，系统保留曾用名。重新编码：在“原区划代码”列填写原代码，"
        "区划保持不变，原代码记入曾用名。",
        "4. 撤并：在“撤并”表填写原区划代码和并入区划代码（或在本表该区划行填写“并入区划代码”）。"
        "被撤并的区划不删除、不再可选，其农户和村民小组转入并入的区划。",
        "5. 系统先检查整个文件，有任何错误则一条也不写入，并给出标出错误单元格的工作簿。",
    ),
    "village_years": (
        "村年度信息导入模板 填写说明",
        "1. 每个行政村一行：村代码（12位统计用区划代码）、户籍人口、户籍农业人口、总户数、"
        "贫困村（是/否）、出列年度、深度贫困村（是/否）、村情分类（好/中/差）、第一书记及电话。",
        "2. 导入时选择年度；“年度”列可不填，填写时须与所选年度一致。",
        "3. 已有的村年度信息按表中内容更新，空白单元格保留原值；重复导入同一文件不会产生变化。",
        "4. 系统先检查整个文件，有任何错误则一条也不写入，并给出标出错误单元格的工作簿。",
    ),
    "resident_teams": (
        "驻村工作队导入模板 填写说明",
        "1. 每名队员每年一行：村代码、年度、姓名、职务（队长/队员/第一书记）、派出单位、"
        "联系电话、驻村天数（每年须不少于200天）。",
        "2. 须先导入该村该年度的村年度信息。同一村同一年度按姓名识别队员，已有的按表中内容更新；"
        "重复导入同一文件不会产生变化。",
        "3. 系统先检查整个文件，有任何错误则一条也不写入，并给出标出错误单元格的工作簿。",
    ),
}


def onboarding_template(path: str, *, what: str, user: User | None) -> None:
    label, specs = KINDS[what]
    sheets = [
        (spec, _("%(what)s导入模板（%(sheet)s）") % {"what": label, "sheet": spec.name})
        for spec in specs
    ]
    template_workbook(path, user=user, sheets=sheets, help_lines=HELP[what])
