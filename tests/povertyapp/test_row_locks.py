"""The row-lock rule of tests/conftest.py (`_row_locks_inside_a_transaction`) can fail: a lock
taken with only the test's own transactions around it is refused, one inside a transaction of
the code's own passes, judged where the query runs rather than where it is built."""

from __future__ import annotations

import pytest
from django.db import transaction

from povertyapp.models import Region


@pytest.mark.django_db
def test_a_lock_outside_the_codes_own_transaction_fails_and_one_inside_passes():
    with pytest.raises(AssertionError, match="outside a transaction of the code's own"):
        Region.objects.select_for_update().first()
    with transaction.atomic():
        Region.objects.select_for_update().first()
    built_inside = None
    with transaction.atomic():
        built_inside = Region.objects.select_for_update()
    with pytest.raises(AssertionError, match="ran outside a transaction"):
        list(built_inside)
    built_outside = Region.objects.select_for_update()
    with transaction.atomic():
        list(built_outside)
