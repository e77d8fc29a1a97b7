"""Every page that shows a person's ID number, a household's bank account or a member's health
details in full writes an access-log row that names it, and only the roles that may see them in
full ever do (等保 2.0 level 3: 个人敏感信息的访问审计; DOMAIN §2: masked to anyone else,
in pages, exports, API responses and logs alike).

The class test walks every URL of the project (the permission matrix's world: the demo county,
seeded small, and a signed-in client per role), every tab of the household page, as every role
the matrix lets in, and reads each answer for the world's ID numbers, bank accounts, disability
certificate numbers and illness names: every value of every field encrypted at rest, in every
model (a member's, a household's past versions, a department's clue's). An answer that shows one
must come from a role of `roles.SENSITIVE_ROLES` and must have written an access-log row in the
same request whose `fields` name what it showed (`id_number`, `bank_account`, `health`); a
read's row names no ID number or bank account it did not show. The answers to changes are read
the same way: every POST, PUT, PATCH and DELETE the matrix sends (an empty body), and a save
conflict, which shows the other person's values. Binary answers (workbooks, files) are left out:
each of their downloads is logged by the export and file views, as their own tests check.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from povertyapp.roles import SENSITIVE_ROLES
from tests.povertyapp import permission_matrix as matrix
from tests.povertyapp.test_permission_matrix import World, rolled_back, send, url_names

pytestmark = pytest.mark.django_db

# The field names an access-log row gives for what a page showed.
SHOWN_FIELDS = ("id_number", "bank_account", "health")
# The fields whose every shown value the walk can find: a health status (健康状况) is a word of
# a value list that filters and forms offer too, so a row naming `health` is not checked
# against the page (its certificate numbers and illness names are, the other way round).
FOUND_IN_FULL = ("id_number", "bank_account")
TEXT_TYPES = ("text/html", "application/json", "text/csv", "text/plain")


# The kind a row names for each field of the project encrypted at rest, by the field's name;
# a phone number is encrypted but shown to those who call the household, masked in lists.
ENCRYPTED_KINDS = {
    "id_number": "id_number",
    "bank_account": "bank_account",
    "disability_certificate": "health",
    "illness_name": "health",
    "phone": None,
}


def sensitive_values() -> dict[str, set[str]]:
    """The full values of every model's fields encrypted at rest (a member's, a household's, a
    department's clue's...), by the kind an access-log row names: a disability certificate's
    number (残疾证号) and an illness's name (患病名称) are the health details only the roles
    above see, a number and a name no select offers."""
    from django.apps import apps

    from povertyapp.crypto import EncryptedCharField

    values: dict[str, set[str]] = {"id_number": set(), "bank_account": set(), "health": set()}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, EncryptedCharField):
                continue
            assert field.name in ENCRYPTED_KINDS, f"{model.__name__}.{field.name}: which kind?"
            kind = ENCRYPTED_KINDS[field.name]
            if kind is not None:
                values[kind] |= {
                    value
                    for value in model._default_manager.values_list(field.name, flat=True)
                    if value
                }
    return values


def shown_fields(content: str, values: dict[str, set[str]]) -> set[str]:
    return {field for field, found in values.items() if any(value in content for value in found)}


def logged_read(
    client: Client, url: str, method: str = "GET"
) -> tuple[Any, list[tuple[str, set[str]]]]:
    """One request inside a savepoint rolled back afterwards (a change with an empty body, as
    the permission matrix sends it), with the access-log rows it wrote (action, fields named),
    sign-ins left out."""
    from povertyapp.models import AccessLog

    with rolled_back(client):
        last = AccessLog.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        response = send(client, method, url)
        rows = list(AccessLog.objects.filter(seq__gt=last).values_list("action", "fields"))
    return response, [(action, set(fields or [])) for action, fields in rows if action != "login"]


def page_urls(world: World, method: str = "GET") -> list[tuple[str, str]]:
    """(URL name, URL) of every page the matrix requests with `method`, the household page
    once per tab."""
    from households.views.registry import TABS

    patterns = url_names()
    urls = []
    for name, row in matrix.ROWS.items():
        if method not in row.methods:
            continue
        url = world.url(name, patterns[name], row)
        if name == "households:detail":
            urls += [(f"{name} ?tab={key}", f"{url}?tab={key}") for key, _label in TABS]
        else:
            urls.append((name, url))
    return urls


@pytest.fixture
def world(settings) -> World:
    """The matrix's world, with a household whose bank account and head's ID number were
    corrected once, so that the 修改记录 tab and the admin's history have them to show."""
    from households import services
    from households.models import Household
    from tests import factories

    settings.LEDGER_JOB_THRESHOLD = 100_000
    world = World()
    household = Household.objects.get(pk=world.objects["household_id"])
    head = factories.active_members(household)[0]
    services.household_update(
        actor=world.users["cadre"],
        household=household,
        data={"bank_account": "6228480402564890018"},
        expected_version=household.version,
    )
    head.id_number = factories.id_number(head.birth_date, sex=head.sex)
    head.save()
    return world


def walk(world: World, method: str) -> tuple[int, list[str], list[str], list[str]]:
    """Every URL the matrix requests with `method`, as every role it lets in: the text answers
    read, and the findings (unlogged, overstated, unmasked)."""
    values = sensitive_values()
    assert all(values.values()), f"the world has nothing to look for: {values}"
    unlogged, overstated, unmasked, checked = [], [], [], 0
    for name, url in page_urls(world, method):
        row = matrix.ROWS[name.split(" ")[0]]
        for role, outcome in zip(matrix.ROLES, row.methods[method], strict=True):
            if outcome != "o" or role == "anonymous":
                continue
            response, rows = logged_read(world.clients[role], url, method)
            content_type = response.get("Content-Type", "")
            if not 200 <= response.status_code < 300 and response.status_code not in (400, 409):
                continue
            if not content_type.startswith(TEXT_TYPES):
                continue
            if getattr(response, "streaming", False):
                content = b"".join(response.streaming_content).decode(errors="replace")
            else:
                content = response.content.decode(errors="replace")
            shown = shown_fields(content, values)
            checked += 1
            where = f"{method} {name} as {role}"
            if shown and world.users[role].role not in SENSITIVE_ROLES:
                unmasked.append(f"{where}: shows {sorted(shown)} in full")
            logged = {field for _action, fields in rows for field in fields}
            if not shown <= logged:
                unlogged.append(f"{where}: shows {sorted(shown)}, logs {sorted(logged)}")
            # A read's row (not a print's or an export's, which name what left the system,
            # masked or not) names only what the page showed in full.
            read = {
                field for action, fields in rows if action == "view_sensitive" for field in fields
            }
            if (read & set(FOUND_IN_FULL)) - shown:
                overstated.append(f"{where}: logs {sorted(read)}, shows {sorted(shown)}")
    return checked, unlogged, overstated, unmasked


def findings(unlogged: list[str], overstated: list[str], unmasked: list[str]) -> str:
    return "\n".join(
        ["answers showing full values without an access-log row naming them:", *unlogged]
        + ["access-log rows naming fields the answer did not show:", *overstated]
        + ["answers showing full values to a role that may not see them:", *unmasked]
    )


def test_every_page_that_shows_a_full_id_number_or_account_logs_it(world):
    """And shows it only to the roles that may see it."""
    checked, unlogged, overstated, unmasked = walk(world, "GET")
    assert checked > 300, checked
    assert not unlogged + overstated + unmasked, findings(unlogged, overstated, unmasked)


def test_every_answer_to_a_change_that_shows_a_full_value_logs_it(world):
    """The answers to changes, as the permission matrix sends them (an empty body): a form
    shown again with its errors, a 400 or 409 with the record, an API's answer. What they show
    of the stored values is read like a page's."""
    checked, unlogged, overstated, unmasked = 0, [], [], []
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        found = walk(world, method)
        checked += found[0]
        unlogged, overstated, unmasked = (
            unlogged + found[1],
            overstated + found[2],
            unmasked + found[3],
        )
    assert checked > 300, checked
    assert not unlogged + overstated + unmasked, findings(unlogged, overstated, unmasked)


def test_the_api_answers_to_changes_log_the_stored_values_they_carry(cast, household_a):
    """A PATCH's answer carries the stored record in full (a household with its members'
    ID numbers, whatever the body changed): a read like the GET's, logged alike."""
    from povertyapp.models import AccessLog
    from tests import factories
    from tests.conftest import login

    head = factories.active_members(household_a)[0]
    client = login(cast.cadre)
    answer = client.patch(
        f"/api/v1/households/{household_a.pk}/",
        {"phone": "13900000000", "version": household_a.version},
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert head.id_number in answer.content.decode()
    row = AccessLog.objects.get(action="view_sensitive", target="household")
    assert (row.user, row.object_id) == (cast.cadre, str(household_a.pk))
    assert "id_number" in row.fields and "bank_account" not in row.fields

    head.refresh_from_db()
    answer = client.patch(
        f"/api/v1/members/{head.pk}/",
        {"education": "初中", "version": head.version},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert head.id_number in answer.content.decode()
    row = AccessLog.objects.get(action="view_sensitive", target="member")
    assert (row.object_id, "id_number" in row.fields) == (str(head.pk), True)


def test_the_api_household_answer_reads_its_members_once(cast, household_a):
    """The members the answer shows are the ones its access-log row was written from: one
    statement reads them for both."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import login

    client = login(cast.cadre)
    client.get(f"/api/v1/households/{household_a.pk}/")  # the session and the user, warmed
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(f"/api/v1/households/{household_a.pk}/")
    assert answer.status_code == 200 and answer.json()["members"]
    reads = [q["sql"] for q in captured if q["sql"].startswith('SELECT "households_member"')]
    assert len(reads) == 1, reads


def test_every_sensitive_field_of_the_registry_names_its_kind():
    """A field encrypted at rest or holding a health detail is one whose changes a conflict
    shows masked or logged (`sensitive_reads.FIELD_KINDS`): a new one must be classed."""
    from households.models import Household, Member
    from households.sensitive_reads import FIELD_KINDS, HEALTH_FIELDS
    from povertyapp.crypto import EncryptedCharField

    sensitive = {
        field.name
        for model in (Household, Member)
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedCharField) or field.name in HEALTH_FIELDS
    }
    assert sensitive and sensitive <= set(FIELD_KINDS), sensitive - set(FIELD_KINDS)


def _changed_meanwhile(cast, household, field: str, value: str) -> int:
    """Another person saves `field` of the household; the version the user had loaded."""
    from households import services

    loaded = household.version
    services.household_update(
        actor=cast.cadre, household=household, data={field: value}, expected_version=loaded
    )
    return loaded


def test_a_conflict_shows_the_other_persons_sensitive_values_logged(cast, household_a):
    """A stale save answers with what the other person changed, their values included: in the
    edit form's conflict table and in the API's 409. Every sensitive field of a household is
    tried; each answer that shows one in full wrote a row naming it."""
    from households.models import Household
    from households.sensitive_reads import FIELD_KINDS
    from povertyapp.models import AccessLog
    from tests.conftest import login
    from tests.households.test_pages import _edit_post

    fields = [f.name for f in Household._meta.concrete_fields if f.name in FIELD_KINDS]
    assert fields == ["bank_account"]
    client = login(cast.county)
    for number, field in enumerate(fields):
        household_a.refresh_from_db()
        value = f"62284804025648900{number}1"
        loaded = _changed_meanwhile(cast, household_a, field, value)
        household_a.refresh_from_db()
        stale = dict(_edit_post(household_a, phone="13911112222"), version=str(loaded))
        stale[field] = ""  # what the county officer's form held when loaded
        answer = client.post(f"/households/{household_a.pk}/edit/", stale)
        assert answer.status_code == 200 and "保存冲突" in answer.content.decode()
        assert value in answer.content.decode()
        row = AccessLog.objects.filter(action="view_sensitive").latest("seq")
        assert (row.user, row.object_id, row.fields, row.detail["via"]) == (
            cast.county,
            str(household_a.pk),
            [FIELD_KINDS[field]],
            "conflict",
        )

        last = row.seq
        answer = client.patch(
            f"/api/v1/households/{household_a.pk}/",
            {"phone": "13900000000", "version": loaded},
            content_type="application/json",
        )
        assert answer.status_code == 409 and value in answer.content.decode()
        assert "sensitive" not in answer.json()["changes"][0]
        rows = AccessLog.objects.filter(action="view_sensitive", seq__gt=last)
        assert [(r.object_id, r.fields) for r in rows] == [
            (str(household_a.pk), [FIELD_KINDS[field]])
        ]


def test_a_conflicts_values_are_masked_for_a_role_without_the_right(cast, rf):
    """No page lets such a role save a household, but a conflict's changes never reach one
    in full whoever raised it: marked values masked, and the ID and account numbers of an
    unmarked one; nothing logged."""
    from povertyapp.conflicts import ConflictError, shown_changes
    from povertyapp.models import AccessLog

    error = ConflictError(
        [
            {
                "field": "bank_account",
                "label": "银行账号",
                "old": "",
                "new": "6228480402564890018",
                "who": "cadre",
                "sensitive": "bank_account",
            },
            {
                "field": "illness_name",
                "label": "患病名称",
                "old": "",
                "new": "尘肺病",
                "who": "cadre",
                "sensitive": "health",
            },
            {
                "field": "note",
                "label": "备注",
                "old": "",
                "new": "户主 110101199003071234",
                "who": "cadre",
            },
        ],
        target="household",
        object_id=7,
    )
    for user, new in (
        (cast.auditor, ["622************0018", "***", "户主 110***********1234"]),
        (cast.county, ["6228480402564890018", "尘肺病", "户主 110101199003071234"]),
    ):
        request = rf.get("/")
        request.user = user
        assert [change["new"] for change in shown_changes(request, error)] == new
    assert error.changes[0]["new"] == "6228480402564890018"  # kept for the merge
    row = AccessLog.objects.get(action="view_sensitive")
    assert (row.user, row.target, row.object_id, row.fields) == (
        cast.county,
        "household",
        "7",
        ["bank_account", "health"],
    )
