"""BreachedFirst pages a ticket list in exactly the order of one full sort (breached running
clocks first, then by deadline and arrival), without sorting the whole list per page."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tickets.choices import TicketState
from tickets.models import SlaBreach, Ticket
from tickets.tests.factories import SlaClockFactory, TicketFactory
from tickets.tests.helpers import force_state
from tickets.views.inbox import BreachedFirst, with_list_columns

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed_queue() -> Any:
    """12 tickets: some breached, some past due but not (yet) recorded, some in time, some
    without any clock, in an order where deadlines and breaches interleave."""
    now = timezone.now()
    for index in range(12):
        ticket = force_state(TicketFactory(), TicketState.SUPPORT)
        if index % 4 == 3:
            continue  # no running clock: sla_due_at stays empty, sorted last
        due_at = now + timedelta(minutes=(index * 7) % 11 - 5)
        clock = SlaClockFactory(ticket=ticket, due_at=due_at)
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due_at)
        if due_at < now and index % 2 == 0:
            SlaBreach.objects.create(clock=clock, due_at=due_at, detected_at=now)
    return now


@pytest.mark.parametrize(("start", "stop"), [(0, 5), (3, 8), (5, 12), (0, 12), (10, 20)])
def test_every_page_matches_the_full_sort(mixed_queue: Any, start: int, stop: int) -> None:
    queryset = Ticket.objects.filter(state=TicketState.SUPPORT)
    expected = [ticket.pk for ticket in with_list_columns(queryset, now=mixed_queue)]

    page = BreachedFirst(queryset, now=mixed_queue)[start:stop]

    assert [ticket.pk for ticket in page] == expected[start:stop]
    assert SlaBreach.objects.exists()  # the fixture really mixes breached tickets in
