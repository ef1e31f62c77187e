"""`POST /api/v1/mentions/` and `GET /api/v1/mentions/` (DESIGN §6): one mention or a batch,
all or nothing, idempotent; every bad input answers a clear JSON error and stores nothing."""

import json
import threading
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import Customer, SocialIdentity
from monitoring.models import Mention, MentionRevision
from servicedesk.tests.apiclient import assert_error, client_for
from tickets.models import SlaClock, Ticket
from tickets.tests.factories import ChannelFactory, DepartmentFactory, MentionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/mentions/"
_ids = count(1)


def mention(channel: str = "webhook-test", **overrides: Any) -> dict[str, Any]:
    """A valid mention payload (a fresh external id each time)."""
    body = {
        "channel": channel,
        "external_id": f"post-{next(_ids)}",
        "author": {"handle": "@erika_m", "display_name": "Erika", "platform_user_id": "u-1"},
        "text": "Mein Paket ist nicht angekommen.",
        "created_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
    }
    body.update(overrides)
    return body


def nothing_stored() -> bool:
    return not (Mention.objects.exists() or Ticket.objects.exists() or Customer.objects.exists())


@pytest.fixture
def pusher(api_client_user: Any, channel: Any) -> APIClient:
    return client_for(api_client_user)


# --------------------------------------------------------------------------- happy paths


def test_single_mention_is_stored_and_opens_a_ticket(pusher: APIClient) -> None:
    body = mention(external_id="tw-1")

    response = pusher.post(URL, body, format="json")

    assert response.status_code == 201
    stored = Mention.objects.get(external_id="tw-1")
    assert response.json() == {"id": stored.pk, "ticket": stored.ticket_id, "status": "created"}
    assert Ticket.objects.get().pk == stored.ticket_id
    assert stored.text == body["text"]
    assert stored.author_platform_user_id == "u-1"


def test_batch_answers_results_in_array_order_across_channels(pusher: APIClient) -> None:
    ChannelFactory(slug="forum")
    bodies = [
        mention(external_id="a", author={"handle": "@anna"}),
        mention(channel="forum", external_id="b", author={"handle": "@bert"}),
        mention(external_id="c", author={"handle": "@carla"}),
    ]

    response = pusher.post(URL, bodies, format="json")

    assert response.status_code == 201
    results = response.json()["results"]
    expected = [
        Mention.objects.get(channel__slug=body["channel"], external_id=body["external_id"]).pk
        for body in bodies
    ]
    assert [result["id"] for result in results] == expected
    assert [result["status"] for result in results] == ["created"] * 3


def test_same_mention_twice_is_a_duplicate_without_a_second_ticket(pusher: APIClient) -> None:
    body = mention()
    first = pusher.post(URL, body, format="json")

    second = pusher.post(URL, body, format="json")

    assert second.status_code == 200
    assert second.json() == {**first.json(), "status": "duplicate"}
    assert (Mention.objects.count(), Ticket.objects.count()) == (1, 1)


def test_known_id_with_another_text_is_a_duplicate_and_keeps_a_revision(
    pusher: APIClient,
) -> None:
    body = mention(text="Erste Fassung")
    pusher.post(URL, body, format="json")

    response = pusher.post(URL, {**body, "text": "Bearbeitete Fassung"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    stored = Mention.objects.get()
    assert stored.text == "Erste Fassung"
    assert list(MentionRevision.objects.values_list("mention_id", "text")) == [
        (stored.pk, "Bearbeitete Fassung")
    ]


def test_batch_of_only_duplicates_answers_200(pusher: APIClient) -> None:
    bodies = [mention(author={"handle": "@a"}), mention(author={"handle": "@b"})]
    pusher.post(URL, bodies, format="json")

    response = pusher.post(URL, bodies, format="json")

    assert response.status_code == 200
    assert [result["status"] for result in response.json()["results"]] == ["duplicate"] * 2


def test_own_account_post_is_stored_without_a_ticket(pusher: APIClient) -> None:
    response = pusher.post(URL, mention(author={"handle": "@Desk_Hilft"}), format="json")

    assert response.status_code == 201
    assert response.json()["ticket"] is None
    assert Mention.objects.get().is_own_account
    assert not Ticket.objects.exists()


def test_html_in_author_and_text_is_stored_verbatim(pusher: APIClient) -> None:
    script = "<script>alert('x')</script> &amp; <b>"
    body = mention(author={"handle": "@x", "display_name": script}, text=script)

    pusher.post(URL, body, format="json")

    stored = Mention.objects.get()
    assert (stored.text, stored.author_display_name) == (script, script)


def test_null_optional_fields_are_accepted(pusher: APIClient) -> None:
    body = mention(in_reply_to=None, url=None, language=None, raw={"id": 1, "nested": [None]})
    body["author"]["display_name"] = None

    response = pusher.post(URL, body, format="json")

    assert response.status_code == 201
    stored = Mention.objects.get()
    assert (stored.in_reply_to, stored.url, stored.raw) == ("", "", {"id": 1, "nested": [None]})


def test_a_batch_of_1000_is_accepted(pusher: APIClient) -> None:
    bodies = [mention(author={"handle": f"@kunde{i}"}) for i in range(1000)]

    response = pusher.post(URL, bodies, format="json")

    assert response.status_code == 201
    assert len(response.json()["results"]) == 1000
    assert Mention.objects.count() == 1000


@pytest.mark.parametrize("size", [10, 1000])
def test_batch_query_count_does_not_grow_with_its_size(
    pusher: APIClient, size: int, django_assert_max_num_queries: Any
) -> None:
    bodies = [mention(author={"handle": f"@kunde{i}"}) for i in range(size)]

    # auth, roles, channels, savepoints and the intake's fixed set of statements; the
    # triage suggestions (issue 13) add 5: a savepoint and its release, the rules, the new
    # mentions and one insert of all suggestions; the erased-post check of the batch
    # (issue 15: privacy.ErasedPost) one
    with django_assert_max_num_queries(24):
        response = pusher.post(URL, bodies, format="json")

    assert response.status_code == 201


def test_created_at_exactly_five_minutes_ahead_is_accepted(pusher: APIClient) -> None:
    now = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        response = pusher.post(
            URL, mention(created_at=(now + timedelta(minutes=5)).isoformat()), format="json"
        )

    assert response.status_code == 201


def test_created_at_just_over_five_minutes_ahead_is_refused(pusher: APIClient) -> None:
    now = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    ahead = now + timedelta(minutes=5, seconds=1)
    with time_machine.travel(now, tick=False):
        response = pusher.post(URL, mention(created_at=ahead.isoformat()), format="json")

    body = assert_error(response, 400, "invalid")
    assert set(body["errors"]) == {"created_at"}
    assert nothing_stored()


# --------------------------------------------------------------------------- bad input


def _without(field: str) -> dict[str, Any]:
    body = mention()
    del body[field]
    return body


def _author(**author: Any) -> dict[str, Any]:
    return mention(author=author)


BAD_MENTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "missing channel": (_without("channel"), "channel"),
    "missing external_id": (_without("external_id"), "external_id"),
    "missing author": (_without("author"), "author"),
    "missing text": (_without("text"), "text"),
    "missing created_at": (_without("created_at"), "created_at"),
    "missing handle": (_author(display_name="Erika"), "author"),
    "blank handle": (_author(handle="  "), "author"),
    "author not an object": (mention(author="@erika"), "author"),
    "blank text": (mention(text=""), "text"),
    "whitespace text": (mention(text=" \n\t "), "text"),
    "null text": (mention(text=None), "text"),
    "blank external_id": (mention(external_id=""), "external_id"),
    "external_id over 255": (mention(external_id="x" * 256), "external_id"),
    "handle over 255": (_author(handle="h" * 256), "author"),
    "NUL in text": (mention(text="Hallo\x00Welt"), "text"),
    "NUL in handle": (_author(handle="er\x00ika"), "author"),
    "NUL nested in raw": (mention(raw={"a": [{"b": "x\x00y"}]}), "raw"),
    "NUL in a raw key": (mention(raw={"a": {"k\x00": 1}}), "raw"),
    "raw not an object": (mention(raw=[1, 2]), "raw"),
    "raw nested too deep": (mention(raw=json.loads('{"a":' * 40 + "1" + "}" * 40)), "raw"),
    "created_at without offset": (mention(created_at="2026-03-03T10:00:00"), "created_at"),
    "created_at unparseable": (mention(created_at="gestern abend"), "created_at"),
    "created_at a date only": (mention(created_at="2026-03-03"), "created_at"),
    "created_at numeric": (mention(created_at=1767225600), "created_at"),
    "created_at out of range": (mention(created_at="2026-13-45T10:00:00+01:00"), "created_at"),
    "created_at far ahead": (mention(created_at="2999-01-01T00:00:00+00:00"), "created_at"),
    "unknown channel": (mention(channel="nowhere"), "channel"),
    "channel not a string": (mention(channel={"slug": "webhook-test"}), "channel"),
    "url not a URL": (mention(url="not a url"), "url"),
    "is_private not a boolean": (mention(is_private="maybe"), "is_private"),
}


@pytest.mark.parametrize("case", list(BAD_MENTIONS))
def test_bad_single_mention_answers_400_naming_the_field_and_stores_nothing(
    pusher: APIClient, case: str
) -> None:
    body, field = BAD_MENTIONS[case]

    response = pusher.post(URL, body, format="json")

    errors = assert_error(response, 400, "invalid")["errors"]
    assert set(errors) == {field}, errors
    assert nothing_stored()


def test_text_over_the_limit_names_the_limit(pusher: APIClient) -> None:
    response = pusher.post(URL, mention(text="x" * 65_537), format="json")

    errors = assert_error(response, 400, "invalid")["errors"]
    assert "65" in errors["text"][0] and "536" in errors["text"][0]
    assert nothing_stored()


def test_text_of_exactly_the_limit_is_accepted(pusher: APIClient) -> None:
    response = pusher.post(URL, mention(text="x" * 65_536), format="json")

    assert response.status_code == 201


def test_inactive_channel_is_refused(pusher: APIClient) -> None:
    ChannelFactory(slug="closed", is_active=False)

    response = pusher.post(URL, mention(channel="closed"), format="json")

    assert set(assert_error(response, 400, "invalid")["errors"]) == {"channel"}
    assert nothing_stored()


RAW_BODIES: dict[str, str] = {
    "not JSON": "{channel: webhook-test",
    "truncated JSON": '{"channel": "webhook-test", "text": "abc',
    "a JSON string": '"just a string"',
    "a JSON number": "42",
    "JSON null": "null",
    "NaN": '{"channel": NaN}',
    "lone surrogate in text": json.dumps(mention())[:-1] + ', "text": "\\ud800"}',
    "lone surrogate in a raw key": json.dumps(mention())[:-1] + ', "raw": {"\\udfff": 1}}',
    "NUL escaped in text": json.dumps(mention())[:-1] + ', "text": "a\\u0000b"}',
    "nested far too deep": "[" * 100_000 + "]" * 100_000,
    "not UTF-8": "\udcff",
}


@pytest.mark.parametrize("case", list(RAW_BODIES))
def test_malformed_body_answers_400_json_and_stores_nothing(pusher: APIClient, case: str) -> None:
    content = RAW_BODIES[case]
    data = content.encode("utf-8", "surrogateescape")

    response = pusher.generic("POST", URL, data, content_type="application/json")

    assert_error(response, 400)
    assert nothing_stored()


def test_empty_array_is_refused(pusher: APIClient) -> None:
    response = pusher.post(URL, [], format="json")

    assert "non_field_errors" in assert_error(response, 400, "invalid")["errors"]


def test_batch_over_1000_is_refused(pusher: APIClient) -> None:
    bodies = [mention(author={"handle": f"@k{i}"}) for i in range(1001)]

    response = pusher.post(URL, bodies, format="json")

    assert "1,000" in assert_error(response, 400, "invalid")["errors"]["non_field_errors"][0]
    assert nothing_stored()


def test_batch_with_invalid_items_reports_every_one_and_stores_nothing(
    pusher: APIClient,
) -> None:
    bodies = [
        mention(author={"handle": "@ok1"}),
        mention(text=""),
        mention(author={"handle": "@ok2"}),
        mention(created_at="morgen", channel="nowhere"),
        "not an object",
    ]

    response = pusher.post(URL, bodies, format="json")

    errors = assert_error(response, 400, "invalid")["errors"]
    assert [(item["index"], sorted(item["errors"])) for item in errors] == [
        (1, ["text"]),
        (3, ["channel", "created_at"]),
        (4, ["non_field_errors"]),
    ]
    assert nothing_stored()


def test_same_external_id_twice_in_one_batch_is_refused(pusher: APIClient) -> None:
    first = mention(external_id="dup", author={"handle": "@a"})
    bodies = [first, mention(author={"handle": "@b"}), {**first, "text": "anders"}]

    response = pusher.post(URL, bodies, format="json")

    errors = assert_error(response, 400, "invalid")["errors"]
    assert [item["index"] for item in errors] == [2]
    assert "0" in errors[0]["errors"]["external_id"][0]
    assert nothing_stored()


def test_body_over_16_mib_answers_413(pusher: APIClient) -> None:
    oversized = json.dumps(mention(text="x" * (16 * 1024 * 1024)))

    response = pusher.generic("POST", URL, oversized, content_type="application/json")

    assert_error(response, 413, "too_large")
    assert nothing_stored()


def test_wrong_content_type_answers_415_json(pusher: APIClient) -> None:
    response = pusher.generic("POST", URL, "channel=x", content_type="text/plain")

    assert_error(response, 415)


# --------------------------------------------------------------------------- who may push


def test_no_credentials_answer_401(channel: Any) -> None:
    response = APIClient().post(URL, mention(), format="json")

    assert_error(response, 401, "not_authenticated")
    assert nothing_stored()


def test_a_wrong_token_answers_401(channel: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert_error(client.post(URL, mention(), format="json"), 401)


@pytest.mark.parametrize("persona", ["agent", "cm", "team_lead", "expert"])
def test_humans_without_the_api_client_role_may_not_push(
    request: Any, channel: Any, persona: str
) -> None:
    client = client_for(request.getfixturevalue(persona))

    response = client.post(URL, mention(), format="json")

    assert_error(response, 403)
    assert nothing_stored()


def test_unknown_api_url_answers_json_404(pusher: APIClient) -> None:
    response = pusher.get("/api/v1/no-such-thing/")

    assert_error(response, 404, "not_found")


def test_rate_limit_fails_open_when_redis_is_unreachable(pusher: APIClient, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    response = pusher.post(URL, mention(), format="json")

    assert response.status_code == 201


# --------------------------------------------------------------------------- concurrency


@pytest.mark.django_db(transaction=True)
def test_ten_clients_pushing_the_same_mention_at_once_store_one_mention_and_one_ticket(
    api_client_user: Any, channel: Any
) -> None:
    body = mention()
    clients = [client_for(api_client_user) for _ in range(10)]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def push(client: APIClient) -> None:
        try:
            start.wait()
            statuses.append(client.post(URL, body, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=push, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 9 + [201]
    assert (Mention.objects.count(), Ticket.objects.count()) == (1, 1)
    assert SocialIdentity.objects.count() == 1


# --------------------------------------------------------------------------- reading


def test_list_filters_by_channel_ticket_and_time(pusher: APIClient, channel: Any) -> None:
    other = ChannelFactory(slug="forum")
    old = MentionFactory(channel=channel, created_at=timezone.now() - timedelta(days=3))
    recent = MentionFactory(channel=channel)
    MentionFactory(channel=other)
    since = (timezone.now() - timedelta(days=1)).isoformat()

    by_channel = pusher.get(URL, {"channel": "webhook-test"}).json()
    by_time = pusher.get(URL, {"created_after": since, "channel": "webhook-test"}).json()

    assert {item["id"] for item in by_channel["results"]} == {old.pk, recent.pk}
    assert [item["id"] for item in by_time["results"]] == [recent.pk]


def test_list_filters_by_ticket(pusher: APIClient, ticket_factory: Any) -> None:
    ticket = ticket_factory()
    ticket_factory()

    response = pusher.get(URL, {"ticket": ticket.pk})

    assert [item["ticket"] for item in response.json()["results"]] == [ticket.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"ticket": "abc"},
        {"ticket": "99999999999999999999999"},
        {"created_after": "gestern"},
        {"received_before": "0001-01-01T00:30:00+01:00"},  # before year 1 in UTC
    ],
)
def test_list_with_bad_filters_answers_400(pusher: APIClient, params: dict[str, str]) -> None:
    assert_error(pusher.get(URL, params), 400, "invalid")


def test_list_accepts_offsets_postgresql_would_refuse(pusher: APIClient) -> None:
    # PostgreSQL refuses UTC offsets beyond ±15:59; the filter converts to UTC first.
    response = pusher.get(URL, {"created_after": "2026-01-18T09:37:37+16:32"})

    assert response.status_code == 200


def test_list_shows_an_expert_only_the_mentions_shared_with_his_department(
    expert: Any, department: Any, ticket_factory: Any, agent: Any
) -> None:
    from tickets.models import DepartmentRequest

    ticket = ticket_factory()
    shared = ticket.mentions.get()
    MentionFactory(ticket=ticket, channel=ticket.channel)
    request = DepartmentRequest.objects.create(
        ticket=ticket,
        department=department,
        question="?",
        requested_by=agent,
        created_at=timezone.now(),
        due_at=timezone.now() + timedelta(hours=48),
    )
    request.shared_mentions.set([shared])
    DepartmentFactory(slug="elsewhere")

    response = client_for(expert).get(URL)

    assert [item["id"] for item in response.json()["results"]] == [shared.pk]


def test_list_query_count_does_not_grow_with_the_page(
    pusher: APIClient, channel: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(30):
        MentionFactory(channel=channel)

    with django_assert_max_num_queries(5):
        response = pusher.get(URL, {"page_size": 30})

    assert len(response.json()["results"]) == 30


def test_pushed_mention_older_than_the_reopen_window_starts_no_clock(
    pusher: APIClient,
) -> None:
    old = (timezone.now() - timedelta(days=30)).isoformat()

    pusher.post(URL, mention(created_at=old), format="json")

    assert Ticket.objects.count() == 1
    assert not SlaClock.objects.exists()
