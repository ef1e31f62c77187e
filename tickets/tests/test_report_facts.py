"""The dashboard's report facts (tickets.facts, migration 0006): the triggers keep them equal
to what the source rows say through every kind of change, compaction and rebuild change no
sum, and the percentiles located through them equal PostgreSQL's own `percentile_cont` over
the source rows."""

import importlib
import random
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from tickets import actions, facts, reports, sla, tasks
from tickets.choices import (
    OPEN_STATES,
    STAGE_OF_STATE,
    DepartmentRequestStatus,
    ReplyStatus,
    SlaKind,
    Stage,
    TicketState,
    states_of_stage,
)
from tickets.facts import Metric
from tickets.models import DepartmentRequest, Reply, ReportFact, SlaBreach, SlaClock, Ticket
from tickets.reports import DashboardFilters
from tickets.tests.factories import (
    ChannelFactory,
    DepartmentFactory,
    MentionFactory,
    ReplyFactory,
    SlaClockFactory,
    TicketFactory,
    UserFactory,
)
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 18, 10, 0, tzinfo=UTC)
MIGRATION = importlib.import_module("tickets.migrations.0006_report_facts")


def _sums(metric: str) -> dict[tuple[Any, ...], int]:
    """{(day, channel, kind, person, value, value2): n} of one metric per channel, zero sums
    left out; checks that the rows for all channels hold the sum over the channels."""
    sums: dict[tuple[Any, ...], int] = {}
    everywhere: dict[tuple[Any, ...], int] = {}
    for fact in ReportFact.objects.filter(metric=metric):
        key = (fact.day, fact.channel_id, fact.kind, fact.person_id, fact.value, fact.value2)
        if fact.channel_id == facts.ALL_CHANNELS:
            everywhere[key[:1] + key[2:]] = everywhere.get(key[:1] + key[2:], 0) + fact.n
        else:
            sums[key] = sums.get(key, 0) + fact.n
    over_channels: dict[tuple[Any, ...], int] = {}
    for key, n in sums.items():
        over_channels[key[:1] + key[2:]] = over_channels.get(key[:1] + key[2:], 0) + n
    assert {k: n for k, n in everywhere.items() if n} == {
        k: n for k, n in over_channels.items() if n
    }
    return {key: n for key, n in sums.items() if n}


def _is_breached(clock: SlaClock) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_breached FROM tickets_slaclock WHERE id = %s", [clock.pk])
        return cursor.fetchone()[0]


def _clock(ticket: Ticket, *, started: datetime, seconds: float | None, **fields: Any) -> SlaClock:
    return SlaClockFactory(
        ticket=ticket,
        started_at=started,
        warn_at=started + timedelta(minutes=8),
        due_at=started + timedelta(minutes=10),
        stopped_at=started + timedelta(seconds=seconds) if seconds is not None else None,
        **fields,
    )


def test_the_migration_uses_the_desk_time_zone_and_bucket_width_of_the_code() -> None:
    assert str(sla.DESK_TIME_ZONE) == MIGRATION.DESK_TIME_ZONE
    assert facts.BUCKETS_PER_DOUBLING == {
        Metric.RECEIPT: MIGRATION.RECEIPT_BUCKETS,
        Metric.PERCEIVED: MIGRATION.RECEIPT_BUCKETS,
        Metric.FIRST_RESPONSE_BY: MIGRATION.PERSON_BUCKETS,
        Metric.RESOLUTION_TIME: MIGRATION.RESOLUTION_BUCKETS,
        Metric.ANSWERED: MIGRATION.ANSWER_BUCKETS,
    }
    assert facts.LIVE_DAY.isoformat() == MIGRATION.LIVE_DAY
    for name in ("RECEIPT", "PERCEIVED", "RESOLUTION", "ANSWER"):
        assert getattr(reports, name) == getattr(MIGRATION, name), name


@pytest.mark.parametrize("per_doubling", [4, 8, 16])
def test_duration_buckets_never_decrease_with_the_duration(per_doubling: int) -> None:
    seconds = sorted(
        [-5.0, 0.0, 0.4, 0.999, 1.0, 1.19, 1.2, 59.9, 60.0, 600.0, 86_400.0, 172_800.5]
        + [random.Random(7).uniform(0, 500_000) for _index in range(300)]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sd_duration_bucket(s, %s) FROM unnest(%s::float8[]) s", [per_doubling, seconds]
        )
        buckets = [row[0] for row in cursor.fetchall()]
    assert buckets == sorted(buckets)
    assert buckets[0] == 0 and buckets[-1] > buckets[0]


def test_a_stopped_clock_counts_as_met_on_its_desk_day_and_a_breach_moves_it() -> None:
    ticket = TicketFactory(opened_at=NOW)
    # 23:30 UTC on 06-17 is 01:30 on 06-18 in Berlin: the fact belongs to the desk day 06-18
    clock = _clock(ticket, started=datetime(2025, 6, 17, 23, 30, tzinfo=UTC), seconds=300)
    key = (date(2025, 6, 18), ticket.channel_id, SlaKind.FIRST_RESPONSE, 0, 0, 0)
    assert _sums(Metric.MET) == {key: 1}
    assert _sums(Metric.BREACHED) == {}

    breach = SlaBreach.objects.create(clock=clock, due_at=clock.due_at, detected_at=NOW)
    assert _is_breached(clock)
    assert _sums(Metric.MET) == {}
    assert _sums(Metric.BREACHED) == {key: 1}

    breach.delete()
    assert not _is_breached(clock)
    assert _sums(Metric.MET) == {key: 1}
    assert _sums(Metric.BREACHED) == {}
    assert facts.drift() == []


def test_facts_follow_every_kind_of_change_of_their_source_rows() -> None:
    alpha, beta = ChannelFactory(), ChannelFactory()
    author, other = UserFactory(), UserFactory()
    started = NOW - timedelta(days=2)
    tickets = [TicketFactory(channel=alpha if index % 2 else beta, opened_at=started)
               for index in range(6)]  # fmt: skip
    clocks = [
        _clock(ticket, started=started + timedelta(hours=index), seconds=None,
               posted_at=started - timedelta(minutes=index))
        for index, ticket in enumerate(tickets)
    ]  # fmt: skip
    # stop some (one late), cancel one, breach one running, then stop that one too
    actions.stop_clock(clocks[0], at=clocks[0].started_at + timedelta(minutes=4), stopped_by=author)
    actions.stop_clock(clocks[1], at=clocks[1].started_at + timedelta(minutes=30), stopped_by=other)
    actions.stop_clock(clocks[2], at=clocks[2].started_at + timedelta(minutes=1), cancelled=True)
    assert actions.record_sla_breaches([clocks[3].pk], now=NOW) == 1
    actions.stop_clock(clocks[3], at=NOW, stopped_by=author)
    # an update that touches no counted column adds nothing
    added = ReportFact.objects.count()
    SlaClock.objects.filter(pk=clocks[4].pk).update(warned_at=NOW)
    assert ReportFact.objects.count() == added
    # replies sent and taken back, a resolution and a reopening, mentions in and out
    reply = ReplyFactory(ticket=tickets[0], author=author)
    Reply.objects.filter(pk=reply.pk).update(status=ReplyStatus.SENT, sent_at=NOW)
    ReplyFactory(ticket=tickets[1], author=other)  # a draft: no fact
    resolved = force_state(tickets[0], TicketState.RESOLVED)
    Ticket.objects.filter(pk=resolved.pk).update(transition_count=4, handover_count=2)
    force_state(tickets[1], TicketState.UNSOLVABLE)
    force_state(tickets[1], TicketState.IN_PROGRESS)
    MentionFactory(channel=alpha, received_at=NOW - timedelta(days=1))
    MentionFactory(channel=beta, received_at=NOW, is_own_account=True)
    # deletes (tickets themselves are kept: their mentions protect them)
    stray = MentionFactory(channel=beta, received_at=NOW)
    stray.delete()
    actions.stop_clock(clocks[5], at=NOW, stopped_by=other)
    SlaClock.objects.filter(pk=clocks[5].pk).delete()
    assert facts.drift() == []

    # every metric has rows; the sums are what the source rows say
    for metric in (
        Metric.MET, Metric.BREACHED, Metric.RECEIPT, Metric.PERCEIVED,
        Metric.FIRST_RESPONSE_BY, Metric.RESOLUTION_TIME, Metric.RESOLUTION_DEPTH,
        Metric.REPLIES_SENT, Metric.MENTIONS,
    ):  # fmt: skip
        assert _sums(metric), metric
    assert sum(_sums(Metric.MET).values()) == 1  # clock 0 (clock 1 late, 3 breached, 2 cancelled)
    assert sum(_sums(Metric.BREACHED).values()) == 2
    assert sum(_sums(Metric.FIRST_RESPONSE_BY).values()) == 3
    day = sla.desk_today(timezone.now())
    assert _sums(Metric.RESOLUTION_DEPTH) == {(day, tickets[0].channel_id, "", 0, 4, 2): 1}


def test_compaction_merges_added_rows_and_changes_no_sum() -> None:
    channel = ChannelFactory()
    for index in range(5):
        MentionFactory(channel=channel, received_at=NOW - timedelta(hours=index * 7))
    before = _sums(Metric.MENTIONS)
    assert ReportFact.objects.filter(compacted=False).count() == 10  # each for all channels too

    assert facts.compact() == 10
    assert _sums(Metric.MENTIONS) == before
    assert not ReportFact.objects.filter(compacted=False).exists()
    assert ReportFact.objects.filter(compacted=True).count() == 2 * len(before)  # + all channels

    MentionFactory(channel=channel, received_at=NOW)
    assert facts.compact() == 2
    assert ReportFact.objects.filter(compacted=True).count() == 2 * len(before)
    assert sum(_sums(Metric.MENTIONS).values()) == 6
    assert facts.drift() == []


def test_compaction_drops_keys_whose_count_came_back_to_zero(agent: Any) -> None:
    ticket = TicketFactory(opened_at=NOW)
    facts.compact()
    open_now = ReportFact.objects.filter(metric=Metric.OPEN, channel_id=ticket.channel_id)
    assert [(fact.kind, fact.person_id, fact.n) for fact in open_now] == [("new", 0, 1)]

    force_state(ticket, TicketState.IN_PROGRESS, assignee=agent)
    facts.compact()
    assert [(fact.kind, fact.person_id, fact.n) for fact in open_now.all()] == [
        ("in_progress", agent.pk, 1)
    ]
    assert facts.drift() == []


def test_drift_is_reported_and_a_rebuild_repairs_it() -> None:
    ticket = TicketFactory(opened_at=NOW)
    _clock(ticket, started=NOW, seconds=120)
    call_command("report_facts", "--check")
    ReportFact.objects.filter(metric=Metric.RECEIPT).delete()
    with connection.cursor() as cursor:  # a breach written with the triggers bypassed
        cursor.execute("UPDATE tickets_slaclock SET is_breached = true")
    assert {row["metric"] for row in facts.drift()} >= {Metric.RECEIPT}
    with pytest.raises(CommandError, match="keys differ"):
        call_command("report_facts", "--check")

    call_command("report_facts", "--rebuild")
    assert facts.drift() == []
    assert not ReportFact.objects.filter(compacted=False).exists()
    assert sum(_sums(Metric.MET).values()) == 1  # the stray flag was put right from the breaches


def _direct_percentiles(sql: str, params: list[Any]) -> list[float | None]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchone())


@pytest.mark.parametrize("seed", [1, 2])
def test_percentiles_equal_postgresql_percentile_cont_over_the_source_rows(seed: int) -> None:
    rng = random.Random(seed)
    channels = [ChannelFactory(), ChannelFactory()]
    people = [UserFactory() for _index in range(3)]
    departments = [DepartmentFactory(), DepartmentFactory()]
    today = NOW.date()
    for index in range(240):
        channel = rng.choice(channels)
        started = NOW - timedelta(days=rng.randrange(0, 40), minutes=rng.randrange(0, 1440))
        ticket = TicketFactory(channel=channel, opened_at=started, mention=False)
        seconds = rng.choice(
            [rng.uniform(0, 3), rng.lognormvariate(6, 1.5), float(rng.randrange(0, 900, 60))]
        )
        kind = rng.choice([SlaKind.FIRST_RESPONSE, SlaKind.FIRST_RESPONSE, SlaKind.ENGAGEMENT])
        _clock(
            ticket,
            kind=kind,
            started=started,
            seconds=seconds if index % 9 else None,
            is_cancelled=index % 13 == 0,
            posted_at=started + timedelta(seconds=rng.uniform(-600, 120)) if index % 4 else None,
            stopped_by=rng.choice(people) if kind == SlaKind.FIRST_RESPONSE else None,
        )
        if index % 2 == 0:
            created = started + timedelta(minutes=5)
            answered = created + timedelta(seconds=rng.lognormvariate(11, 1)) if index % 3 else None
            DepartmentRequest.objects.create(
                ticket=ticket,
                department=rng.choice(departments),
                question="Bitte prüfen",
                requested_by=people[0],
                created_at=created,
                due_at=created + timedelta(hours=48),
                status=DepartmentRequestStatus.ANSWERED
                if answered
                else DepartmentRequestStatus.OPEN,
                answered_at=answered,
            )
        if index % 5 == 1:
            force_state(ticket, rng.choice(list(STAGE_OF_STATE)), assignee=rng.choice(people))
        elif index % 3 == 0:
            resolved = force_state(
                ticket, rng.choice([TicketState.RESOLVED, TicketState.UNSOLVABLE])
            )
            Ticket.objects.filter(pk=resolved.pk).update(
                resolved_at=started + timedelta(seconds=rng.lognormvariate(9, 2)),
                transition_count=rng.randrange(1, 9),
                handover_count=rng.randrange(0, 4),
            )
    facts.compact()
    ranges = [
        DashboardFilters(date_from=today - timedelta(days=29), date_to=today),
        DashboardFilters(date_from=today - timedelta(days=9), date_to=today - timedelta(days=3)),
        DashboardFilters(
            date_from=today - timedelta(days=29), date_to=today, channel_id=channels[1].pk
        ),
    ]
    for filters in [*ranges, DashboardFilters(ranges[0].date_from, today, stage=Stage.SUPPORT)]:
        params = [filters.start_at, filters.end_at]
        channel = " AND t.channel_id = %s" if filters.channel_id else ""
        if filters.channel_id:
            params.append(filters.channel_id)
        clocks = f"""
            FROM tickets_slaclock c JOIN tickets_ticket t ON t.id = c.ticket_id
            WHERE c.started_at >= %s AND c.started_at < %s{channel}
              AND c.stopped_at IS NOT NULL AND NOT c.is_cancelled
        """
        times = {row["kind"]: row for row in reports.response_times(filters, now=NOW)}
        for kind in (SlaKind.FIRST_RESPONSE, SlaKind.ENGAGEMENT):
            expected = _direct_percentiles(
                f"""SELECT count(*),
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY {reports.RECEIPT}),
                    percentile_cont(0.9) WITHIN GROUP (ORDER BY {reports.RECEIPT}),
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY {reports.PERCEIVED})
                        FILTER (WHERE c.posted_at IS NOT NULL),
                    percentile_cont(0.9) WITHIN GROUP (ORDER BY {reports.PERCEIVED})
                        FILTER (WHERE c.posted_at IS NOT NULL)
                    {clocks} AND c.kind = %s""",
                [*params, str(kind)],
            )
            got = times[kind]
            assert got["stopped"] == expected[0]
            for key, value in zip(
                ["median_seconds", "p90_seconds", "perceived_median_seconds",
                 "perceived_p90_seconds"],
                expected[1:],
                strict=True,
            ):  # fmt: skip
                assert got[key] == (pytest.approx(value, abs=1e-6) if value is not None else None)

        medians = {
            row["user_id"]: row["median_first_response_seconds"]
            for row in reports.agent_figures(filters, now=NOW)
        }
        for person in people:
            expected = _direct_percentiles(
                f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {reports.RECEIPT})
                    {clocks} AND c.kind = 'first_response' AND c.stopped_by_id = %s""",
                [*params, person.pk],
            )[0]
            assert medians.get(person.pk) == (
                pytest.approx(expected, abs=1e-6) if expected is not None else None
            )

        process = reports.process_depth(filters, now=NOW)
        expected = _direct_percentiles(
            f"""SELECT count(*),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY {reports.RESOLUTION}),
                percentile_cont(0.9) WITHIN GROUP (ORDER BY {reports.RESOLUTION}),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY t.transition_count),
                percentile_cont(0.9) WITHIN GROUP (ORDER BY t.transition_count),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY t.handover_count),
                sum(t.handover_count)
                FROM tickets_ticket t
                WHERE t.state IN ('resolved', 'unsolvable')
                  AND t.resolved_at >= %s AND t.resolved_at < %s{channel}""",
            params,
        )
        assert process["tickets"] == expected[0]
        for key, value in zip(
            ["median_duration_seconds", "p90_duration_seconds", "median_transitions",
             "p90_transitions", "median_handovers", "handovers"],
            expected[1:],
            strict=True,
        ):  # fmt: skip
            assert process[key] == (pytest.approx(value, abs=1e-6) if value is not None else None)
        departments_now = {
            row["department_id"]: row for row in reports.department_times(filters, now=NOW)
        }
        for department in departments:
            expected = _direct_percentiles(
                f"""SELECT count(*), count(r.answered_at),
                    count(*) FILTER (WHERE r.status = 'open'),
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY {reports.ANSWER})
                        FILTER (WHERE r.answered_at IS NOT NULL),
                    percentile_cont(0.9) WITHIN GROUP (ORDER BY {reports.ANSWER})
                        FILTER (WHERE r.answered_at IS NOT NULL),
                    count(*) FILTER (WHERE r.answered_at <= r.due_at),
                    count(*) FILTER (WHERE r.answered_at IS NOT NULL
                                        OR (r.status = 'open' AND r.due_at < %s))
                    FROM tickets_departmentrequest r JOIN tickets_ticket t ON t.id = r.ticket_id
                    WHERE r.created_at >= %s AND r.created_at < %s{channel}
                      AND r.department_id = %s""",
                [NOW, *params, department.pk],
            )
            got = departments_now.get(department.pk)
            if not expected[0]:
                assert got is None
                continue
            for key, value in zip(
                ["requests", "answered", "open", "median_seconds", "p90_seconds", "kept",
                 "decided"],
                expected,
                strict=True,
            ):  # fmt: skip
                assert got[key] == (pytest.approx(value, abs=1e-6) if value is not None else None)

        # the live figures: open tickets by state and per assignee
        stage = " AND t.state = ANY(%s)" if filters.stage else ""
        live_params: list[Any] = [list(OPEN_STATES)]
        if filters.channel_id:
            live_params.append(filters.channel_id)
        if filters.stage:
            live_params.append(list(states_of_stage(filters.stage)))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT t.state, t.assignee_id FROM tickets_ticket t
                    WHERE t.state = ANY(%s){channel}{stage}""",
                live_params,
            )
            open_rows = cursor.fetchall()
        backlog = reports.backlog(filters, now=NOW)
        assert backlog["total"] == len(open_rows)
        by_state = {s["state"]: s["tickets"] for st in backlog["stages"] for s in st["states"]}
        for state, count in by_state.items():
            assert count == sum(1 for row in open_rows if row[0] == state), state
        load = {
            row["user_id"]: row["open_tickets"] for row in reports.agent_figures(filters, now=NOW)
        }
        for person in people:
            assert load.get(person.pk, 0) == sum(1 for row in open_rows if row[1] == person.pk)
        assert reports.live_counts(filters, now=NOW)["open"] == len(open_rows)
    assert facts.drift() == []


def test_a_running_desk_keeps_facts_exact_through_the_sla_sweep() -> None:
    ticket = TicketFactory(opened_at=timezone.now() - timedelta(hours=1))
    _clock(ticket, started=timezone.now() - timedelta(hours=1), seconds=None)
    actions.enforce_sla(now=timezone.now())
    assert SlaBreach.objects.count() == 1
    assert sum(_sums(Metric.BREACHED).values()) == 1
    assert facts.drift() == []


def test_beat_compacts_the_facts_every_minute() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["tickets.compact-report-facts"]
    assert entry["task"] == "tickets.tasks.compact_report_facts_task"
    assert entry["schedule"] == timedelta(seconds=60)
    MentionFactory(received_at=NOW)
    assert tasks.compact_report_facts_task() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_compactions_lose_no_count() -> None:
    channel = ChannelFactory()
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(offset: int) -> None:
        try:
            for index in range(25):
                with transaction.atomic():
                    MentionFactory(channel=channel, received_at=NOW - timedelta(hours=index % 3))
                    ticket = TicketFactory(channel=channel, opened_at=NOW, mention=False)
                    _clock(ticket, started=NOW - timedelta(minutes=offset + index), seconds=90)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connection.close()

    def compact() -> None:
        try:
            while not stop.is_set():
                facts.compact()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    compactors = [threading.Thread(target=compact) for _index in range(2)]
    writers = [threading.Thread(target=write, args=(offset,)) for offset in range(4)]
    for thread in [*compactors, *writers]:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in compactors:
        thread.join()

    assert errors == []
    assert sum(_sums(Metric.MENTIONS).values()) == 100
    assert sum(_sums(Metric.MET).values()) == 100
    assert facts.drift() == []
    facts.compact()
    assert not ReportFact.objects.filter(compacted=False).exists()
    assert facts.drift() == []


@pytest.mark.django_db(transaction=True)
def test_one_dashboard_reads_one_snapshot() -> None:
    channel = ChannelFactory()
    TicketFactory(channel=channel, opened_at=NOW)
    filters = reports.default_filters(timezone.now())
    other = threading.Thread(target=lambda: (TicketFactory(channel=channel), connection.close()))
    with reports.report_session():
        before = reports.live_counts(filters, now=timezone.now())["open"]
        other.start()
        other.join()  # a ticket committed by someone else meanwhile
        assert reports.backlog(filters, now=timezone.now())["total"] == before
    assert reports.live_counts(filters, now=timezone.now())["open"] == before + 1
