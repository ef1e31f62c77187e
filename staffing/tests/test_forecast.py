"""The staffing forecast's arithmetic on synthetic histories with known answers."""

import math

import pytest

from staffing.forecast import (
    agents_needed,
    erlang_c,
    hour_of_week_profile,
    plan_week,
    service_level,
)

MONDAY_10 = 10


def test_erlang_c_matches_the_textbook_value() -> None:
    # A = 2 Erlangs, N = 3: B = 4/19, C = 4/9.
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang_c(2, 2.0) == 1.0  # N ≤ A: everyone waits
    assert erlang_c(5, 0.0) == 0.0


def test_service_level_of_one_agent() -> None:
    # λ = 6/h, AHT 300 s → A = 0.5; C(1, 0.5) = 0.5; P(wait > 600 s) = 0.5·e^(−1).
    level = service_level(1, rate_per_hour=6, handling_seconds=300, target_seconds=600)

    assert level == pytest.approx(1 - 0.5 * math.exp(-1))


def test_agents_needed_for_a_service_level() -> None:
    common = {"rate_per_hour": 6, "handling_seconds": 300, "target_seconds": 600}

    assert agents_needed(level=0.8, **common) == 1  # reaches 81.6 %
    assert agents_needed(level=0.9, **common) == 2
    assert agents_needed(rate_per_hour=0, handling_seconds=300, target_seconds=600, level=0.8) == 0
    # 60 an hour of 6 minutes each is 6 Erlangs: 6 agents never catch up; with 7,
    # C(7, 6) ≈ 0.614 and P(wait > 600 s) ≈ 0.614·e^(−600/360) ≈ 0.116 → 88 %.
    busy = {"rate_per_hour": 60, "handling_seconds": 360, "target_seconds": 600}
    assert service_level(6, **busy) == 0.0
    assert service_level(7, **busy) == pytest.approx(0.884, abs=0.002)
    assert agents_needed(level=0.8, **busy) == 7
    assert agents_needed(level=0.9, **busy) == 8


def test_a_flat_history_gives_its_hourly_profile_without_trend() -> None:
    week = [0.0] * 168
    week[MONDAY_10] = 6
    expected, trend = hour_of_week_profile([week, week, week, week])

    assert trend == 1.0
    assert expected[MONDAY_10] == 6
    assert sum(expected) == 6


def test_a_rising_last_week_scales_the_profile_by_the_trend() -> None:
    quiet = [1.0] * 168
    busy = [2.0] * 168
    expected, trend = hour_of_week_profile([quiet, quiet, busy])

    # mean week = 4/3 per hour; last week 2 per hour → trend 1.5.
    assert trend == pytest.approx(1.5)
    assert expected[0] == pytest.approx(4 / 3 * 1.5)


def test_the_trend_is_clipped() -> None:
    zero = [0.0] * 168
    spike = [10.0] * 168
    _expected, trend = hour_of_week_profile([zero, zero, zero, spike])

    assert trend == 2.0


def test_a_week_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        hour_of_week_profile([[1.0] * 24])


def test_the_plan_marks_understaffed_hours() -> None:
    expected = [0.0] * 168
    expected[MONDAY_10] = 6
    expected[MONDAY_10 + 1] = 6

    plan = plan_week(expected, {MONDAY_10: 2}, handling_seconds=300, target_seconds=600, level=0.9)

    assert (plan[MONDAY_10].needed, plan[MONDAY_10].understaffed) == (2, False)
    assert (plan[MONDAY_10 + 1].needed, plan[MONDAY_10 + 1].understaffed) == (2, True)
    assert not any(hour.understaffed for hour in plan if hour.expected == 0)
