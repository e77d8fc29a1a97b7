"""Working-day deadlines count with the holiday calendar: public holidays are skipped and 调休
make-up Saturdays/Sundays count; the county office keeps the calendar in the admin."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from households import workflows
from povertyapp.models import CalendarDay

D = datetime.date


@pytest.mark.django_db
def test_the_seeded_calendar_has_the_published_arrangements():
    days = dict(CalendarDay.objects.values_list("date", "kind"))
    assert days[D(2025, 10, 8)] == "holiday" and days[D(2025, 9, 28)] == "workday"
    assert days[D(2026, 2, 23)] == "holiday" and days[D(2026, 2, 28)] == "workday"
    assert days[D(2027, 2, 8)] == "holiday"
    # Only weekend days are make-up working days.
    assert all(day.weekday() >= 5 for day, kind in days.items() if kind == CalendarDay.Kind.WORKDAY)


@pytest.mark.django_db
def test_national_day_2025_is_skipped_and_the_make_up_saturday_counts():
    # 2025-09-26 (Fri) + 1 working day: Sat 27 no, Sun 28 调休上班 → the 28th.
    assert workflows.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)
    # Then 29, 30 work; 1–8 October off; Thu 9, Fri 10 work; Sat 11 调休上班.
    assert workflows.add_working_days(D(2025, 9, 28), 2) == D(2025, 9, 30)
    assert workflows.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert workflows.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)
    assert workflows.add_working_days(D(2025, 9, 30), 4) == D(2025, 10, 13)


@pytest.mark.django_db
def test_twenty_working_days_across_spring_festival_2026():
    # From Mon 2026-02-02: 9 working days to Fri 13, Sat 14 调休上班 (10th), 15–23 off,
    # Tue 24..Fri 27 (11–14), Sat 28 调休上班 (15th), Mon 2 March..Fri 6 (16–20).
    assert workflows.add_working_days(D(2026, 2, 2), 20) == D(2026, 3, 6)
    # Without the calendar the deadline would have been 2026-03-02, a week too early.
    CalendarDay.objects.all().delete()
    assert workflows.add_working_days(D(2026, 2, 2), 20) == D(2026, 3, 2)


@pytest.mark.django_db
def test_a_day_added_by_the_county_office_moves_the_deadline():
    start = D(2024, 3, 1)  # Friday; no calendar rows for 2024
    assert workflows.add_working_days(start, 1) == D(2024, 3, 4)
    CalendarDay.objects.create(date=D(2024, 3, 4), kind="holiday", name="测试")
    assert workflows.add_working_days(start, 1) == D(2024, 3, 5)


@pytest.mark.django_db
def test_a_make_up_working_day_must_be_a_weekend_day():
    with pytest.raises(ValidationError) as error:
        CalendarDay(date=D(2024, 3, 6), kind="workday", name="错").full_clean()
    assert "调休上班日应为周六或周日" in str(error.value)


def test_the_system_administrator_edits_the_calendar_in_the_admin(cast, client_for):
    # The holiday calendar is a system parameter (三权分立): the system administrator's.
    client = client_for(cast.sysadmin)
    response = client.post(
        "/admin/povertyapp/calendarday/add/",
        {"date": "2027-02-04", "kind": "holiday", "name": "春节"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarDay.objects.get(date=D(2027, 2, 4)).kind == "holiday"
    assert client_for(cast.cadre).get("/admin/povertyapp/calendarday/").status_code in (302, 403)
    assert client_for(cast.county).get("/admin/povertyapp/calendarday/").status_code == 403
