"""What every browser test shares: Debian's chromium through Playwright, a media folder of its
own, and the database rule below. A test module here needs none of it spelled out again.

Every browser test runs against a live server, so in a real transaction: it flushes the
database when it ends, and tests/conftest.py restores the migrations' reference data for the
next test (the suite's one rule; serialized rollback is refused there)."""

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def pytest_collection_modifyitems(items):
    skip = pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason="Debian chromium is not installed"
    )
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(skip)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between page actions are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
