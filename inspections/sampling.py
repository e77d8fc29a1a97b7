"""The draw (抽样): a pure, seeded plan over a frame, so the same seed gives the same sample.

Design (DOMAIN §9):

1. Stage 1, townships: `townships_to_draw` townships, simple random sample without replacement
   among the county's townships that have at least one village with households on file.
2. Stage 2, villages: in each drawn township, one village per condition class 好/中/差 (the cells
   township × class are the strata), simple random choice within the cell. With more than three
   villages per township the classes repeat in that order.
   *Fill rule for a missing class*: when the township has no undrawn village of the class, the
   village is drawn from the nearest class (好 → 中 → 差, 差 → 中 → 好, 中 → 好 and 差
   together), and the substitution is noted on the sample village.
3. Stage 3, households: `households_per_village` households, `inside_share` of them (rounded
   half up) inside the registry, split evenly over the registered kinds (remainder to the first
   kinds in protocol order), the rest non-registered.
   *Fill rule for a missing kind*: a kind with fewer households than its quota gives all it has;
   the shortfall goes first to the other kinds on the same side of the registry (the kind with
   the most households left first, one household at a time), then to the other side; a village
   with fewer households than the quota in total gives all it has. Every shortfall is noted.

The random stream is `random.Random(seed)`; inputs are sorted by id before each choice, so the
plan depends only on the seed and the frame.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from inspections import notes as draw_notes
from inspections.models import SampleKind

CLASSES = ("好", "中", "差")
# Where to look when a township has no village of a class left (the fill rule above).
NEAREST_CLASSES = {"好": (("中",), ("差",)), "差": (("中",), ("好",)), "中": (("好", "差"),)}


@dataclass(frozen=True)
class Protocol:
    townships: int = 3
    villages_per_township: int = 3
    households_per_village: int = 43
    inside_share: Decimal = Decimal("0.50")
    registered_kinds: tuple[str, ...] = (
        SampleKind.UNEXITED,
        SampleKind.PRE_EXIT,
        SampleKind.EXITED,
    )

    def quotas(self) -> dict[str, int]:
        inside = int(
            (Decimal(self.households_per_village) * self.inside_share).quantize(
                Decimal("1"), rounding=ROUND_HALF_UP
            )
        )
        kinds = list(self.registered_kinds)
        quotas = {kind: inside // len(kinds) for kind in kinds}
        for kind in kinds[: inside % len(kinds)]:
            quotas[kind] += 1
        quotas[SampleKind.NON_REGISTERED] = self.households_per_village - inside
        return quotas


@dataclass
class FrameVillage:
    """A village as the frame sees it: its class and its households by kind (id, persons)."""

    id: int
    name: str
    township_id: int
    condition: str
    households: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    # Population behind each kind (households, persons) used for the weights; defaults to the
    # households on file. Non-registered households are only partly on file (DOMAIN §4).
    population: dict[str, tuple[int, int]] = field(default_factory=dict)

    def population_of(self, kind: str) -> tuple[int, int]:
        if kind in self.population:
            return self.population[kind]
        rows = self.households.get(kind, [])
        return len(rows), sum(persons for _id, persons in rows)


@dataclass
class DrawnVillage:
    village: FrameVillage
    position: int
    stratum_class: str
    township_probability: float
    village_probability: float
    households: list[tuple[int, str]]  # (household id, kind), in draw order
    notes: list[dict[str, Any]]  # inspections.notes: msgid and parameters


@dataclass
class Draw:
    seed: int
    villages: list[DrawnVillage]
    notes: list[dict[str, Any]]  # inspections.notes: msgid and parameters


def _choose_class_cell(
    rng: random.Random, candidates: list[FrameVillage], target: str
) -> tuple[FrameVillage | None, list[FrameVillage], str | None]:
    """The village for a class cell: (village, the cell it was drawn from, substituted class)."""
    cell = sorted((v for v in candidates if v.condition == target), key=lambda v: v.id)
    if cell:
        return rng.choice(cell), cell, None
    for group in NEAREST_CLASSES[target]:
        cell = sorted((v for v in candidates if v.condition in group), key=lambda v: v.id)
        if cell:
            chosen = rng.choice(cell)
            return chosen, cell, chosen.condition
    return None, [], None


def _allocate(
    protocol: Protocol, available: dict[str, int], village_name: str
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Quota per kind after the fill rule, and the notes saying what was filled."""
    quotas = protocol.quotas()
    take = {kind: min(quota, available.get(kind, 0)) for kind, quota in quotas.items()}
    notes: list[dict[str, Any]] = []
    inside = list(protocol.registered_kinds)
    outside = [SampleKind.NON_REGISTERED.value]
    for kind, quota in quotas.items():
        if take[kind] < quota:
            notes.append(
                draw_notes.note(
                    draw_notes.KIND_SHORT,
                    village=village_name,
                    kind=SampleKind(kind).value,
                    have=available.get(kind, 0),
                    quota=quota,
                )
            )
    for side, other in ((inside, outside), (outside, inside)):
        shortfall = sum(quotas[k] - take[k] for k in side)
        for donors in (side, other):
            while shortfall > 0:
                spare = [
                    (available.get(k, 0) - take[k], -index, k)
                    for index, k in enumerate(donors)
                    if available.get(k, 0) > take[k]
                ]
                if not spare:
                    break
                _left, _order, kind = max(spare)
                take[kind] += 1
                shortfall -= 1
    missing = protocol.households_per_village - sum(take.values())
    if missing > 0:
        notes.append(
            draw_notes.note(
                draw_notes.HOUSEHOLDS_SHORT,
                village=village_name,
                taken=sum(take.values()),
                quota=protocol.households_per_village,
            )
        )
    return take, notes


def plan_draw(
    *,
    seed: int,
    protocol: Protocol,
    townships: dict[int, str],
    villages: Iterable[FrameVillage],
    load_households: Callable[[list[FrameVillage]], None],
) -> Draw:
    """Draw townships, villages and households. `villages` come without households;
    `load_households(chosen)` fills `households` (and `population`) of the chosen villages only,
    so a large county is read only where the sample falls."""
    rng = random.Random(seed)
    by_township: dict[int, list[FrameVillage]] = {}
    for frame_village in villages:
        by_township.setdefault(frame_village.township_id, []).append(frame_village)
    eligible = sorted(t for t in townships if by_township.get(t))
    notes: list[dict[str, Any]] = []
    count = min(protocol.townships, len(eligible))
    if count < protocol.townships:
        notes.append(
            draw_notes.note(draw_notes.TOWNSHIPS_SHORT, n=len(eligible), want=protocol.townships)
        )
    drawn_townships = rng.sample(eligible, count)
    township_probability = count / len(eligible) if eligible else 0.0
    chosen: list[tuple[int, str, FrameVillage, float, list[dict[str, Any]]]] = []
    for township_id in drawn_townships:
        left = list(by_township[township_id])
        for index in range(protocol.villages_per_township):
            target = CLASSES[index % len(CLASSES)]
            village, cell, substituted = _choose_class_cell(rng, left, target)
            if village is None:
                notes.append(
                    draw_notes.note(
                        draw_notes.VILLAGES_SHORT,
                        township=townships[township_id],
                        n=protocol.villages_per_township - index,
                    )
                )
                break
            village_notes: list[dict[str, Any]] = []
            if substituted:
                village_notes.append(
                    draw_notes.note(
                        draw_notes.CLASS_SUBSTITUTED,
                        township=townships[township_id],
                        target=target,
                        used=substituted,
                    )
                )
            left.remove(village)
            chosen.append((township_id, target, village, 1 / len(cell), village_notes))
    load_households([village for _t, _c, village, _p, _n in chosen])
    drawn: list[DrawnVillage] = []
    for position, (_township_id, target, village, probability, village_notes) in enumerate(
        chosen, start=1
    ):
        available = {kind: len(rows) for kind, rows in village.households.items()}
        take, fill_notes = _allocate(protocol, available, village.name)
        households: list[tuple[int, str]] = []
        for kind in (*protocol.registered_kinds, SampleKind.NON_REGISTERED.value):
            rows = sorted(village.households.get(kind, []))
            households += [
                (household_id, kind) for household_id, _persons in rng.sample(rows, take[kind])
            ]
        drawn.append(
            DrawnVillage(
                village=village,
                position=position,
                stratum_class=target,
                township_probability=township_probability,
                village_probability=probability,
                households=households,
                notes=village_notes + fill_notes,
            )
        )
    return Draw(seed=seed, villages=drawn, notes=notes)
