"""monitoring.polling.poll_channel and the dispatcher: leases, cursors, health, backoff, and
a poll interrupted between fetch and commit."""

import logging
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
from django.utils import timezone

from monitoring import actions
from monitoring.models import Channel, Mention
from monitoring.tests.conftest import TOKEN
from monitoring.tests.fakeplatform import FakeResponse
from tickets import polling
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 9, 9, 5, tzinfo=UTC)
NOTIFICATIONS = "/api/v1/notifications"


@pytest.fixture
def mastodon(platform_channel):
    return platform_channel("mastodon", next_poll_at=NOW - timedelta(seconds=1))


def _serve_first_poll(fake_platform):
    fake_platform.serve_payload(
        "GET",
        NOTIFICATIONS,
        "mastodon/notifications_page1",
        "mastodon/notifications_page2",
        "mastodon/notifications_empty",
    )


def test_poll_stores_mentions_through_the_intake_and_advances_cursor_and_health(
    fake_platform, mastodon
):
    _serve_first_poll(fake_platform)

    outcome = polling.poll_channel(mastodon, now=NOW)

    channel = Channel.objects.get(pk=mastodon.pk)
    assert (outcome.status, outcome.created) == ("polled", 3)
    assert Mention.objects.filter(channel=channel).count() == 3
    assert Ticket.objects.filter(channel=channel).count() == 3
    assert channel.cursor == "5003"
    assert (channel.last_polled_at, channel.last_success_at) == (NOW, NOW)
    assert (channel.is_healthy, channel.consecutive_failures, channel.last_error) == (True, 0, "")
    assert channel.lag_seconds == 120.0  # received at 09:05, newest post from 09:03
    assert channel.next_poll_at == NOW + timedelta(seconds=60)
    assert channel.poll_lease_until is None


def test_next_poll_continues_from_the_stored_cursor(fake_platform, mastodon):
    _serve_first_poll(fake_platform)
    polling.poll_channel(mastodon, now=NOW)
    fake_platform.serve_payload(
        "GET", NOTIFICATIONS, "mastodon/notifications_new", "mastodon/notifications_empty"
    )

    outcome = polling.poll_channel(mastodon, now=NOW + timedelta(seconds=60))

    assert outcome.created == 1
    assert Channel.objects.get(pk=mastodon.pk).cursor == "5004"
    assert fake_platform.requests[-1].param("min_id") == "5003"


def test_a_channel_not_due_yet_is_not_polled(fake_platform, mastodon):
    _serve_first_poll(fake_platform)

    outcome = polling.poll_channel(mastodon, now=NOW - timedelta(seconds=2))

    assert outcome.status == "skipped"
    assert fake_platform.requests == []


def test_a_leased_channel_is_not_polled_a_second_time(fake_platform, mastodon):
    _serve_first_poll(fake_platform)
    lease = actions.claim_poll_lease(mastodon, now=NOW)

    outcome = polling.poll_channel(mastodon, now=NOW + timedelta(seconds=1))

    assert lease is not None and outcome.status == "skipped"
    assert fake_platform.requests == []


def test_a_poll_whose_lease_was_taken_over_does_nothing(fake_platform, mastodon):
    _serve_first_poll(fake_platform)
    old_lease = actions.claim_poll_lease(mastodon, now=NOW)
    later = old_lease + timedelta(seconds=1)
    actions.claim_poll_lease(mastodon, now=later)  # the old lease expired: someone else's now

    outcome = polling.poll_channel(mastodon, now=later, lease_until=old_lease)

    assert outcome.status == "skipped"
    assert fake_platform.requests == []


def test_dispatcher_leases_each_due_channel_once_even_if_run_twice(platform_channel):
    due = platform_channel("mastodon", slug="due", next_poll_at=NOW)
    platform_channel("mastodon", slug="later", next_poll_at=NOW + timedelta(seconds=1))
    platform_channel("mastodon", slug="inactive", next_poll_at=NOW, is_active=False)

    with patch("tickets.tasks.poll_channel_task.delay") as delay:
        first = actions.dispatch_due_polls(now=NOW)
        second = actions.dispatch_due_polls(now=NOW)

    assert (first, second) == ([due.pk], [])
    lease = Channel.objects.get(pk=due.pk).poll_lease_until
    delay.assert_called_once_with(due.pk, lease.isoformat())


def test_a_channel_whose_poll_task_was_lost_is_dispatched_again_after_its_lease(
    platform_channel,
):
    due = platform_channel("mastodon", slug="due", next_poll_at=NOW)
    with patch("tickets.tasks.poll_channel_task.delay"):
        actions.dispatch_due_polls(now=NOW)
    lease_end = Channel.objects.get(pk=due.pk).poll_lease_until

    with patch("tickets.tasks.poll_channel_task.delay") as delay:
        at_lease_end = actions.dispatch_due_polls(now=lease_end)
        after = actions.dispatch_due_polls(now=lease_end + timedelta(microseconds=1))

    assert (at_lease_end, after) == ([], [due.pk])
    assert delay.call_count == 1


def test_poll_task_polls_under_the_dispatchers_lease(fake_platform, mastodon):
    from tickets import tasks

    _serve_first_poll(fake_platform)
    lease = actions.claim_poll_lease(mastodon, now=NOW)

    with patch("tickets.tasks.timezone.now", return_value=NOW + timedelta(seconds=1)):
        status = tasks.poll_channel_task(mastodon.pk, lease.isoformat())

    assert status == "polled"
    assert Mention.objects.filter(channel=mastodon).count() == 3


def test_429_polls_again_after_retry_after(fake_platform, mastodon):
    fake_platform.serve("GET", NOTIFICATIONS, FakeResponse(429, "", {"Retry-After": "120"}))

    outcome = polling.poll_channel(mastodon, now=NOW)

    channel = Channel.objects.get(pk=mastodon.pk)
    assert outcome.status == "unavailable"
    assert channel.next_poll_at == NOW + timedelta(seconds=120)
    assert channel.poll_lease_until is None
    assert (channel.consecutive_failures, channel.last_error_at) == (1, NOW)
    assert "HTTP 429" in channel.last_error


def test_5xx_backs_off_exponentially(fake_platform, mastodon):
    fake_platform.serve("GET", NOTIFICATIONS, FakeResponse(502, "Bad Gateway"))

    polling.poll_channel(mastodon, now=NOW)
    first = Channel.objects.get(pk=mastodon.pk)
    polling.poll_channel(mastodon, now=first.next_poll_at)
    second = Channel.objects.get(pk=mastodon.pk)

    assert first.next_poll_at == NOW + timedelta(seconds=120)  # 60 s × 2¹
    assert second.next_poll_at == first.next_poll_at + timedelta(seconds=240)  # 60 s × 2²
    assert second.consecutive_failures == 2
    assert second.is_healthy is True


def test_repeated_failures_mark_the_channel_unhealthy_and_success_heals_it(fake_platform, mastodon):
    fake_platform.serve("GET", NOTIFICATIONS, FakeResponse(500, ""))
    at = NOW
    for _attempt in range(actions.UNHEALTHY_AFTER_FAILURES):
        polling.poll_channel(mastodon, now=at)
        at = Channel.objects.get(pk=mastodon.pk).next_poll_at
    unhealthy = Channel.objects.get(pk=mastodon.pk)
    _serve_first_poll(fake_platform)

    polling.poll_channel(mastodon, now=at)

    healed = Channel.objects.get(pk=mastodon.pk)
    assert unhealthy.is_healthy is False
    assert (healed.is_healthy, healed.consecutive_failures, healed.last_error) == (True, 0, "")


def test_401_marks_the_channel_unhealthy_and_stops_polling_until_resumed(fake_platform, mastodon):
    fake_platform.serve("GET", NOTIFICATIONS, FakeResponse(401, {"error": "The token is invalid"}))

    outcome = polling.poll_channel(mastodon, now=NOW)

    channel = Channel.objects.get(pk=mastodon.pk)
    assert outcome.status == "unauthorized"
    assert (channel.is_healthy, channel.next_poll_at) == (False, None)
    assert "HTTP 401" in channel.last_error
    assert not Channel.objects.due_for_poll(NOW + timedelta(days=30)).filter(pk=channel.pk).exists()
    actions.resume_polling(channel, now=NOW + timedelta(hours=1))
    assert Channel.objects.due_for_poll(NOW + timedelta(hours=1)).filter(pk=channel.pk).exists()


def test_a_channel_created_through_the_action_is_due_for_its_first_poll_at_once(user_factory):
    admin = user_factory(is_superuser=True)

    channel, _secret = actions.create_channel(
        actor=admin, slug="new-mastodon", platform="mastodon", name="New", credentials=TOKEN
    )

    assert Channel.objects.due_for_poll(timezone.now()).filter(pk=channel.pk).exists()


def test_malformed_payload_is_recorded_and_backed_off(fake_platform, mastodon, caplog):
    fake_platform.serve("GET", NOTIFICATIONS, FakeResponse(200, "[{"))

    outcome = polling.poll_channel(mastodon, now=NOW)

    channel = Channel.objects.get(pk=mastodon.pk)
    assert outcome.status == "invalid"
    assert "malformed JSON" in channel.last_error
    assert channel.next_poll_at == NOW + timedelta(seconds=120)
    assert Mention.objects.filter(channel=channel).count() == 0
    assert any(f"channel {channel.pk}" in record.getMessage() for record in caplog.records)


def test_credentials_never_reach_last_error_or_the_logs(fake_platform, mastodon, caplog):
    caplog.set_level(logging.DEBUG)
    fake_platform.serve("GET", NOTIFICATIONS, FakeResponse(401, f"token {TOKEN} revoked"))

    polling.poll_channel(mastodon, now=NOW)

    channel = Channel.objects.get(pk=mastodon.pk)
    assert "***" in channel.last_error
    assert TOKEN not in channel.last_error
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_a_poll_interrupted_between_fetch_and_commit_stores_every_mention_exactly_once_when_re_run(
    fake_platform, mastodon
):
    # given a worker that dies after the intake ran but before the transaction committed
    _serve_first_poll(fake_platform)
    real_receive = polling.intake.receive_mentions

    def receive_then_die(*args, **kwargs):
        real_receive(*args, **kwargs)
        raise SystemExit("worker killed")

    with patch.object(polling.intake, "receive_mentions", receive_then_die):
        with pytest.raises(SystemExit):
            polling.poll_channel(mastodon, now=NOW)
    interrupted = Channel.objects.get(pk=mastodon.pk)
    stored_before_rerun = Mention.objects.filter(channel=mastodon).count()

    # when the poll runs again once the dead worker's lease has expired
    _serve_first_poll(fake_platform)
    rerun_at = interrupted.poll_lease_until + timedelta(seconds=1)
    outcome = polling.poll_channel(mastodon, now=rerun_at)

    # then nothing was lost or stored twice, and the cursor moved only with the commit
    assert (interrupted.cursor, stored_before_rerun) == ("", 0)
    assert interrupted.poll_lease_until is not None
    assert outcome.created == 3
    assert Mention.objects.filter(channel=mastodon).count() == 3
    assert Channel.objects.get(pk=mastodon.pk).cursor == "5003"
    assert Ticket.objects.filter(channel=mastodon).count() == 3


def test_a_poll_re_run_after_a_commit_stores_nothing_twice(fake_platform, mastodon):
    _serve_first_poll(fake_platform)
    polling.poll_channel(mastodon, now=NOW)
    # the platform reports the same mentions again (e.g. an old cursor was restored)
    Channel.objects.filter(pk=mastodon.pk).update(cursor="", next_poll_at=NOW)
    _serve_first_poll(fake_platform)

    outcome = polling.poll_channel(mastodon, now=NOW + timedelta(seconds=1))

    assert (outcome.created, outcome.duplicates) == (0, 3)
    assert Mention.objects.filter(channel=mastodon).count() == 3


def test_a_poll_that_lost_the_race_for_the_cursor_writes_nothing(fake_platform, mastodon):
    # given another poll that advanced the cursor while this one was fetching
    _serve_first_poll(fake_platform)
    real_fetch = polling.adapter_for(mastodon).fetch

    def fetch_while_cursor_moves(channel, cursor):
        result = real_fetch(channel, cursor)
        Channel.objects.filter(pk=channel.pk).update(cursor="9999")
        return result

    with patch(
        "monitoring.adapters.mastodon.MastodonAdapter.fetch", side_effect=fetch_while_cursor_moves
    ):
        outcome = polling.poll_channel(mastodon, now=NOW)

    assert outcome.status == "conflict"
    assert Mention.objects.filter(channel=mastodon).count() == 0
    assert Channel.objects.get(pk=mastodon.pk).cursor == "9999"


def test_webhook_channels_are_not_polled(platform_channel, fake_platform):
    channel = platform_channel("webhook", next_poll_at=NOW)

    outcome = polling.poll_channel(channel, now=NOW)

    assert outcome.status == "skipped"
    assert Channel.objects.get(pk=channel.pk).next_poll_at is None
    assert fake_platform.requests == []
