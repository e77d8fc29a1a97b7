"""python manage.py seed_demo --households N --seed S

Builds the demo county from each app's part, in the order of `settings.DEMO_STEPS`
(`povertyapp.demo.seed`): the registry (regions, users, households and members, income, events,
village years, pairings), rounds, assistance, the assessment, cases at every step of 识别 and
退出, the data-quality check and the 防漏表, and the first history row of every record. Running
it twice changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from povertyapp import demo


class Command(BaseCommand):
    help = "Build the demo county (idempotent) and print the demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--households", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=2020)

    def handle(self, *args: Any, households: int, seed: int, **options: Any) -> None:
        started = time.perf_counter()
        result = demo.seed(households=households, seed=seed)
        elapsed = time.perf_counter() - started
        if result["created"]:
            self.stdout.write(
                f"演示县已建立：{result['county'].county.full_name}，"
                f"{households} 户，用时 {elapsed:.1f} 秒。"
            )
        else:
            self.stdout.write("演示县已存在，未重复创建。")
        self.stdout.write(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
        for line in demo.describe_users(result["users"]):
            self.stdout.write(line)
