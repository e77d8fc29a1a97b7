"""Every browser test runs against a live server, so in a real transaction, and restores the
database it found (serialized rollback). One rule for the whole folder: a test without
`serialized_rollback` flushes the database and lets post_migrate recreate the content types
under new ids, and the next test that restores the serialized state then collides with them
(UNIQUE constraint failed: django_content_type)."""

import pytest


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))
