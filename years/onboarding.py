"""The onboarding checklist (上线准备清单, issue 16): what a county has loaded and what is missing.

One line per thing a county needs before it can work in the system, in the order of a first load
(docs/onboarding.md, "A county's first load"): the region tree, the villages' year rows, the
year's lines and value lists, households and members, users per village and township, pairings,
measures, projects, resident teams, the year's round. Each line has a count, a state (done,
partial, missing), what is missing in words, and a link to the page that fixes it.

The pages that fix a line belong to other apps, some of them built at the same time as this one
(the region, village-year, resident-team, pairing, measure and project imports): a line names
its page by URL names, the first that exists wins, and with none the line has no link
(`NoReverseMatch` is not an error here). Reads only; every count is one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistance.models import Measure, Pairing, Project
from households.models import Household, Member, ValueList
from monitoring.models import DibaoStandard, MonitoringLine
from povertyapp.models import Region, ResidentTeamMember, User, VillageYear
from rounds.models import AdjustmentRound
from years import rollover

DONE = "done"
PARTIAL = "partial"
MISSING = "missing"
STATE_LABELS = {
    DONE: gettext_lazy("已完成"),
    PARTIAL: gettext_lazy("部分完成"),
    MISSING: gettext_lazy("缺失"),
}
SHOWN_NAMES = 10

# The pages that fix each line, by URL name, first existing one wins. The imports of issue 16
# are named as their helpers were asked to name them, with the likely alternatives.
LINKS: dict[str, tuple[str, ...]] = {
    "regions": (
        "households:import_regions",
        "ledgers:import_regions",
        "povertyapp:import_regions",
        "admin:povertyapp_region_changelist",
    ),
    "village_years": (
        "households:import_village_years",
        "ledgers:import_village_years",
        "povertyapp:import_village_years",
        "admin:povertyapp_villageyear_changelist",
    ),
    "lines": ("years:rollover",),
    "value_lists": ("years:rollover",),
    "households": ("ledgers:import",),
    # Accounts are the security administrator's (三权分立): no page of the county office.
    "users": (),
    "pairings": (
        "assistance:import_pairings",
        "ledgers:import_pairings",
        "households:import_pairings",
    ),
    "measures": (
        "assistance:import_measures",
        "ledgers:import_measures",
        "households:import_measures",
    ),
    "projects": (
        "assistance:import_projects",
        "ledgers:import_projects",
        "households:import_projects",
        "assistance:projects",
    ),
    "resident_teams": (
        "households:import_resident_teams",
        "ledgers:import_resident_teams",
        "povertyapp:import_resident_teams",
    ),
    "round": ("rounds:list",),
}


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    count: int
    state: str
    note: str
    url: str | None

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


@dataclass(frozen=True)
class Checklist:
    county: Region
    year: int
    lines: list[Line]

    @property
    def missing(self) -> list[Line]:
        return [line for line in self.lines if line.state != DONE]

    @property
    def complete(self) -> bool:
        return not self.missing


def link(key: str, *, user: User | None = None) -> str | None:
    """The first page of `LINKS[key]` that exists (admin pages only for staff), else None."""
    for name in LINKS[key]:
        if name.startswith("admin:") and (user is None or not user.is_staff):
            continue
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def _state(have: int, total: int) -> str:
    if total and have >= total:
        return DONE
    return PARTIAL if have else MISSING


def _names(names: Sequence[str]) -> str:
    shown = _("、").join(names[:SHOWN_NAMES])
    return shown + (_("等%(count)d个") % {"count": len(names)} if len(names) > SHOWN_NAMES else "")


def _without(label: str, names: Sequence[str]) -> str:
    return _("%(label)s：%(names)s。") % {"label": label, "names": _names(names)} if names else ""


def checklist(*, county: Region, user: User | None = None, year: int | None = None) -> Checklist:
    """The county's checklist for `year` (default: the current year)."""
    year = year or timezone.localdate().year
    subtree = Region.objects.filter(path__startswith=county.path)
    townships = subtree.filter(level=Region.Level.TOWNSHIP)
    villages = subtree.filter(level=Region.Level.VILLAGE)
    township_count = townships.count()
    village_count = villages.count()
    lines: list[Line] = []

    def add(key: str, label: str, count: int, state: str, note: str, link_key: str) -> None:
        lines.append(Line(key, label, count, state, note, link(link_key, user=user)))

    # The region tree.
    add(
        "townships",
        _("乡镇"),
        township_count,
        DONE if township_count else MISSING,
        "" if township_count else _("尚未导入乡镇。"),
        "regions",
    )
    add(
        "villages",
        _("行政村"),
        village_count,
        DONE if village_count else MISSING,
        "" if village_count else _("尚未导入行政村。"),
        "regions",
    )
    has_groups = Region.objects.filter(parent=OuterRef("pk"), level=Region.Level.GROUP)
    without_groups = list(
        villages.filter(~Exists(has_groups)).order_by("code").values_list("name", flat=True)
    )
    add(
        "groups",
        _("村民小组"),
        subtree.filter(level=Region.Level.GROUP).count(),
        _state(village_count - len(without_groups), village_count),
        _without(_("没有村民小组的行政村"), without_groups),
        "regions",
    )

    # The villages' year rows (户籍农业人口: the denominator of incidence).
    without_year = list(
        villages.exclude(yearly__year=year).order_by("code").values_list("name", flat=True)
    )
    carried = rollover.still_carried(county, year).count()
    note = _without(_("没有%(year)s年村年度信息的行政村") % {"year": year}, without_year)
    if carried:
        note += _("%(count)d个行政村的人口为上年结转，请导入本年村年度信息。") % {"count": carried}
    with_year = village_count - len(without_year)
    add(
        "village_years",
        _("%(year)s年村年度信息（户籍农业人口）") % {"year": year},
        with_year,
        PARTIAL if carried and with_year else _state(with_year, village_count),
        note,
        "village_years",
    )

    # The year's lines and value lists.
    national = rollover.national_line(year)
    add(
        "poverty_line",
        _("%(year)s年扶贫标准") % {"year": year},
        1 if national else 0,
        DONE if national else MISSING,
        "" if national else _("未设置的年度无法评估，请在年度切换中沿用或录入。"),
        "lines",
    )
    monitoring = rollover.nearest(MonitoringLine, county, year)
    dibao = rollover.nearest(DibaoStandard, county, year)
    if monitoring is None:
        state, note = MISSING, _("请在年度切换中沿用或录入防返贫监测标准。")
    elif monitoring.kind == MonitoringLine.Kind.DIBAO_MULTIPLE and dibao is None:
        state, note = PARTIAL, _("监测标准按低保标准倍数确定，但本年农村低保标准尚未设置。")
    else:
        state, note = DONE, ""
    add(
        "monitoring_line",
        _("%(year)s年防返贫监测标准") % {"year": year},
        1 if monitoring else 0,
        state,
        note,
        "lines",
    )
    lists = set(rollover.value_list_items(county, year).values_list("list", flat=True).distinct())
    lacking = [str(ValueList(key).label) for key in ValueList.values if key not in lists]
    add(
        "value_lists",
        _("%(year)s年代码表") % {"year": year},
        len(lists),
        _state(len(lists), len(ValueList.values)),
        _without(_("没有本年取值的代码表"), lacking),
        "value_lists",
    )

    # Households and members.
    households = Household.objects.filter(village__path__startswith=county.path)
    household_count = households.count()
    active = Member.objects.filter(household=OuterRef("pk"), is_active=True)
    without_members = households.filter(~Exists(active)).count()
    add(
        "households",
        _("农户"),
        household_count,
        DONE if household_count else MISSING,
        "" if household_count else _("尚未导入农户。"),
        "households",
    )
    add(
        "members",
        _("家庭成员"),
        Member.objects.filter(household__village__path__startswith=county.path, is_active=True)
        .order_by()
        .count(),
        _state(household_count - without_members, household_count),
        _("%(count)d户没有在册家庭成员。") % {"count": without_members} if without_members else "",
        "households",
    )

    # Users per village and township.
    cadres = User.objects.filter(
        region=OuterRef("pk"), role=User.Role.VILLAGE_CADRE, is_active=True
    )
    villages_without_cadre = list(
        villages.filter(~Exists(cadres)).order_by("code").values_list("name", flat=True)
    )
    add(
        "village_cadres",
        _("村级录入员"),
        village_count - len(villages_without_cadre),
        _state(village_count - len(villages_without_cadre), village_count),
        _without(_("没有村级录入员的行政村"), villages_without_cadre)
        + (_("请安全管理员开通账号。") if villages_without_cadre else ""),
        "users",
    )
    reviewers = User.objects.filter(
        region=OuterRef("pk"), role=User.Role.TOWNSHIP_REVIEWER, is_active=True
    )
    townships_without = list(
        townships.filter(~Exists(reviewers)).order_by("code").values_list("name", flat=True)
    )
    add(
        "township_reviewers",
        _("乡镇审核员"),
        township_count - len(townships_without),
        _state(township_count - len(townships_without), township_count),
        _without(_("没有乡镇审核员的乡镇"), townships_without)
        + (_("请安全管理员开通账号。") if townships_without else ""),
        "users",
    )

    # Assistance: pairings, measures, projects.
    poor = households.filter(status__in=Household.POOR_STATUSES)
    poor_count = poor.count()
    open_pairing = Pairing.objects.filter(household=OuterRef("pk"), end_date__isnull=True)
    without_helper = poor.filter(~Exists(open_pairing)).count()
    add(
        "pairings",
        _("结对帮扶"),
        poor_count - without_helper,
        _state(poor_count - without_helper, poor_count) if poor_count else DONE,
        _("%(count)d户贫困户没有帮扶责任人。") % {"count": without_helper}
        if without_helper
        else "",
        "pairings",
    )
    measure = Measure.objects.filter(household=OuterRef("pk")).exclude(
        status=Measure.Status.CANCELLED
    )
    without_measure = poor.filter(~Exists(measure)).count()
    add(
        "measures",
        _("帮扶措施"),
        Measure.objects.filter(household__village__path__startswith=county.path)
        .exclude(status=Measure.Status.CANCELLED)
        .order_by()
        .count(),
        _state(poor_count - without_measure, poor_count) if poor_count else DONE,
        _("%(count)d户贫困户没有帮扶措施。") % {"count": without_measure}
        if without_measure
        else "",
        "measures",
    )
    project_count = Project.objects.filter(region__path__startswith=county.path).count()
    add(
        "projects",
        _("扶贫项目"),
        project_count,
        DONE if project_count else MISSING,
        "" if project_count else _("项目库中没有本县项目。"),
        "projects",
    )

    # Resident teams (驻村工作队) of the year's 贫困村 (of every village when none is one).
    village_years = VillageYear.objects.filter(village__in=villages, year=year)
    poor_villages = village_years.filter(is_poor_village=True, exit_year__isnull=True)
    teams_of = poor_villages if poor_villages.exists() else village_years
    team = ResidentTeamMember.objects.filter(village_year=OuterRef("pk"))
    without_team = list(
        teams_of.filter(~Exists(team))
        .order_by("village__code")
        .values_list("village__name", flat=True)
    )
    total_teams = teams_of.count()
    add(
        "resident_teams",
        _("%(year)s年驻村工作队") % {"year": year},
        total_teams - len(without_team),
        _state(total_teams - len(without_team), total_teams),
        _without(_("没有驻村工作队的行政村"), without_team)
        if total_teams
        else _("尚无本年村年度信息，无法登记驻村工作队。"),
        "resident_teams",
    )

    # The year's round.
    current = AdjustmentRound.objects.filter(county=county, year=year).first()
    add(
        "round",
        _("%(year)s年动态调整批次") % {"year": year},
        1 if current else 0,
        DONE if current else MISSING,
        _("%(round)s（%(status)s）")
        % {"round": current.display_name, "status": current.get_status_display()}
        if current
        else _("尚未开启：请办理年度切换。"),
        "round",
    )
    return Checklist(county=county, year=year, lines=lines)


def pending_count(county: Region) -> int:
    """How many lines of the county's checklist are not done (the desk panel's figure)."""
    return len(checklist(county=county).missing)
