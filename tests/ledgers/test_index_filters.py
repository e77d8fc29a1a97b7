"""The ledger page's filter form and its starting values come from the registered ledgers
(`Ledger.filter_form`, `Ledger.default_filters`), not from the platform importing an app; the
household import's pages keep their `ledgers:` names under `/ledgers/import/`."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse
from django.utils import timezone

from households.filters import HouseholdFilter
from households.models import ValueList
from povertyapp import ledgers

pytestmark = pytest.mark.django_db


def test_the_household_ledgers_give_the_form_and_the_income_year():
    filter_form, defaults = ledgers.index_filters()
    assert filter_form is HouseholdFilter
    assert defaults == {"income_year": timezone.localdate().year - 1}


def test_index_shows_the_registered_form_and_year(client_for, cast):
    text = client_for(cast.cadre).get(reverse("ledgers:index")).content.decode()
    assert 'name="cause"' in text
    assert f'value="{timezone.localdate().year - 1}"' in text


def test_with_no_ledger_declaring_a_form_there_is_none(client_for, cast, monkeypatch):
    ledgers.discover()
    monkeypatch.setattr(ledgers, "_LEDGERS", {})
    assert ledgers.index_filters() == (None, {})
    ledgers.register(ledgers.Ledger(key="plain", title="plain", sheets=lambda *, user, filters: []))
    assert ledgers.index_filters() == (None, {})
    response = client_for(cast.cadre).get(reverse("ledgers:index"))
    assert response.status_code == 200
    assert 'name="cause"' not in response.content.decode()


def test_the_first_ledger_in_order_with_a_form_gives_it(monkeypatch):
    ledgers.discover()
    monkeypatch.setattr(ledgers, "_LEDGERS", {})
    for key, order, year in (("late", 20, 2001), ("early", 10, 2002)):
        ledgers.register(
            ledgers.Ledger(
                key=key,
                title=key,
                order=order,
                sheets=lambda *, user, filters: [],
                filter_form=HouseholdFilter,
                default_filters=lambda year=year: {"income_year": year},
            )
        )
    assert ledgers.index_filters() == (HouseholdFilter, {"income_year": 2002})


@pytest.mark.parametrize(
    ("name", "args", "path", "view"),
    [
        ("ledgers:import", [], "/ledgers/import/", "import_page"),
        ("ledgers:import-template", [], "/ledgers/import/template/", "template_download"),
        ("ledgers:import-job", [7], "/ledgers/import/7/", "import_job"),
        ("ledgers:import-confirm", [7], "/ledgers/import/7/confirm/", "import_confirm"),
    ],
)
def test_import_pages_keep_their_addresses_and_names(name, args, path, view):
    assert reverse(name, args=args) == path
    match = resolve(path)
    assert (match.func.__module__, match.func.__name__) == ("households.views.imports", view)


def test_the_causes_and_attributes_are_chosen_from_the_value_lists(client_for, cast):
    """主要致贫原因 and 贫困户属性 are selects of the province's labels (a box to type a label
    into exactly found nothing on a typo); a label asked for that the list no longer holds
    stays offered and chosen."""
    from households.value_lists import list_filter_choices

    labels = list_filter_choices(user=cast.cadre, year=timezone.localdate().year)
    assert labels[ValueList.CAUSE] and labels[ValueList.POVERTY_ATTRIBUTE]
    page = client_for(cast.cadre).get(reverse("ledgers:index"), {"cause": "旧的原因"})
    text = page.content.decode()
    assert '<select name="cause" id="id_cause">' in text
    assert '<select name="attribute" id="id_attribute">' in text
    for label in labels[ValueList.CAUSE]:
        assert f'<option value="{label}">{label}</option>' in text
    assert '<option value="旧的原因" selected>旧的原因</option>' in text
    assert '<option value="" selected>全部</option>' in text  # the attribute, none chosen
