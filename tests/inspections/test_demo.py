"""The demo county's assessments: one finished, one veto failing, rectification in every state;
one under way, with households left for the demo assessor to visit."""

from __future__ import annotations

from households import demo
from inspections import demo as inspections_demo
from inspections.desk import campaign_items
from inspections.figures import exit_board
from inspections.models import Campaign, CorrectionTask, Finding, RectificationItem
from inspections.selectors import can_record_findings, is_overdue


def test_demo_campaign_fails_one_veto_and_fills_every_state(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    result = demo.build_registry(households=2500, seed=2020)
    inspections_demo.step(result=result, seed=2020)
    inspections_demo.step(result=result, seed=2020)  # idempotent
    campaign = Campaign.objects.get(kind=Campaign.Kind.THIRD_PARTY)
    assert campaign.status == Campaign.Status.FINISHED and campaign.seed == 2020
    assert campaign.villages.count() == 9
    board = exit_board(campaign)
    failing = [v.key for v in board["vetoes"] if not v.passed]
    assert failing == ["comprehensive_incidence"]
    assert board["verdict"].passed is False
    assert CorrectionTask.objects.filter(kind="removed").count() == 2
    states = set(RectificationItem.objects.values_list("status", flat=True))
    assert states == {"待整改", "整改中", "已整改", "已销号"}
    assert any(is_overdue(item) for item in RectificationItem.objects.all())


def test_demo_assessor_has_a_self_check_under_way(db, settings, tmp_path):
    """The demo 评估/审计员 finds an assessment assigned to them, visited since two days ago:
    the first sampled village confirmed, drafts in the second, households left to visit."""
    settings.MEDIA_ROOT = tmp_path
    result = demo.build_registry(households=600, seed=1)
    inspections_demo.step(result=result, seed=1)
    campaign = Campaign.objects.get(kind=Campaign.Kind.SELF_CHECK)
    assessor = result["users"]["auditor"]
    assert campaign.status == Campaign.Status.DRAWN
    assert can_record_findings(assessor, campaign)
    first, second = campaign.villages.order_by("position")[:2]
    assert all(s.finding.status == Finding.Status.CONFIRMED for s in first.households.all())
    drafts = [s for s in second.households.all() if hasattr(s, "finding")]
    assert [d.finding.status for d in drafts] == [Finding.Status.DRAFT] * 3
    assert campaign.households.filter(finding__isnull=True).count() > 0
    assert [item.count for item in campaign_items(assessor)] == [1]
