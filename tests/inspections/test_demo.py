"""The demo county's assessment: finished, one veto failing, rectification in every state."""

from __future__ import annotations

from households import demo
from inspections import demo as inspections_demo
from inspections.figures import exit_board
from inspections.models import Campaign, CorrectionTask, RectificationItem
from inspections.selectors import is_overdue


def test_demo_campaign_fails_one_veto_and_fills_every_state(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    result = demo.build_registry(households=2500, seed=2020)
    inspections_demo.step(result=result, seed=2020)
    inspections_demo.step(result=result, seed=2020)  # idempotent
    campaign = Campaign.objects.get()
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
