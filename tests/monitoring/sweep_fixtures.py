"""The sweep the monitoring tests open, and the 排查表 they record (one definition for the
sweep, API, admin and schema tests)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from monitoring import sweeps
from monitoring.models import PriorityGroup, Sweep

START = datetime.date(2026, 6, 1)
END = datetime.date(2026, 6, 30)


def open_sweep(cast: Any, county: Any, **overrides: Any) -> Sweep:
    """The county's 2026 sweep with all ten priority groups, opened by the county office."""
    values: dict[str, Any] = {
        "actor": cast.county,
        "county": county.county,
        "year": 2026,
        "name": "2026年防返贫集中排查",
        "start_date": START,
        "end_date": END,
        "line": Decimal("7000"),
        "groups": PriorityGroup.values,
    }
    values.update(overrides)
    return sweeps.sweep_open(**values)


def visit(**overrides: Any) -> sweeps.Visit:
    """A complete 排查表 by a two-person team, every item secure, income unchanged."""
    values: dict[str, Any] = {
        "visited": True,
        "visited_on": datetime.date(2026, 6, 10),
        "first_surveyor": "张明",
        "second_surveyor": "李华",
        "answers": {
            "food_secure": True,
            "clothing_secure": True,
            "education_secure": True,
            "medical_secure": True,
            "housing_secure": True,
            "water_secure": True,
            "income_change": "same",
        },
    }
    values.update(overrides)
    return sweeps.Visit(**values)
