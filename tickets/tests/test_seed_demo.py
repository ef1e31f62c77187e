"""`seed_demo`: the demo desk, idempotent, with the sample imported without SLA clocks and a
few cases moved through the real actions."""

import importlib.util
import json
import re
import threading
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from guidelines.models import ReplyTemplate
from monitoring.adapters.base import AdapterError, OutgoingReply
from monitoring.adapters.webhook import WebhookAdapter
from monitoring.models import Channel, Mention
from servicedesk import roles
from tickets import actions, demo, demo_knowledge
from tickets.choices import (
    RESPONSE_CLOCK_KINDS,
    DepartmentRequestStatus,
    DismissReason,
    ReplyKind,
    ReplyStatus,
    SlaKind,
    TicketEventKind,
    TicketState,
)
from tickets.demo import DEMO_USERS, SAMPLE_MENTIONS_PATH
from tickets.demo_history import ARCHIVE_SLUG as ARCHIVE
from tickets.models import Department, SlaClock, Ticket

pytestmark = pytest.mark.django_db

User = get_user_model()
NOW = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)  # the day after the sample's two days
SAMPLE = [json.loads(line) for line in SAMPLE_MENTIONS_PATH.read_text("utf-8").splitlines()]
# The two mentions of the information centre's lost-parcel story (tickets.demo_knowledge).
STORY = {
    ("forum", demo_knowledge.PAST_PARCEL_MENTION.external_id),
    ("demo", demo_knowledge.LIVE_PARCEL_MENTION.external_id),
}


def seed() -> str:
    output = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=output)
    return output.getvalue()


def snapshot() -> dict[str, Any]:
    """Everything that must not change when the seed runs again."""
    return {
        "counts": {
            model._meta.label: model._default_manager.count() for model in apps.get_models()
        },
        "usernames": set(User.objects.values_list("username", flat=True)),
        "users": set(User.objects.values_list("username", "password", "is_superuser")),
        "memberships": set(User.objects.values_list("username", "groups__name")),
        "channels": set(Channel.objects.values_list("slug", flat=True)),
        "channel_settings": {
            (
                channel.slug,
                tuple(channel.own_accounts),
                channel.next_poll_at,
                channel.webhook_secret,
            )
            for channel in Channel.objects.all()
        },
        "departments": set(Department.objects.values_list("slug", flat=True)),
        "templates": set(ReplyTemplate.objects.values_list("key", "language")),
        "mentions": set(Mention.objects.values_list("channel__slug", "external_id")),
        "tickets": set(Ticket.objects.values_list("pk", "state", "assignee_id")),
        "replies": set(
            apps.get_model("tickets", "Reply").objects.values_list("pk", "status", "kind")
        ),
        "tokens": set(Token.objects.values_list("user__username", "key")),
    }


def ticket_of(channel: str, external_id: str) -> Ticket:
    return Mention.objects.get(channel__slug=channel, external_id=external_id).ticket


def test_seed_demo_twice_leaves_exactly_the_data_of_once() -> None:
    seed()
    once = snapshot()

    seed()

    assert snapshot() == once
    live_replies = apps.get_model("tickets", "Reply").objects.exclude(ticket__channel__slug=ARCHIVE)
    assert once["counts"]["tickets.Ticket"] > 0 and live_replies.count() == 3


def test_the_sample_mentions_are_imported_through_the_intake() -> None:
    seed()

    stored = set(
        Mention.objects.exclude(channel__slug=ARCHIVE).values_list("channel__slug", "external_id")
    )
    assert stored == {(row["platform"], row["external_id"]) for row in SAMPLE} | STORY
    assert not Ticket.objects.exclude(channel__slug=ARCHIVE).filter(starts_clocks=True).exists()


def test_demo_data_starts_no_response_clock() -> None:
    seed()

    # The one clock is the 48-hour feedback clock of the demo's department request, started
    # by ask_department like every request; the imported mentions start none (the archive's
    # resolved cases have their stopped clocks: tickets/tests/test_demo_history.py).
    live = SlaClock.objects.exclude(ticket__channel__slug=ARCHIVE)
    assert not live.filter(kind__in=RESPONSE_CLOCK_KINDS).exists()
    assert list(live.values_list("kind", "department_request__department__slug")) == [
        (SlaKind.DEPARTMENT_FEEDBACK, "technical")
    ]


def test_brand_posts_and_replies_join_their_thread_and_open_no_ticket() -> None:
    seed()

    brand_post = Mention.objects.get(channel__slug="twitter", external_id="2119676527114816731")
    thanks = Mention.objects.get(channel__slug="twitter", external_id="2119679905322868989")
    opening = ticket_of("twitter", "2119672633978683046")
    assert brand_post.is_own_account
    assert brand_post.ticket == thanks.ticket == opening
    openers = sum(1 for row in SAMPLE if not row["in_reply_to"])
    assert Ticket.objects.exclude(channel__slug=ARCHIVE).count() == openers + len(STORY)


def test_seed_demo_prints_a_working_login_for_every_role() -> None:
    output = seed()

    for demo_user in DEMO_USERS:
        user = User.objects.get(username=demo_user.username)
        printed = rf"\s{re.escape(demo_user.username)}\s+{re.escape(demo_user.password or '—')}$"
        assert re.search(printed, output, re.MULTILINE)
        if demo_user.password:
            assert user.check_password(demo_user.password)
    assert User.objects.get(username="admin").is_superuser
    groups = {
        name: set(User.objects.filter(groups__name=name).values_list("username", flat=True))
        for name in roles.ALL_GROUPS
    }
    assert groups[roles.COMMUNITY_MANAGER] == {"clara"}
    assert groups[roles.SUPPORT_AGENT] == {"anton", "olga"}
    assert groups[roles.TEAM_LEAD] == {"tina"}
    assert groups[roles.PRIVACY_OFFICER] == {"paula"}
    assert groups[roles.API_CLIENT] == {"demo-bridge"}
    assert len(groups[roles.DEPARTMENT_EXPERT]) == 5


def test_seed_demo_prints_the_api_token_of_the_machine_account() -> None:
    output = seed()

    token = Token.objects.get(user__username="demo-bridge").key
    assert token in output
    assert not User.objects.get(username="demo-bridge").has_usable_password()


def test_each_department_has_one_demo_expert() -> None:
    seed()

    experts = {
        department.slug: [expert.username for expert in department.experts.all()]
        for department in Department.objects.prefetch_related("experts")
    }
    assert experts == {
        "billing": ["berta"],
        "technical": ["theo"],
        "logistics": ["lukas"],
        "sales": ["vera"],
        "product": ["paul"],
    }
    assert Department.objects.get(slug="product").name == "Produktmanagement"


def test_sample_channels_are_push_only_and_carry_the_brands_accounts() -> None:
    seed()

    sample_slugs = {row["platform"] for row in SAMPLE}
    channels = {channel.slug: channel for channel in Channel.objects.all()}
    assert set(channels) == sample_slugs | {"demo", "webhook-demo", ARCHIVE}
    assert not channels[ARCHIVE].is_active and channels[ARCHIVE].next_poll_at is None
    assert all(channels[slug].next_poll_at is None for slug in sample_slugs)
    assert {"@ZugPlus_hilft", "@LindenhausHotels", "@PaketBlitz", "@Telvia_hilft"} <= set(
        channels["twitter"].own_accounts
    )
    assert "@KesslerMotorrad" in channels["twitter"].own_accounts
    assert {channels[slug].platform for slug in ("review", "forum", "blog")} == {"rss"}


def test_the_live_demo_channel_is_polled_every_five_seconds_from_now() -> None:
    seed()

    demo = Channel.objects.get(slug="demo")
    assert (demo.platform, demo.poll_interval_seconds, demo.next_poll_at) == ("demo", 5, NOW)


def test_the_webhook_secret_is_printed_only_by_the_run_that_creates_the_channel() -> None:
    first = seed()
    second = seed()

    channel = Channel.objects.get(slug="webhook-demo")
    assert channel.callback_url == "http://127.0.0.1:8765/"
    assert f"--secret {channel.webhook_secret}" in first
    assert channel.webhook_secret not in second
    assert "bin/webhook_receiver.py" in second


def test_demo_cases_are_moved_through_the_real_actions() -> None:
    seed()

    assigned = ticket_of("facebook", "100030946687379_1068196322801099")
    taken = ticket_of("twitter", "2119739312490309789")
    asking = ticket_of("twitter", "2119764597154989645")
    assert assigned.state == TicketState.SUPPORT
    assert (taken.state, taken.assignee.username) == (TicketState.IN_PROGRESS, "anton")
    assert taken.notes.count() == 1
    assert (asking.state, asking.assignee.username) == (TicketState.WAITING_DEPARTMENT, "olga")
    request = asking.department_requests.get()
    assert (request.department.slug, request.status) == ("technical", DepartmentRequestStatus.OPEN)
    assert list(request.shared_mentions.all()) == list(asking.mentions.all())
    assert list(
        taken.events.filter(kind=TicketEventKind.TRANSITION).values_list(
            "transition", "actor__username"
        )
    ) == [("assign_to_support", "clara"), ("take", "anton")]


def test_the_holding_reply_is_approved_by_a_second_person_and_posted() -> None:
    seed()

    ticket = ticket_of("review", "trustpilot:fa064313dca7af691e74482f")
    reply = ticket.replies.get()
    assert ticket.state == TicketState.IN_PROGRESS
    assert (reply.kind, reply.status) == (ReplyKind.HOLDING, ReplyStatus.SENT)
    assert (reply.author.username, reply.reviewer.username) == ("anton", "olga")
    assert reply.template.key == "holding" and reply.text.startswith("Hallo Udo")
    assert reply.permalink and reply.sent_at is not None


def test_a_case_is_resolved_with_a_sent_answer_and_a_fake_review_dismissed() -> None:
    seed()

    resolved = ticket_of(
        "forum", "https://www.zugreise-forum.de/threads/re3-ausfaelle-morgens.20877/#post-641937"
    )
    dismissed = ticket_of("review", "trustpilot:b3ed7de434209f49d1b3ef88")
    answer = resolved.replies.get()
    assert resolved.state == TicketState.RESOLVED
    assert (answer.kind, answer.status) == (ReplyKind.ANSWER, ReplyStatus.SENT)
    assert answer.reviewer != answer.author
    assert (dismissed.state, dismissed.dismiss_reason) == (
        TicketState.DISMISSED,
        DismissReason.SPAM,
    )


def test_a_demo_case_never_runs_on_a_ticket_someone_worked_on() -> None:
    # given the sample imported, and the CM dismissed a demo case's ticket before the seed ran
    report = demo.SeedReport()
    with time_machine.travel(NOW, tick=False):
        people = demo.ensure_users(report)
        demo.ensure_channels(people["admin"], now=NOW, report=report)
        demo.import_sample_mentions(report)
    ticket = ticket_of("facebook", "100030946687379_1068196322801099")
    actions.dismiss_ticket(ticket, actor=people["clara"], reason=DismissReason.NOT_RELEVANT)

    output = seed()

    ticket.refresh_from_db()
    assert ticket.state == TicketState.DISMISSED
    assert ticket.events.filter(kind=TicketEventKind.TRANSITION).count() == 1
    assert "double ticket purchase" not in output
    assert "taken by anton (contract cancellation)" in output


# --------------------------------------------------------------------------- webhook receiver


def load_receiver() -> Any:
    path = Path(__file__).resolve().parents[2] / "bin" / "webhook_receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def receiver() -> Any:
    """bin/webhook_receiver.py serving on a free local port, with a known secret."""
    module = load_receiver()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), module.make_handler("demo-secret", module.ReplyLog())
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def outgoing_reply(reply_id: int) -> OutgoingReply:
    return OutgoingReply(
        reply_id=reply_id,
        ticket_id=7,
        text="Hallo Petra, wir kümmern uns!",
        visibility="public",
        in_reply_to="m-1",
        recipient_handle="@paket_petra",
    )


def test_the_webhook_receiver_accepts_a_signed_reply_once_per_idempotency_key(
    receiver: str,
) -> None:
    channel = Channel(slug="webhook-demo", platform="webhook", callback_url=receiver)
    channel.webhook_secret = "demo-secret"

    first = WebhookAdapter().send_reply(channel, outgoing_reply(41))
    again = WebhookAdapter().send_reply(channel, outgoing_reply(41))
    other = WebhookAdapter().send_reply(channel, outgoing_reply(42))

    assert first.platform_id == again.platform_id == "webhook-demo-41"
    assert other.platform_id == "webhook-demo-42"


def test_the_webhook_receiver_refuses_a_reply_signed_with_another_secret(receiver: str) -> None:
    channel = Channel(slug="webhook-demo", platform="webhook", callback_url=receiver)
    channel.webhook_secret = "someone-elses-secret"

    with pytest.raises(AdapterError):
        WebhookAdapter().send_reply(channel, outgoing_reply(43))


def test_the_webhook_receiver_refuses_stale_timestamps() -> None:
    module = load_receiver()
    body = b'{"reply_id": 1}'
    signature = module.expected_signature("s", "1000", body)

    fresh = module.signature_problem("s", "1000", signature, body, now=1000 + 300)
    stale = module.signature_problem("s", "1000", signature, body, now=1000 + 301)

    assert (fresh, stale) == (None, "X-Timestamp too far from the receiver's clock")


def test_the_demo_has_articles_for_its_brands_and_the_lost_parcel_story() -> None:
    from knowledge.models import Article
    from tickets.suggestions import suggestions_for

    seed()

    products = set(Article.objects.published().values_list("product", flat=True))
    live = Mention.objects.get(external_id=demo_knowledge.LIVE_PARCEL_MENTION.external_id)
    past = Mention.objects.get(external_id=demo_knowledge.PAST_PARCEL_MENTION.external_id)
    offered = suggestions_for(live.ticket, live)
    assert {"PaketBlitz Paketversand", "ZugPlus Fernverkehr", "Telvia DSL"} <= products
    assert {"Lindenhaus Hotels", "Kessler Motorrad K 750"} <= products
    assert live.ticket.state == TicketState.SUPPORT  # in anton's queue
    assert offered.articles[0].article.title.startswith("Paket verloren")
    assert [answer.reply.ticket_id for answer in offered.answers] == [past.ticket_id]
    assert past.ticket.state == TicketState.RESOLVED
    assert Article.objects.expired(NOW.date()).count() == 1  # the winter timetable
