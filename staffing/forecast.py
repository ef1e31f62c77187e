"""The staffing forecast (issue 16, point 5): pure functions, no database.

1. Expected arrivals per hour of the coming week from the desk's own history: for each
   hour of the week (0 = Monday 00:00 desk time … 167), the mean of that hour over the past
   weeks, times the recent trend (the last week's total over the mean weekly total, clipped
   to [0.5, 2]; 1 without enough history). Weeks are weighted equally: a simple, explainable
   profile a team lead can check against his own memory of the desk.
2. Staff needed per hour by **Erlang C** (M/M/N): arrivals Poisson at the expected rate,
   handling time exponential with the measured mean, N agents. The smallest N with
   P(wait ≤ target) ≥ service level, where
   P(wait > t) = C(N, A) · exp(−(N − A) · t / AHT) and A = λ · AHT (traffic in Erlangs).
   Erlang C rather than a simulation: it is exact for its assumptions, instant for 168
   hours, and its known weakness (no abandonment, steady state within an hour) errs on the
   side of more staff, which is the safe side for a 10-minute promise.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

HOURS_PER_WEEK = 168
TREND_LIMITS = (0.5, 2.0)
MAX_AGENTS = 200


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability B(N, A), by the stable recursion B(n) = A·B(n−1) / (n + A·B(n−1))."""
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that an arrival waits, C(N, A); 1 when N ≤ A (the queue grows forever)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return blocking / (1 - (traffic / agents) * (1 - blocking))


def service_level(
    agents: int, *, rate_per_hour: float, handling_seconds: float, target_seconds: float
) -> float:
    """P(wait ≤ target) with `agents` agents."""
    traffic = rate_per_hour * handling_seconds / 3600
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waits = erlang_c(agents, traffic)
    return 1 - waits * math.exp(-(agents - traffic) * target_seconds / handling_seconds)


def agents_needed(
    *, rate_per_hour: float, handling_seconds: float, target_seconds: float, level: float
) -> int:
    """The fewest agents that answer `level` (0–1) of arrivals within `target_seconds`;
    0 when nothing is expected."""
    if rate_per_hour <= 0:
        return 0
    traffic = rate_per_hour * handling_seconds / 3600
    agents = max(1, math.floor(traffic) + 1)
    while agents < MAX_AGENTS:
        reached = service_level(
            agents,
            rate_per_hour=rate_per_hour,
            handling_seconds=handling_seconds,
            target_seconds=target_seconds,
        )
        if reached >= level:
            return agents
        agents += 1
    return MAX_AGENTS


def hour_of_week_profile(weeks: Sequence[Sequence[float]]) -> tuple[list[float], float]:
    """(expected arrivals per hour of the coming week, the trend factor applied) from past
    weeks, oldest first, each 168 hourly counts."""
    if not weeks:
        return [0.0] * HOURS_PER_WEEK, 1.0
    for week in weeks:
        if len(week) != HOURS_PER_WEEK:
            raise ValueError("every week has 168 hours")
    means = [sum(week[hour] for week in weeks) / len(weeks) for hour in range(HOURS_PER_WEEK)]
    trend = 1.0
    mean_total = sum(means)
    if len(weeks) >= 2 and mean_total > 0:
        low, high = TREND_LIMITS
        trend = min(high, max(low, sum(weeks[-1]) / mean_total))
    return [value * trend for value in means], trend


@dataclass(frozen=True)
class HourPlan:
    hour: int  # of the week, 0 = Monday 00:00 desk time
    expected: float
    needed: int
    rostered: int

    @property
    def understaffed(self) -> bool:
        return self.rostered < self.needed


def plan_week(
    expected: Sequence[float],
    rostered: Mapping[int, int],
    *,
    handling_seconds: float,
    target_seconds: float,
    level: float,
) -> list[HourPlan]:
    """Expected arrivals, staff needed and staff rostered for each hour of the week."""
    return [
        HourPlan(
            hour=hour,
            expected=rate,
            needed=agents_needed(
                rate_per_hour=rate,
                handling_seconds=handling_seconds,
                target_seconds=target_seconds,
                level=level,
            ),
            rostered=rostered.get(hour, 0),
        )
        for hour, rate in enumerate(expected)
    ]
