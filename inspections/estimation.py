"""Design-based ratio estimates with 95 % intervals for a stratified multi-stage sample.

Method (documented in docs/assessment.md):

* Point estimate: the weighted ratio R = Σ w·y / Σ w·x (Horvitz–Thompson totals of the error
  persons y and the persons x of the kind; w is the inverse of the household's inclusion
  probability over all three stages).
* Variance: Taylor linearisation of the ratio, z_k = w_k (y_k − R x_k) / X̂, summed to the
  primary sampling unit (PSU), with the with-replacement "ultimate cluster" estimator
  v = Σ_h n_h/(n_h − 1) Σ_i (z_hi − z̄_h)². For a county the PSUs are the drawn townships
  (every later stage's variance is inside their totals); for a township the PSUs are its villages;
  for a village the households, stratified by kind. Degrees of freedom: PSUs − strata.
* Interval: a Wilson score interval on the design effective sample size n_eff = R(1 − R)/v
  (capped at the sampled denominator units), with Student's t on the design degrees of freedom in
  place of 1.96 — the Korn–Graubard idea, which keeps coverage near 95 % for rare errors where a
  Wald interval would collapse to [0, 0].

Pure Python (no numpy/scipy in the dependencies): the t quantile comes from the regularised
incomplete beta function by bisection and is cached per degree of freedom.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Unit:
    """One sampled unit: its stratum and PSU (for the variance), weight, y (numerator), x."""

    stratum: str
    psu: str
    weight: float
    y: float
    x: float


@dataclass(frozen=True)
class Estimate:
    estimate: float | None
    low: float | None
    high: float | None
    standard_error: float | None
    degrees_of_freedom: int
    effective_n: float | None
    psus: int

    @property
    def available(self) -> bool:
        return self.estimate is not None


def _betacf(a: float, b: float, x: float) -> float:
    # Continued fraction of the incomplete beta (Numerical Recipes, modified Lentz).
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    tail = 0.5 * regularized_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


@lru_cache(maxsize=512)
def t_quantile(probability: float, df: int) -> float:
    """Student's t quantile (df ≥ 1); df = 0 falls back to the normal 1.96-type value."""
    if df <= 0 or df > 10_000:
        df = 10_000
    low, high = 0.0, 1000.0
    for _ in range(100):
        middle = (low + high) / 2
        if t_cdf(middle, df) < probability:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def linearised(units: list[Unit]) -> tuple[float | None, dict[tuple[str, str], float]]:
    """The ratio and the linearised totals z per (stratum, PSU)."""
    total_y = sum(u.weight * u.y for u in units)
    total_x = sum(u.weight * u.x for u in units)
    if total_x <= 0:
        return None, {}
    ratio = total_y / total_x
    z: dict[tuple[str, str], float] = defaultdict(float)
    for u in units:
        z[(u.stratum, u.psu)] += u.weight * (u.y - ratio * u.x) / total_x
    return ratio, dict(z)


def variance(z: dict[tuple[str, str], float]) -> tuple[float, int, int]:
    """Ultimate-cluster variance of Σ z, its degrees of freedom and the PSU count."""
    by_stratum: dict[str, list[float]] = defaultdict(list)
    for (stratum, _psu), value in z.items():
        by_stratum[stratum].append(value)
    total = 0.0
    for values in by_stratum.values():
        n = len(values)
        if n < 2:
            continue  # a lone PSU carries no variance information (see docs on collapsing)
        mean = sum(values) / n
        total += n / (n - 1) * sum((v - mean) ** 2 for v in values)
    psus = len(z)
    return total, max(psus - len(by_stratum), 0), psus


def wilson(p: float, n: float, t: float) -> tuple[float, float]:
    if n <= 0:
        return 0.0, 1.0
    t2 = t * t
    denominator = 1 + t2 / n
    centre = (p + t2 / (2 * n)) / denominator
    half = t / denominator * math.sqrt(max(p * (1 - p) / n + t2 / (4 * n * n), 0.0))
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(units: Iterable[Unit], *, confidence: float = 0.95) -> Estimate:
    """Estimate and interval for a ratio of persons (or households) bounded by [0, 1]."""
    units = list(units)
    ratio, z = linearised(units)
    if ratio is None:
        return Estimate(None, None, None, None, 0, None, 0)
    var, df, psus = variance(z)
    t = t_quantile(1 - (1 - confidence) / 2, df)
    sampled = sum(u.x for u in units)
    cap = max(sampled, 1.0)
    floor = max(sum(1 for u in units if u.x > 0), 1)
    if 0 < ratio < 1 and var > 0:
        effective = min(max(ratio * (1 - ratio) / var, 1.0), cap)
    else:
        # No observed variation (e.g. no error at all): fall back to the count of sampled
        # households, not persons, since persons of one household are not independent.
        effective = float(floor)
    low, high = wilson(ratio, effective, t)
    return Estimate(ratio, low, high, math.sqrt(var), df, effective, psus)


def linear_combination(
    parts: list[tuple[float, list[Unit]]],
    *,
    constant: float = 0.0,
    divisor: float = 1.0,
    confidence: float = 0.95,
) -> Estimate:
    """(constant + Σ a_j R_j) / divisor, with the covariance of the R_j taken through the PSUs
    (the same households feed several ratios). Wald interval on t, clipped to [0, 1].

    When no variation is observed (e.g. no omission and no wrongful exit found anywhere) the
    linearised variance is 0 and a Wald interval would collapse to a point; the interval is then
    built from each ratio's own interval (`proportion`, which does not collapse), combined at
    its ends: conservative, never narrower than the evidence allows."""
    total_z: dict[tuple[str, str], float] = defaultdict(float)
    value = constant
    for coefficient, units in parts:
        ratio, z = linearised(units)
        if ratio is None:
            return Estimate(None, None, None, None, 0, None, 0)
        value += coefficient * ratio
        for key, amount in z.items():
            total_z[key] += coefficient * amount
    if divisor <= 0:
        return Estimate(None, None, None, None, 0, None, 0)
    var, df, psus = variance(dict(total_z))
    standard_error = math.sqrt(var) / divisor
    estimate = value / divisor
    if var <= 0:
        low = high = constant
        for coefficient, units in parts:
            part = proportion(units, confidence=confidence)
            ends = (coefficient * (part.low or 0.0), coefficient * (part.high or 0.0))
            low += min(ends)
            high += max(ends)
        return Estimate(
            estimate,
            max(0.0, low / divisor),
            min(1.0, high / divisor),
            standard_error,
            df,
            None,
            psus,
        )
    t = t_quantile(1 - (1 - confidence) / 2, df)
    return Estimate(
        estimate,
        max(0.0, estimate - t * standard_error),
        min(1.0, estimate + t * standard_error),
        standard_error,
        df,
        None,
        psus,
    )
