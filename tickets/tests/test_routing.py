"""Routing of support cases (issue 16, point 3) on the real PostgreSQL: least load,
capacity, skills, presence, the roster, giving back, freed capacity and concurrency."""

import threading
from datetime import date, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from servicedesk import roles
from servicedesk.models import Profile
from staffing import actions as staffing_actions
from staffing.choices import Duty, PresenceStatus
from staffing.models import Absence, RoutingSettings, Shift, StaffMember
from tickets import actions
from tickets.actions.routing import route_waiting, routing_sweep
from tickets.choices import TicketState
from tickets.models import Notification, Ticket, TicketEvent
from tickets.tests.factories import ChannelFactory, MentionFactory, TicketFactory, UserFactory
from tickets.tests.helpers import force_state

pytestmark = pytest.mark.django_db


def desk(*, auto_assign: bool = True, max_open: int = 5) -> None:
    RoutingSettings.objects.update_or_create(
        pk=1, defaults={"auto_assign": auto_assign, "max_open_per_agent": max_open}
    )


def agent_named(name: str, status: str = PresenceStatus.ONLINE, **member: Any) -> Any:
    user = UserFactory(username=name, groups=[roles.SUPPORT_AGENT])
    StaffMember.objects.update_or_create(user=user, defaults={"status": status, **member})
    return user


def waiting(minutes: int = 10, **fields: Any) -> Ticket:
    """A case in the Support pool whose SLA deadline is `minutes` from now."""
    ticket = TicketFactory(sla_due_at=timezone.now() + timedelta(minutes=minutes), **fields)
    return force_state(ticket, TicketState.SUPPORT)


def holding(agent: Any, count: int) -> None:
    for _ in range(count):
        force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)


def load_of(agent: Any) -> int:
    return Ticket.objects.filter(assignee=agent, state=TicketState.IN_PROGRESS).count()


def test_the_least_loaded_agent_gets_the_case_with_an_event() -> None:
    desk()
    anton, olga = agent_named("anton"), agent_named("olga")
    holding(anton, 2)
    holding(olga, 1)
    case = waiting()

    assert route_waiting(now=timezone.now()) == 1

    case.refresh_from_db()
    assert case.state == TicketState.IN_PROGRESS
    assert case.assignee == olga
    assert case.assigned_by_routing and case.assigned_by is None and case.assigned_at
    event = TicketEvent.objects.get(ticket=case, transition="take")
    assert event.actor is None
    assert event.note == "assigned automatically: least load"
    assert event.data["assigned_by"] == "routing"
    assert event.data["load_before"] == 1


def test_ties_go_to_the_agent_idle_longest() -> None:
    desk()
    now = timezone.now()
    anton = agent_named("anton", last_assigned_at=now - timedelta(minutes=1))
    olga = agent_named("olga", last_assigned_at=now - timedelta(minutes=30))
    first, second = waiting(5), waiting(6)

    route_waiting(now=now)

    assert Ticket.objects.get(pk=first.pk).assignee == olga
    assert Ticket.objects.get(pk=second.pk).assignee == anton


def test_capacity_is_respected_and_a_personal_limit_wins() -> None:
    desk(max_open=2)
    anton = agent_named("anton")
    olga = agent_named("olga", max_open=1)
    for minutes in range(5):
        waiting(minutes + 1)

    assert route_waiting(now=timezone.now()) == 3

    assert load_of(anton) == 2
    assert load_of(olga) == 1
    assert Ticket.objects.filter(state=TicketState.SUPPORT, assignee=None).count() == 2


def test_off_means_the_pool() -> None:
    desk(auto_assign=False)
    agent_named("anton")
    case = waiting()

    assert route_waiting(now=timezone.now()) == 0
    assert Ticket.objects.get(pk=case.pk).state == TicketState.SUPPORT


@pytest.mark.parametrize("status", [PresenceStatus.AWAY, PresenceStatus.OFFLINE])
def test_away_and_offline_agents_get_nothing(status: str) -> None:
    desk()
    agent_named("anton", status=status)
    case = waiting()

    assert route_waiting(now=timezone.now()) == 0
    assert Ticket.objects.get(pk=case.pk).assignee is None


def test_only_support_agents_are_routed_to() -> None:
    desk()
    cm = UserFactory(username="carla", groups=[roles.COMMUNITY_MANAGER])
    StaffMember.objects.create(user=cm, status=PresenceStatus.ONLINE)
    waiting()

    assert route_waiting(now=timezone.now()) == 0


def test_skills_narrow_the_choice() -> None:
    desk()
    english = ChannelFactory(slug="forum-en")
    german_only = agent_named("anton", languages=["de"])
    forum_agent = agent_named("olga", channels=["forum-en"], languages=["en"])
    holding(forum_agent, 3)  # more loaded, yet the only fit
    case = waiting(channel=english, mention=False)
    MentionFactory(ticket=case, channel=english, language="en-GB")
    german = waiting(mention=False)
    MentionFactory(ticket=german, channel=german.channel, language="de")

    assert route_waiting(now=timezone.now()) == 2

    assert Ticket.objects.get(pk=case.pk).assignee == forum_agent
    assert Ticket.objects.get(pk=german.pk).assignee == german_only


def test_a_case_nobody_fits_stays_in_the_pool_and_does_not_block_others() -> None:
    desk()
    agent_named("anton", languages=["de"])
    french = waiting(1, mention=False)
    MentionFactory(ticket=french, channel=french.channel, language="fr")
    later = waiting(20)

    assert route_waiting(now=timezone.now()) == 1
    assert Ticket.objects.get(pk=french.pk).state == TicketState.SUPPORT
    assert Ticket.objects.get(pk=later.pk).state == TicketState.IN_PROGRESS


def test_the_roster_decides_who_is_on_support_duty() -> None:
    desk()
    now = timezone.now()
    local = now.astimezone(timezone.get_default_timezone())
    anton, olga = agent_named("anton"), agent_named("olga")
    Shift.objects.create(
        user=anton, duty=Duty.SUPPORT, weekday=local.weekday(), starts=time(0), ends=time(0)
    )
    Shift.objects.create(  # olga holds review duty only
        user=olga, duty=Duty.REVIEW, weekday=local.weekday(), starts=time(0), ends=time(0)
    )
    holding(anton, 3)
    case = waiting()

    route_waiting(now=now)

    assert Ticket.objects.get(pk=case.pk).assignee == anton


def test_an_absent_agent_gets_nothing_and_his_stand_in_takes_his_duty() -> None:
    desk()
    now = timezone.now()
    today = now.astimezone(timezone.get_default_timezone()).date()
    anton, olga = agent_named("anton"), agent_named("olga")
    Shift.objects.create(
        user=anton, duty=Duty.SUPPORT, weekday=today.weekday(), starts=time(0), ends=time(0)
    )
    Absence.objects.create(user=anton, starts_on=today, ends_on=today, stand_in=olga)
    case = waiting()

    route_waiting(now=now)

    assert Ticket.objects.get(pk=case.pk).assignee == olga


def test_going_offline_gives_untaken_cases_back_to_routing() -> None:
    desk()
    anton, olga = agent_named("anton"), agent_named("olga")
    holding(anton, 4)  # olga is less loaded: she gets both cases
    untaken, touched = waiting(1), waiting(2)
    route_waiting(now=timezone.now())
    assert set(Ticket.objects.filter(assignee=olga).values_list("pk", flat=True)) == {
        untaken.pk,
        touched.pk,
    }
    actions.add_note(Ticket.objects.get(pk=touched.pk), actor=olga, text="Ich schaue nach.")

    staffing_actions.set_presence(olga, PresenceStatus.OFFLINE, now=timezone.now())
    changed = actions.presence_changed(olga.pk, now=timezone.now())

    assert changed == 2  # one returned, then routed again
    assert Ticket.objects.get(pk=untaken.pk).assignee == anton
    assert Ticket.objects.get(pk=touched.pk).assignee == olga  # she worked on it: it stays
    back = TicketEvent.objects.get(ticket=untaken, transition="release")
    assert back.actor is None and back.note.endswith("is offline")


def test_the_sweep_gives_back_cases_of_agents_who_went_away_by_inactivity() -> None:
    desk()
    now = timezone.now()
    anton = agent_named("anton", last_seen_at=now)
    olga = agent_named("olga", last_seen_at=now)
    holding(anton, 1)
    case = waiting()
    route_waiting(now=now)
    assert Ticket.objects.get(pk=case.pk).assignee == olga
    StaffMember.objects.filter(user=anton).update(last_seen_at=now + timedelta(minutes=14))

    routing_sweep(now=now + timedelta(minutes=15))  # olga: no request for 15 min → away

    assert StaffMember.objects.get(user=olga).status == PresenceStatus.AWAY
    assert Ticket.objects.get(pk=case.pk).assignee == anton


def test_freed_capacity_pulls_the_oldest_deadline() -> None:
    desk(max_open=1)
    anton = agent_named("anton")
    held = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=anton)
    newer, older = waiting(30), waiting(3)
    assert route_waiting(now=timezone.now()) == 0

    force_state(held, TicketState.RESOLVED)
    route_waiting(now=timezone.now())

    assert Ticket.objects.get(pk=older.pk).assignee == anton
    assert Ticket.objects.get(pk=newer.pk).assignee is None


def test_a_case_entering_the_pool_or_capacity_freeing_enqueues_routing(
    django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    queued: list[str] = []
    monkeypatch.setattr("servicedesk.queue.delay_safely", lambda name, *args: queued.append(name))
    cm = UserFactory(username="carla", groups=[roles.COMMUNITY_MANAGER])
    with django_capture_on_commit_callbacks(execute=True):
        actions.assign_to_support(TicketFactory(), actor=cm)

    assert queued == ["tickets.tasks.route_support_task"]


def test_a_burst_is_spread_within_one_case_of_equal_load() -> None:
    desk(max_open=100)
    agents = [agent_named(f"agent{i}") for i in range(7)]
    for minutes in range(60):
        waiting(minutes + 1)

    assert route_waiting(now=timezone.now()) == 60

    loads = [load_of(agent) for agent in agents]
    assert sum(loads) == 60 and max(loads) - min(loads) <= 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_assign_one_case_twice_nor_overfill_an_agent() -> None:
    desk(max_open=4)
    agents = [agent_named(f"agent{i}") for i in range(3)]
    cases = [waiting(minutes + 1) for minutes in range(20)]
    barrier = threading.Barrier(4)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                results.append(route_waiting(now=timezone.now(), limit=3))
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(results) == 12  # 3 agents × 4
    assert [load_of(agent) for agent in agents] == [4, 4, 4]
    takes = TicketEvent.objects.filter(transition="take", ticket__in=cases)
    assert takes.count() == 12
    assert takes.values("ticket").distinct().count() == 12
    # The twelve oldest deadlines went first.
    assigned = set(
        Ticket.objects.filter(assignee__isnull=False, pk__in=[c.pk for c in cases]).values_list(
            "pk", flat=True
        )
    )
    assert assigned == {case.pk for case in cases[:12]}


def test_roster_absence_dates_are_inclusive() -> None:
    anton = agent_named("anton")
    Absence.objects.create(user=anton, starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 3))
    from staffing.roster import absent_user_ids

    assert absent_user_ids(date(2026, 1, 3)) == {anton.pk}
    assert absent_user_ids(date(2026, 1, 4)) == set()


def test_one_decision_takes_seven_statements_with_the_roster_cached(
    django_assert_num_queries: Any,
) -> None:
    desk()
    now = timezone.now()
    local = now.astimezone(timezone.get_default_timezone())
    agents = [agent_named(f"agent{i}") for i in range(5)]
    for agent in agents:
        Shift.objects.create(
            user=agent, duty=Duty.SUPPORT, weekday=local.weekday(), starts=time(0), ends=time(0)
        )
        holding(agent, 1)
    first, second = waiting(1), waiting(2)
    route_waiting(now=now, limit=1)  # reads the roster's rows into this process's cache
    assert Ticket.objects.get(pk=first.pk).assignee in agents

    # Settings with the roster version; agents locked; their load; the case claimed with
    # its channel and language; the assignment's UPDATE and event; the agent's notification
    # with his last assignment. Nothing per agent, nothing of the roster. Plus the batch's
    # SAVEPOINT and RELEASE (BEGIN and COMMIT outside a test's transaction).
    with django_assert_num_queries(7 + 2, exact=True) as captured:
        assert route_waiting(now=now, limit=1) == 1

    sql = [query["sql"] for query in captured.captured_queries]
    assert not any("staffing_shift" in statement and "xmin" not in statement for statement in sql)
    assert Ticket.objects.get(pk=second.pk).assignee in agents


def test_a_roster_change_is_seen_by_the_next_decision_despite_the_cache() -> None:
    desk()
    now = timezone.now()
    local = now.astimezone(timezone.get_default_timezone())
    anton, olga = agent_named("anton"), agent_named("olga")
    holding(anton, 3)
    first = waiting(1)
    route_waiting(now=now)  # no roster yet: everyone on duty, olga is less loaded
    assert Ticket.objects.get(pk=first.pk).assignee == olga

    shift = Shift.objects.create(  # a new shift: only anton on support duty
        user=anton, duty=Duty.SUPPORT, weekday=local.weekday(), starts=time(0), ends=time(0)
    )
    second = waiting(2)
    route_waiting(now=now)
    assert Ticket.objects.get(pk=second.pk).assignee == anton

    Shift.objects.filter(pk=shift.pk).update(user=olga)  # an edit in place (no new row)
    third = waiting(3)
    route_waiting(now=now)
    assert Ticket.objects.get(pk=third.pk).assignee == olga

    Absence.objects.create(user=olga, starts_on=local.date(), ends_on=local.date())
    fourth = waiting(4)
    assert route_waiting(now=now) == 0  # olga away: the roster names nobody else
    Shift.objects.all().delete()  # no roster any more: anyone online again
    route_waiting(now=now)
    assert Ticket.objects.get(pk=fourth.pk).assignee == anton
    assert Ticket.objects.get(pk=fourth.pk).state == TicketState.IN_PROGRESS


def test_the_notification_of_an_automatic_assignment_is_in_the_agents_language() -> None:
    desk()
    anton, olga = agent_named("anton"), agent_named("olga")
    Profile.objects.update_or_create(user=anton, defaults={"language": "en"})
    Profile.objects.update_or_create(user=olga, defaults={"language": "de"})
    holding(olga, 1)
    case, later = waiting(1), waiting(2)

    route_waiting(now=timezone.now())

    assert Notification.objects.get(user=anton, ticket=case).text == (
        f"Ticket #{case.pk} was assigned to you automatically."
    )
    assert Notification.objects.get(user=olga, ticket=later).text == (
        f"Ticket #{later.pk} wurde Ihnen automatisch zugewiesen."
    )
