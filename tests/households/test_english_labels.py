"""Fixed value-list labels stored in Chinese (资金来源, the default round name, 享受政策) show in
the user's language; names users typed stay as typed."""

from __future__ import annotations

import datetime
import io

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from assistance import services as assistance_services
from households.models import Household
from povertyapp.models import VillageYear
from rounds import services as rounds
from rounds.models import AdjustmentRound
from tests import factories


@pytest.fixture(autouse=True)
def _chinese_afterwards():
    # The test client's requests activate English in this thread; later tests expect Chinese.
    yield
    translation.activate(settings.LANGUAGE_CODE)


def english(user) -> Client:
    client = Client()
    client.force_login(user, backend="povertyapp.backends.ModelBackendWithRegion")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def test_the_default_round_name_is_translated_a_given_name_is_not(cast, county, household_a):
    for village in (county.village_a, county.village_a2, county.village_b):
        VillageYear.objects.create(
            village=village, year=2020, registered_rural_population=500, total_households=120
        )
    round = rounds.round_open(actor=cast.county, county=county.county, year=2020)
    assert round.name == "2020年动态调整"
    page = english(cast.county).get(f"/rounds/{round.pk}/").content.decode()
    assert "2020 dynamic adjustment" in page and "2020年动态调整" not in page
    # The 四类名单 workbook keeps the official sheet names in English mode.
    assert translation.get_language() == "en"
    workbook = load_workbook(io.BytesIO(rounds.changes_template()))
    assert workbook.sheetnames == ["新识别纳入", "剔除", "返贫", "标注脱贫"]
    AdjustmentRound.objects.filter(pk=round.pk).update(name="黄平县2020年度扶贫对象动态管理")
    page = english(cast.county).get("/rounds/").content.decode()
    assert "黄平县2020年度扶贫对象动态管理" in page


def test_exit_policy_and_fund_sources_show_in_english(cast, county, household_a):
    exited = factories.household(
        actor=cast.county, village=county.village_a, status=Household.Status.EXITED
    )
    Household.objects.filter(pk=exited.pk).update(exit_policy="享受政策")
    client = english(cast.cadre)
    page = client.get(f"/households/{exited.pk}/").content.decode()
    assert "Receiving policy support" in page
    project = assistance_services.project_create(
        actor=cast.county,
        data={
            "name": "凤场村蔬菜大棚",
            "category": "产业",
            "region": county.village_a,
            "year": 2020,
            "responsible_unit": "县农业农村局",
            "planned_start": datetime.date(2020, 3, 1),
            "planned_end": datetime.date(2020, 10, 31),
        },
        fundings={"中央财政专项扶贫资金": "100000.00"},
        beneficiaries=[household_a],
    )
    page = english(cast.county).get(f"/assistance/projects/{project.pk}/").content.decode()
    # The sources table (a row per source, from an aggregate) names the source in English.
    assert "<tr><td>Central government special poverty alleviation funds</td>" in page
    assert "凤场村蔬菜大棚" in page  # the project's name is user data
