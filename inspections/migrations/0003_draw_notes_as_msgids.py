"""Issue 17: an assessment draw's notes (`Campaign.draw_notes`, `SampleVillage.notes`) were
stored as text formatted in the language of the person who drew; they are now stored as msgid
and parameters (`inspections.notes`) and shown in the reader's language. Each stored text is
read back against every language's wording of the six notes; a text that matches none (edited
by hand, a catalog since changed) is left as text and shown as stored."""

import re

from django.conf import settings
from django.db import migrations
from django.utils import translation

# The msgids as `inspections.notes` has them at this migration (frozen here on purpose).
MSGIDS = (
    "全县仅有%(n)d个乡镇可抽，少于方案的%(want)d个。",
    "%(township)s村数不足，少抽%(n)d个村。",
    "%(township)s无未抽取的“%(target)s”类村，按补足规则从“%(used)s”类村中抽取。",
    "%(village)s%(kind)s仅%(have)d户，不足%(quota)d户，差额按补足规则由其他类型补足。",
    "%(village)s可抽农户不足，实抽%(taken)d户（方案%(quota)d户）。",
    "以下村未登记本年度村情分类，按“中”类参与抽样：%(names)s",
)
KINDS = {
    "unexited": "未脱贫户",
    "pre_exit": "拟脱贫户",
    "exited": "已脱贫户",
    "non_registered": "非建档立卡户",
}
CLASSES = ("好", "中", "差")
PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")


def _pattern(template, choices):
    """The wording as a regular expression: a number for %d, one of its labels for a
    parameter that is a label (``choices``), any text else."""
    parts, last = [], 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        name, kind = match.groups()
        if kind == "d":
            parts.append(rf"(?P<{name}>\d+)")
        elif name in choices:
            labels = sorted(choices[name], key=len, reverse=True)
            parts.append(f"(?P<{name}>{'|'.join(re.escape(label) for label in labels)})")
        else:
            parts.append(rf"(?P<{name}>.+?)")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)


def _readers():
    """(msgid, pattern, kinds by label, classes by label, list separator) per language."""
    readers = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            kinds = {translation.gettext(label): value for value, label in KINDS.items()}
            classes = {translation.gettext(label): label for label in CLASSES}
            separator = translation.gettext("、")
            choices = {"kind": kinds, "target": classes, "used": classes}
            for msgid in MSGIDS:
                pattern = _pattern(translation.gettext(msgid), choices)
                readers.append((msgid, pattern, kinds, classes, separator))
    return readers


def note_from_text(text, readers):
    """The stored note for a text, or the text itself when no wording matches."""
    if not isinstance(text, str):
        return text
    for msgid, pattern, kinds, classes, separator in readers:
        match = pattern.match(text)
        if match is None:
            continue
        params = {}
        for key, value in match.groupdict().items():
            if key in ("n", "want", "have", "quota", "taken"):
                params[key] = int(value)
            elif key == "kind":
                if value not in kinds:
                    break
                params[key] = kinds[value]
            elif key in ("target", "used"):
                if value not in classes:
                    break
                params[key] = classes[value]
            elif key == "names":
                params[key] = value.split(separator)
            else:
                params[key] = value
        else:
            return {"msgid": msgid, "params": params}
    return text


def forwards(apps, schema_editor):
    readers = _readers()
    Campaign = apps.get_model("inspections", "Campaign")
    SampleVillage = apps.get_model("inspections", "SampleVillage")
    for model, field in ((Campaign, "draw_notes"), (SampleVillage, "notes")):
        changed = []
        for row in model.objects.only("pk", field).iterator():
            notes = getattr(row, field) or []
            converted = [note_from_text(item, readers) for item in notes]
            if converted != notes:
                setattr(row, field, converted)
                changed.append(row)
        model.objects.bulk_update(changed, [field], batch_size=500)


def backwards(apps, schema_editor):
    """Back to Chinese text (the source language)."""
    Campaign = apps.get_model("inspections", "Campaign")
    SampleVillage = apps.get_model("inspections", "SampleVillage")

    def text(item):
        if not isinstance(item, dict) or "msgid" not in item:
            return item
        params = dict(item.get("params") or {})
        if "kind" in params:
            params["kind"] = KINDS.get(params["kind"], params["kind"])
        if isinstance(params.get("names"), list):
            params["names"] = "、".join(params["names"])
        return item["msgid"] % params

    for model, field in ((Campaign, "draw_notes"), (SampleVillage, "notes")):
        changed = []
        for row in model.objects.only("pk", field).iterator():
            setattr(row, field, [text(item) for item in getattr(row, field) or []])
            changed.append(row)
        model.objects.bulk_update(changed, [field], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("inspections", "0002_private_evidence_names")]

    operations = [migrations.RunPython(forwards, backwards)]
