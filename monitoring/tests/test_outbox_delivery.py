"""tickets.outbox through real adapters against fake platforms: retries post once, a crash
after the platform accepted never posts twice, webhook signatures verify."""

import hashlib
import hmac
import threading
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest

from monitoring.tests.conftest import WEBHOOK_SECRET
from monitoring.tests.fakeplatform import FakeResponse, RecordedRequest
from tickets import outbox
from tickets.choices import ReplyStatus
from tickets.models import Reply
from tickets.tests.factories import MentionFactory, ReplyFactory, TicketFactory
from tickets.tests.helpers import force_reply_status

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
HOOK = "/hook"


def _approved_reply(channel, *, external_id="ext-answered", text="Hallo, wir helfen gern."):
    ticket = TicketFactory(channel=channel, mention=False)
    mention = MentionFactory(
        ticket=ticket, channel=channel, customer=ticket.customer, external_id=external_id
    )
    reply = ReplyFactory(ticket=ticket, in_reply_to_mention=mention, text=text)
    return force_reply_status(reply, ReplyStatus.APPROVED, next_attempt_at=NOW)


class IdempotentReceiver:
    """A webhook receiver that de-duplicates by Idempotency-Key, as DESIGN §6 asks."""

    def __init__(self) -> None:
        self.posts: dict[str, str] = {}
        self.lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> FakeResponse:
        key = request.headers["idempotency-key"]
        with self.lock:
            external_id = self.posts.setdefault(key, f"bridge-{len(self.posts) + 1}")
        return FakeResponse(200, {"external_id": external_id})


def test_webhook_reply_is_signed_so_the_receiver_can_verify_it(fake_platform, platform_channel):
    channel = platform_channel("webhook")
    reply = _approved_reply(channel)
    fake_platform.serve_payload("POST", HOOK, "webhook/accepted")

    status = outbox.deliver_reply(reply.pk, now=NOW)

    request = fake_platform.requests_to("POST", HOOK)[0]
    timestamp = request.headers["x-timestamp"]
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(request.headers["x-signature"], f"sha256={expected}")
    assert request.headers["idempotency-key"] == str(reply.pk)
    assert request.json() == {
        "reply_id": reply.pk,
        "ticket": reply.ticket_id,
        "channel": channel.slug,
        "in_reply_to": "ext-answered",
        "text": "Hallo, wir helfen gern.",
        "visibility": "public",
        "recipient": reply.in_reply_to_mention.author_handle,
    }
    reply.refresh_from_db()
    assert (status, reply.status, reply.platform_id) == ("sent", "sent", "bridge-msg-7001")
    assert reply.permalink == "https://bridge.example/messages/7001"


def test_a_signature_made_with_another_secret_does_not_verify(fake_platform, platform_channel):
    channel = platform_channel("webhook")
    reply = _approved_reply(channel)
    fake_platform.serve_payload("POST", HOOK, "webhook/accepted")

    outbox.deliver_reply(reply.pk, now=NOW)

    request = fake_platform.requests_to("POST", HOOK)[0]
    forged = hmac.new(
        b"another-secret",
        request.headers["x-timestamp"].encode() + b"." + request.body,
        hashlib.sha256,
    ).hexdigest()
    assert request.headers["x-signature"] != f"sha256={forged}"


def test_a_send_that_fails_twice_then_succeeds_posts_once(fake_platform, platform_channel):
    channel = platform_channel("webhook")
    reply = _approved_reply(channel)
    receiver = IdempotentReceiver()
    fake_platform.serve(
        "POST", HOOK, FakeResponse(500, "down"), FakeResponse(503, "down"), receiver
    )

    first = outbox.deliver_reply(reply.pk, now=NOW)
    too_early = outbox.deliver_reply(reply.pk, now=NOW + timedelta(seconds=4))
    second = outbox.deliver_reply(reply.pk, now=NOW + timedelta(seconds=5))
    third = outbox.deliver_reply(reply.pk, now=NOW + timedelta(seconds=35))

    reply.refresh_from_db()
    assert (first, too_early, second, third) == ("approved", "approved", "approved", "sent")
    assert len(fake_platform.requests_to("POST", HOOK)) == 3
    assert {r.headers["idempotency-key"] for r in fake_platform.requests} == {str(reply.pk)}
    assert receiver.posts == {str(reply.pk): "bridge-1"}
    assert (reply.status, reply.platform_id, reply.attempts) == ("sent", "bridge-1", 3)


def test_a_reply_failing_every_attempt_ends_failed_with_the_error(fake_platform, platform_channel):
    channel = platform_channel("webhook")
    reply = _approved_reply(channel)
    fake_platform.serve("POST", HOOK, FakeResponse(500, "down"))
    at = NOW

    for _attempt in range(outbox.MAX_ATTEMPTS):
        outbox.deliver_reply(reply.pk, now=at)
        at += timedelta(hours=1)

    reply.refresh_from_db()
    assert (reply.status, reply.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    # In plain words for people; the platform's technical answer stays in the event's data.
    assert reply.last_error == f"{channel.name} could not be reached (attempt 5)."
    failed = reply.ticket.events.get(data__step="failed")
    assert "HTTP 500" in failed.data["detail"]
    # One notification for the reply, not one per attempt.
    assert list(reply.author.notifications.values_list("kind", flat=True)) == ["reply_failed"]
    channel.refresh_from_db()
    assert channel.last_send_failed_at == at - timedelta(hours=1)


def test_a_crash_after_the_webhook_accepted_is_resent_with_the_same_key_and_posted_once(
    fake_platform, platform_channel
):
    # given a worker that dies after the receiver accepted, before `sent` was committed
    channel = platform_channel("webhook")
    reply = _approved_reply(channel)
    receiver = IdempotentReceiver()
    fake_platform.serve("POST", HOOK, receiver)
    with patch.object(outbox, "record_reply_sent", side_effect=RuntimeError("worker killed")):
        with pytest.raises(RuntimeError):
            outbox.deliver_reply(reply.pk, now=NOW)
    stuck = Reply.objects.get(pk=reply.pk)

    # when the sweep finds it in `sending` and the retry it schedules runs
    with patch("tickets.tasks.send_reply_task.delay"):
        outbox.send_pending_replies(now=NOW + timedelta(minutes=3))
    outbox.deliver_reply(reply.pk, now=NOW + timedelta(minutes=4))

    # then the receiver saw the same key twice and kept one post; the reply is sent once
    reply.refresh_from_db()
    keys = [r.headers["idempotency-key"] for r in fake_platform.requests_to("POST", HOOK)]
    assert stuck.status == ReplyStatus.SENDING
    assert keys == [str(reply.pk), str(reply.pk)]
    assert receiver.posts == {str(reply.pk): "bridge-1"}
    assert (reply.status, reply.platform_id) == ("sent", "bridge-1")


def _twitter_reply(platform_channel):
    channel = platform_channel("twitter")
    return _approved_reply(
        channel,
        external_id="1850000000000000002",
        text="Hallo Maike, das Bistro ist heute leider geschlossen.",
    )


def test_a_crash_on_a_platform_without_keys_is_settled_by_finding_the_post(
    fake_platform, platform_channel
):
    reply = _twitter_reply(platform_channel)
    fake_platform.serve_payload("POST", "/2/tweets", "twitter/tweet_created")
    fake_platform.serve_payload("GET", "/2/users/1000/tweets", "twitter/user_tweets")
    with patch.object(outbox, "record_reply_sent", side_effect=RuntimeError("worker killed")):
        with pytest.raises(RuntimeError):
            outbox.deliver_reply(reply.pk, now=NOW)

    with patch("tickets.tasks.send_reply_task.delay") as delay:
        outbox.send_pending_replies(now=NOW + timedelta(minutes=3))

    reply.refresh_from_db()
    assert len(fake_platform.requests_to("POST", "/2/tweets")) == 1
    assert (reply.status, reply.platform_id) == ("sent", "1850000000000000500")
    delay.assert_not_called()


def test_a_crash_on_a_platform_without_keys_ends_failed_when_the_post_is_not_found(
    fake_platform, platform_channel
):
    reply = _twitter_reply(platform_channel)
    fake_platform.serve_payload("POST", "/2/tweets", "twitter/tweet_created")
    fake_platform.serve_payload("GET", "/2/users/1000/tweets", "twitter/mentions_empty")
    with patch.object(outbox, "record_reply_sent", side_effect=RuntimeError("worker killed")):
        with pytest.raises(RuntimeError):
            outbox.deliver_reply(reply.pk, now=NOW)

    with patch("tickets.tasks.send_reply_task.delay"):
        outbox.send_pending_replies(now=NOW + timedelta(minutes=3))

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.FAILED
    assert reply.last_error.startswith("Outcome unknown")
    assert len(fake_platform.requests_to("POST", "/2/tweets")) == 1


def test_a_timeout_on_a_platform_without_keys_is_not_sent_again_blindly(
    fake_platform, platform_channel
):
    reply = _twitter_reply(platform_channel)
    slow = FakeResponse(201, {"data": {"id": "1850000000000000500"}}, delay_seconds=1.5)
    fake_platform.serve("POST", "/2/tweets", slow)
    fake_platform.serve_payload("GET", "/2/users/1000/tweets", "twitter/user_tweets")

    status = outbox.deliver_reply(reply.pk, now=NOW)

    reply.refresh_from_db()
    assert (status, reply.platform_id) == ("sent", "1850000000000000500")
    assert len(fake_platform.requests_to("POST", "/2/tweets")) == 1


def test_a_timeout_on_the_webhook_is_retried_with_the_same_key(fake_platform, platform_channel):
    channel = platform_channel("webhook", config={"timeout_seconds": 0.3})
    reply = _approved_reply(channel)
    receiver = IdempotentReceiver()
    slow = FakeResponse(200, {"external_id": "bridge-1"}, delay_seconds=1)
    fake_platform.serve("POST", HOOK, slow, receiver)

    first = outbox.deliver_reply(reply.pk, now=NOW)
    second = outbox.deliver_reply(reply.pk, now=NOW + timedelta(seconds=5))

    reply.refresh_from_db()
    assert (first, second, reply.status) == ("approved", "sent", "sent")
    assert {r.headers["idempotency-key"] for r in fake_platform.requests} == {str(reply.pk)}


def test_a_2xx_without_external_id_fails_the_reply_without_retry(fake_platform, platform_channel):
    channel = platform_channel("webhook")
    reply = _approved_reply(channel)
    fake_platform.serve_payload("POST", HOOK, "webhook/accepted_without_id")

    status = outbox.deliver_reply(reply.pk, now=NOW)

    reply.refresh_from_db()
    assert (status, reply.status, reply.next_attempt_at) == ("failed", "failed", None)
    assert reply.last_error.startswith(f"{channel.name} refused the reply: its answer")
    assert "external_id" in reply.ticket.events.get(data__step="failed").data["detail"]


def test_a_4xx_from_the_webhook_fails_the_reply_for_good(fake_platform, platform_channel):
    channel = platform_channel("webhook")
    reply = _approved_reply(channel)
    fake_platform.serve("POST", HOOK, FakeResponse(410, {"error": "gone"}))

    status = outbox.deliver_reply(reply.pk, now=NOW)

    reply.refresh_from_db()
    assert (status, reply.status, reply.attempts) == ("failed", "failed", 1)
    assert reply.last_error == (
        f"{channel.name} refused the reply: the platform refused the request (HTTP 410)."
    )


def test_429_from_a_platform_retries_no_earlier_than_retry_after(fake_platform, platform_channel):
    reply = _twitter_reply(platform_channel)
    fake_platform.serve("POST", "/2/tweets", FakeResponse(429, "", {"Retry-After": "300"}))

    status = outbox.deliver_reply(reply.pk, now=NOW)

    reply.refresh_from_db()
    assert (status, reply.next_attempt_at) == ("approved", NOW + timedelta(seconds=300))
