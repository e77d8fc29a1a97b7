"""集中排查 pages: thin views — access helper → form → service → redirect.

Every sweep, village and 排查表 comes through the access helpers of `monitoring.sweeps` (404
outside the user's area; 403 to a role that may not act): the county office opens, assigns
teams and closes; village cadres record the 排查表 of their village; township reviewers and the
auditor read; helpers, department accounts and the administrators are refused.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.models import Member
from households.services import common
from monitoring import forms_sweeps as forms
from monitoring import sweeps
from monitoring.models import PriorityGroup, RiskType, Sweep, SweepHousehold
from povertyapp import forms as house_forms
from povertyapp.conflicts import ConflictError
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import Region
from povertyapp.privacy import mask

PAGE_SIZE = 50


@login_required
def sweep_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    queryset = sweeps.sweeps_for_user(user=request.user)
    region = request.user.region
    can_open = (
        sweeps.can_run_sweeps(request.user)
        and region is not None
        and region.level == Region.Level.COUNTY
    )
    return render(
        request,
        "monitoring/sweeps/list.html",
        {
            "sweeps": queryset,
            "can_open": can_open,
            "open_blocker": (
                sweeps.sweep_open_blocker(county=region, year=common.today().year)
                if can_open and region is not None
                else None
            ),
        },
    )


def _own_county(request: AuthenticatedHttpRequest) -> Region:
    region = request.user.region
    if not sweeps.can_run_sweeps(request.user) or region is None:
        raise PermissionDenied(_("只有县级部门可以发起集中排查。"))
    if region.level != Region.Level.COUNTY:
        raise PermissionDenied(_("集中排查由县级部门以县为单位发起。"))
    return region


@login_required
def sweep_open(request: AuthenticatedHttpRequest) -> HttpResponse:
    county = _own_county(request)
    today = common.today()
    if request.method != "POST":
        blocker = sweeps.sweep_open_blocker(county=county, year=today.year)
        if blocker:
            return render(
                request, "monitoring/sweeps/open.html", {"county": county, "blocker": blocker}
            )
    initial = {
        "name": _("%(year)s年防返贫集中排查") % {"year": today.year},
        "year": today.year,
        "start_date": today,
        "end_date": today + datetime.timedelta(days=30),
        "line": sweeps.default_line(county=county, year=today.year),
        "groups": list(PriorityGroup.values),
    }
    form = forms.SweepOpenForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sweep = sweeps.sweep_open(
                actor=request.user,
                county=county,
                year=data["year"],
                name=data["name"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                line=data["line"],
                groups=data["groups"],
            )
        except ValidationError as error:
            house_forms.add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("集中排查已发起，共 %(count)s 户。") % {"count": sweep.households.count()},
            )
            return redirect("monitoring:sweep", sweep_id=sweep.pk)
    return render(
        request,
        "monitoring/sweeps/open.html",
        {"form": form, "county": county},
        status=400 if request.method == "POST" else 200,
    )


@dataclass
class TownshipBlock:
    name: str
    rows: list[sweeps.ProgressRow] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(getattr(row, attribute) for row in self.rows)

    @property
    def households(self) -> int:
        return self.total("households")

    @property
    def visited(self) -> int:
        return self.total("visited")

    @property
    def skipped(self) -> int:
        return self.total("skipped")

    @property
    def pending(self) -> int:
        return self.total("pending")

    @property
    def risks(self) -> int:
        return self.total("risks")


@login_required
def sweep_detail(request: AuthenticatedHttpRequest, sweep_id: int) -> HttpResponse:
    """Progress per township and village, and the households per priority group."""
    sweep = sweeps.sweep_get_for_user(user=request.user, sweep_id=sweep_id)
    rows = sweeps.sweep_progress(user=request.user, sweep=sweep)
    blocks: dict[str, TownshipBlock] = {}
    for row in rows:
        blocks.setdefault(row.township, TownshipBlock(row.township)).rows.append(row)
    total = TownshipBlock(_("合计"), rows)
    return render(
        request,
        "monitoring/sweeps/detail.html",
        {
            "sweep": sweep,
            "blocks": list(blocks.values()),
            "total": total,
            "groups": sweeps.group_counts(
                sweeps.sweep_households_for_user(user=request.user, sweep=sweep)
            ),
            "chosen_groups": [
                PriorityGroup(value).label
                for value in sweep.priority_groups
                if value in PriorityGroup.values
            ],
            "can_run": sweeps.can_run_sweeps(request.user),
            # Shown in place of 结束排查 while `sweep_close` would refuse it.
            "close_blocker": (
                sweeps.sweep_close_blocker(sweep)
                if sweeps.can_run_sweeps(request.user) and sweep.state == Sweep.State.OPEN
                else None
            ),
        },
    )


@login_required
def sweep_teams(request: AuthenticatedHttpRequest, sweep_id: int) -> HttpResponse:
    sweep = sweeps.sweep_get_for_user(user=request.user, sweep_id=sweep_id)
    can_run = sweeps.can_run_sweeps(request.user)
    form = forms.SweepTeamForm(
        request.POST if request.method == "POST" else None, county=sweep.county
    )
    if request.method == "POST":
        if not can_run:
            raise PermissionDenied(_("只有县级部门可以分配排查小组。"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                team = sweeps.sweep_team_create(
                    actor=request.user,
                    sweep=sweep,
                    name=data["name"],
                    first_member=data["first_member"],
                    second_member=data["second_member"],
                    villages=data["villages"],
                )
            except ValidationError as error:
                house_forms.add_service_errors(form, error)
            else:
                messages.success(request, _("排查小组“%(team)s”已保存。") % {"team": team.name})
                return redirect("monitoring:sweep-teams", sweep_id=sweep.pk)
    teams = sweep.teams.prefetch_related("villages", "villages__parent")
    if not can_run:
        assert request.user.region is not None
        teams = teams.filter(villages__path__startswith=request.user.region.path).distinct()
    return render(
        request,
        "monitoring/sweeps/teams.html",
        {"sweep": sweep, "teams": teams, "form": form, "can_run": can_run},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def sweep_households(
    request: AuthenticatedHttpRequest, sweep_id: int, village_id: int
) -> HttpResponse:
    """A village's households of the sweep, filterable by priority group and state; ID numbers
    masked; each links its 排查表."""
    sweep = sweeps.sweep_get_for_user(user=request.user, sweep_id=sweep_id)
    village = sweeps.village_get_for_user(user=request.user, sweep=sweep, village_id=village_id)
    queryset = (
        sweeps.sweep_households_for_user(user=request.user, sweep=sweep)
        .filter(village=village)
        .select_related("household")
        .order_by("household__number")
    )
    group = request.GET.get("group", "")
    state = request.GET.get("state", "")
    if group in PriorityGroup.values:
        queryset = sweeps.with_group(queryset, group)
    else:
        group = ""
    if state in SweepHousehold.State.values:
        queryset = queryset.filter(state=state)
    else:
        state = ""
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    heads = {
        member.household_id: member
        for member in Member.objects.filter(
            household_id__in=[row.household_id for row in rows], is_active=True, relation="户主"
        )
    }
    labels = dict(PriorityGroup.choices)
    risk_labels = dict(RiskType.choices)
    items = [
        {
            "row": row,
            "head": heads[row.household_id].name if row.household_id in heads else "",
            "id_number": mask(heads[row.household_id].id_number)
            if row.household_id in heads
            else "",
            "groups": [labels[value] for value in row.groups if value in labels],
            "risks": [risk_labels[value] for value in row.risk_types if value in risk_labels],
        }
        for row in rows
    ]
    return render(
        request,
        "monitoring/sweeps/households.html",
        {
            "sweep": sweep,
            "village": village,
            "page": page,
            "items": items,
            "group": group,
            "state": state,
            "group_choices": PriorityGroup.choices,
            "state_choices": SweepHousehold.State.choices,
        },
    )


@login_required
def sweep_visit(request: AuthenticatedHttpRequest, sweep_household_id: int) -> HttpResponse:
    """The 排查表 of one household, on a phone."""
    row = sweeps.sweep_household_get_for_user(
        user=request.user,
        sweep_household_id=sweep_household_id,
        for_write=request.method == "POST",
    )
    can_record = sweeps.can_record_sweep(request.user) and row.sweep.state == Sweep.State.OPEN
    form = forms.SweepVisitForm(
        request.POST if request.method == "POST" else None,
        initial=forms.visit_initial(row, row.team),
    )
    if request.method == "POST" and form.is_valid():
        try:
            sweeps.sweep_visit_record(
                actor=request.user,
                sweep_household=row,
                visit=sweeps.visit_from(form.cleaned_data),
                expected_version=form.cleaned_data.get("version"),
            )
        except ConflictError as error:
            form.add_error(None, error.messages[0])
        except ValidationError as error:
            house_forms.add_service_errors(form, error)
        else:
            messages.success(request, _("排查表已保存。"))
            return redirect(
                reverse(
                    "monitoring:sweep-households",
                    kwargs={"sweep_id": row.sweep_id, "village_id": row.village_id},
                )
                + "?state=pending"
            )
    head = (
        Member.objects.filter(household_id=row.household_id, is_active=True, relation="户主")
        .only("name")
        .first()
    )
    return render(
        request,
        "monitoring/sweeps/visit.html",
        {
            "row": row,
            "sweep": row.sweep,
            "head": head.name if head else "",
            "form": form,
            "can_record": can_record,
            "groups": [
                PriorityGroup(value).label for value in row.groups if value in PriorityGroup.values
            ],
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def sweep_close(request: AuthenticatedHttpRequest, sweep_id: int) -> HttpResponse:
    sweep = sweeps.sweep_get_for_user(user=request.user, sweep_id=sweep_id, for_run=True)
    try:
        closed = sweeps.sweep_close(actor=request.user, sweep=sweep)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        made = SweepHousehold.objects.filter(sweep=closed, clue__isnull=False).count()
        messages.success(
            request,
            _("集中排查已结束，发现风险的 %(count)s 户已转为风险线索。") % {"count": made},
        )
    return redirect("monitoring:sweep", sweep_id=sweep.pk)
