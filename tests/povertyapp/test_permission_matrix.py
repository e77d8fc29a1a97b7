"""The permission matrix (访问控制, 等保 2.0 level 3): every role × every URL of the project,
every API method, every admin page and action, every ledger export, against the table in
`tests/povertyapp/permission_matrix.py`.

The URL names come from walking the URL conf (`get_resolver()`), so a new URL without a row
fails `test_every_url_has_a_row`, and a row for a URL that no longer exists fails
`test_every_row_names_a_url`. The requests run in one test over one fixture set (the demo
county, seeded small), each inside a savepoint that is rolled back, so no request changes what
the next one sees. `PERMISSION_MATRIX_PRINT=1` prints the observed table instead of failing, to
write the row of a new URL (check it before pasting it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.povertyapp import permission_matrix as matrix

UNNAMED = "<unnamed>"


def url_names() -> dict[str, URLPattern]:
    """Every named URL pattern of the project, namespaced ("households:detail"), the first
    pattern of each name (DRF's format-suffix duplicates share it)."""
    found: dict[str, URLPattern] = {}

    def walk(patterns: list[Any], namespace: str) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or UNNAMED
                yield (f"{namespace}:{name}" if namespace else name), pattern

    for name, pattern in walk(get_resolver().url_patterns, ""):
        found.setdefault(name, pattern)
    return found


def test_every_url_has_a_row():
    missing = sorted(set(url_names()) - set(matrix.ROWS) - set(matrix.NOT_REQUESTED))
    assert not missing, "add a row to tests/povertyapp/permission_matrix.py for: " + ", ".join(
        missing
    )


def test_every_row_names_a_url():
    gone = sorted((set(matrix.ROWS) | set(matrix.NOT_REQUESTED)) - set(url_names()))
    assert not gone, "these rows name URLs that no longer exist: " + ", ".join(gone)


def test_every_row_is_well_formed():
    for name, row in matrix.ROWS.items():
        for method, codes in row.methods.items():
            assert method in matrix.METHODS, (name, method)
            assert len(codes) == len(matrix.ROLES), (name, method, codes)
            assert set(codes) <= set(matrix.OUTCOMES), (name, method, codes)
        # Anonymous visitors are sent to sign in everywhere but the public pages.
        if name not in matrix.PUBLIC:
            assert {codes[-1] for codes in row.methods.values()} <= {"L", "5"}, name


# --- the requests ------------------------------------------------------------------------------


def classify(response: Any, *, anonymous: bool) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = response["Location"]
        if location.startswith((resolve_url(settings.LOGIN_URL), "/admin/login/")):
            return "L"
        # The admin answers an object outside the user's queryset with a redirect to its index.
        return "4" if location == reverse("admin:index") else "o"
    # 401 asks for credentials (a token endpoint reached with a session is one); an anonymous
    # 403 from the API is the same refusal.
    if status == 401 or (anonymous and status == 403):
        return "L"
    return {403: "3", 404: "4", 405: "5"}.get(status, "o" if status < 500 else "!")


@contextmanager
def rolled_back(client: Client) -> Iterator[None]:
    """A savepoint rolled back afterwards, around one or more requests and the reads of what
    they wrote; the session survives (a POST to the logout page ends it only inside the
    savepoint)."""
    cookies = {key: morsel.value for key, morsel in client.cookies.items()}
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        for key, value in cookies.items():
            client.cookies[key] = value


def send(client: Client, method: str, url: str) -> Any:
    """One request as the matrix sends it: a PUT or PATCH with an empty JSON body."""
    call = getattr(client, method.lower())
    if method in ("PUT", "PATCH"):
        return call(url, data="{}", content_type="application/json")
    return call(url)


def request(client: Client, method: str, url: str) -> Any:
    """One request inside a savepoint rolled back afterwards (`rolled_back`)."""
    with rolled_back(client):
        return send(client, method, url)


def test_every_role_gets_the_outcome_its_row_says(matrix_world):
    printing = bool(os.environ.get("PERMISSION_MATRIX_PRINT"))
    patterns = url_names()
    names = (
        [name for name in patterns if name not in matrix.NOT_REQUESTED]
        if printing
        else list(matrix.ROWS)
    )
    observed: dict[str, dict[str, str]] = {}
    for name in names:
        row = matrix.ROWS.get(name) or matrix.Row(
            methods=dict.fromkeys(matrix.methods_for(name, patterns[name]), ""), params={}
        )
        url = matrix_world.url(name, patterns[name], row)
        observed[name] = {}
        for method in row.methods:
            observed[name][method] = "".join(
                classify(
                    request(matrix_world.clients[role], method, url),
                    anonymous=role == "anonymous",
                )
                for role in matrix.ROLES
            )
    if printing:
        for name, methods in observed.items():
            params = matrix.ROWS[name].params if name in matrix.ROWS else {}
            print(matrix.format_row(name, methods, params))
        print("ADMIN_ACTIONS =", matrix_world.actions())
        print("EXPORTS =", matrix_world.exports())
        return
    wrong = {
        f"{name} {method}": f"expected {row.methods[method]} got {observed[name][method]}"
        for name, row in matrix.ROWS.items()
        for method in row.methods
        if observed[name][method] != row.methods[method]
    }
    assert not wrong, f"roles {' '.join(matrix.ROLES)}: " + "; ".join(
        f"{key}: {value}" for key, value in wrong.items()
    )
    assert matrix_world.actions() == matrix.ADMIN_ACTIONS
    assert matrix_world.exports() == matrix.EXPORTS


# --- the fixture set ---------------------------------------------------------------------------


class World:
    """The demo county (seeded small) and a signed-in client per role."""

    def __init__(self) -> None:
        from django.contrib import admin

        from povertyapp import demo

        result = demo.seed(households=20, seed=1)
        # The demo's department account (医保) is "yibao".
        usernames = {"department": "yibao"}
        self.users = {
            role: result["users"][usernames.get(role, role)]
            for role in matrix.ROLES
            if role != "anonymous"
        }
        self.clients: dict[str, Client] = {"anonymous": Client(raise_request_exception=False)}
        for role, user in self.users.items():
            client = Client(raise_request_exception=False)
            client.force_login(user, backend="povertyapp.backends.ModelBackendWithRegion")
            self.clients[role] = client
        self._security_rows()
        self._monitoring_rows(result["county"].county)
        self.objects = matrix.objects(self.users)
        self.objects["prefix"] = self.token_prefix
        self.admin_models = {
            f"admin:{model._meta.app_label}_{model._meta.model_name}_": model
            for model in admin.site._registry
        }

    def _monitoring_rows(self, county: Any) -> None:
        """The monitoring configuration the admin shows (issue 15), if the demo made none."""
        from decimal import Decimal

        from monitoring.models import DibaoStandard, LocalRules, MonitoringLine

        MonitoringLine.objects.get_or_create(
            region=county, year=2025, defaults={"kind": "amount", "amount": Decimal("8000")}
        )
        DibaoStandard.objects.get_or_create(
            region=county, year=2025, defaults={"amount": Decimal("4380")}
        )
        LocalRules.objects.get_or_create(region=county)

    def _security_rows(self) -> None:
        """A row of each security and audit model the admin shows (the demo makes none)."""
        from axes.models import AccessAttempt, AccessFailureLog
        from axes.models import AccessLog as AxesAccessLog
        from knox.models import AuthToken

        from povertyapp import audit

        AccessAttempt.objects.create(
            username="cadre", ip_address="10.0.0.1", failures_since_start=1, user_agent="x"
        )
        AxesAccessLog.objects.create(username="cadre", ip_address="10.0.0.1", user_agent="x")
        AccessFailureLog.objects.create(
            username="cadre", ip_address="10.0.0.1", user_agent="x", locked_out=False
        )
        # The cadre's API token: the token pages and endpoints are asked for it by prefix.
        token, _secret = AuthToken.objects.create(user=self.users["cadre"])
        self.token_prefix = token.token_key
        audit.record("login", user=self.users["cadre"], target="session")
        # Second-factor devices, of an account no client signs in with (a device would hold
        # its owner at the verification step).
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from tests import factories

        enrolled = factories.user("enrolled", "village_cadre", self.users["cadre"].region)
        TOTPDevice.objects.create(user=enrolled, name="TOTP", confirmed=True)
        StaticDevice.objects.create(user=enrolled, name="backup", confirmed=True)

    def url(self, name: str, pattern: URLPattern, row: matrix.Row) -> str:
        if name.endswith("_simple_history"):  # django-simple-history's page of one version
            obj = self._admin_object(name)
            return reverse(name, args=[obj.pk, obj.history.order_by("pk").first().pk])
        return reverse(name, kwargs=self.kwargs(name, pattern, row))

    def kwargs(self, name: str, pattern: URLPattern, row: matrix.Row) -> dict[str, Any]:
        params = list(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else []
        params += [p for p in pattern.pattern.regex.groupindex if p not in params]
        values: dict[str, Any] = {}
        for param in params:
            if param in row.params:
                value = row.params[param]
                values[param] = self.objects[value.key] if isinstance(value, matrix.Of) else value
            elif name.startswith("admin:") and param in ("object_id", "id"):
                values[param] = self._admin_object(name).pk
            else:
                values[param] = self.objects[param]
        return values

    def _admin_object(self, name: str) -> Any:

        if name == "admin:auth_user_password_change":  # Django's UserAdmin names it so
            return self.users["cadre"]
        for prefix, model in self.admin_models.items():
            if name.startswith(prefix):
                found = model._default_manager.order_by("pk").first()
                if found is None:
                    raise AssertionError(f"the matrix world has no {model._meta.label} for {name}")
                return found
        raise AssertionError(f"no admin model for {name}")

    def actions(self) -> dict[str, dict[str, list[str]]]:
        """The admin actions each role is offered, per model (only where it is offered any)."""
        from django.contrib import admin

        found: dict[str, dict[str, list[str]]] = {}
        for model, model_admin in admin.site._registry.items():
            for role, user in self.users.items():
                request = RequestFactory().get("/admin/")
                request.user = user
                if not model_admin.has_module_permission(request):
                    continue
                names = sorted(model_admin.get_actions(request))
                if names:
                    found.setdefault(model._meta.label, {})[role] = names
        return found

    def exports(self) -> dict[str, str]:
        """Each ledger export as every role (GET ledgers:export?ledger=key)."""
        from povertyapp import ledgers

        url = reverse("ledgers:export")
        return {
            ledger.key: "".join(
                classify(
                    request(self.clients[role], "GET", f"{url}?ledger={ledger.key}"),
                    anonymous=role == "anonymous",
                )
                for role in matrix.ROLES
            )
            for ledger in ledgers.all_ledgers()
        }


@pytest.fixture
def matrix_world(db, settings) -> World:
    settings.LEDGER_JOB_THRESHOLD = 100_000  # exports answer in the request
    return World()
