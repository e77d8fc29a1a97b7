"""python manage.py seed_demo --households N --seed S

Builds the demo county (regions, village years, users, households and members, income, events,
pairings), then lets each app add its own demo data. Running it twice duplicates nothing.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from povertyapp import demo

# Each app's demo step, run in this order after the registry. A step receives the registry
# result and must be idempotent.
DEMO_STEPS: list[str] = [
    "households.demo_rounds.build",
    "assistance.demo.step",
    "inspections.demo.step",
]


class Command(BaseCommand):
    help = "Build the demo county (idempotent) and print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--households", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=2020)

    def handle(self, *args: Any, households: int, seed: int, **options: Any) -> None:
        started = time.perf_counter()
        result = demo.build_registry(households=households, seed=seed)
        for step in DEMO_STEPS:
            import_string(step)(result=result, seed=seed)
        elapsed = time.perf_counter() - started
        if result["created"]:
            self.stdout.write(
                f"演示县已建立：{result['county'].county.full_name}，"
                f"{households} 户，用时 {elapsed:.1f} 秒。"
            )
        else:
            self.stdout.write("演示县已存在，未重复创建。")
        self.stdout.write("演示账号（密码均为 demo12345）：")
        for line in demo.describe_users(result["users"]):
            self.stdout.write(line)
