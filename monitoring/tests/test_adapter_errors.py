"""Every polling adapter maps the platform's failures the same way: 429 with Retry-After,
5xx, 401 and malformed JSON; and no credential ever shows up in an error or a log."""

import logging

import pytest

from monitoring.adapters import adapter_for
from monitoring.adapters.base import AdapterUnauthorized, AdapterUnavailable, PayloadInvalid
from monitoring.adapters.http import RequestRejected
from monitoring.tests.conftest import TOKEN
from monitoring.tests.fakeplatform import FakeResponse

pytestmark = pytest.mark.django_db

# platform → the first endpoint its poll calls
FIRST_CALL = {
    "mastodon": "/api/v1/notifications",
    "twitter": "/2/users/1000/mentions",
    "facebook": "/1001/feed",
    "instagram": "/17841400000000000/media",
    "youtube": "/commentThreads",
}
POLLING_PLATFORMS = sorted(FIRST_CALL)


@pytest.mark.parametrize("platform", POLLING_PLATFORMS)
def test_429_is_unavailable_with_the_retry_after_seconds(fake_platform, platform_channel, platform):
    channel = platform_channel(platform)
    fake_platform.serve(
        "GET",
        FIRST_CALL[platform],
        FakeResponse(429, {"error": "slow down"}, {"Retry-After": "90"}),
    )

    with pytest.raises(AdapterUnavailable) as raised:
        adapter_for(channel).fetch(channel, None)

    assert raised.value.retry_after == 90


@pytest.mark.parametrize("platform", POLLING_PLATFORMS)
def test_500_is_unavailable_without_retry_after(fake_platform, platform_channel, platform):
    channel = platform_channel(platform)
    fake_platform.serve("GET", FIRST_CALL[platform], FakeResponse(500, "Internal Server Error"))

    with pytest.raises(AdapterUnavailable) as raised:
        adapter_for(channel).fetch(channel, None)

    assert raised.value.retry_after is None
    assert "HTTP 500" in str(raised.value)


@pytest.mark.parametrize("platform", POLLING_PLATFORMS)
def test_401_is_unauthorized(fake_platform, platform_channel, platform):
    channel = platform_channel(platform)
    fake_platform.serve("GET", FIRST_CALL[platform], FakeResponse(401, {"error": "invalid_token"}))

    with pytest.raises(AdapterUnauthorized):
        adapter_for(channel).fetch(channel, None)


@pytest.mark.parametrize("platform", POLLING_PLATFORMS)
def test_malformed_json_is_an_invalid_payload(fake_platform, platform_channel, platform):
    channel = platform_channel(platform)
    fake_platform.serve("GET", FIRST_CALL[platform], FakeResponse(200, '{"data": [{"id": '))

    with pytest.raises(PayloadInvalid):
        adapter_for(channel).fetch(channel, None)


@pytest.mark.parametrize("platform", POLLING_PLATFORMS)
def test_a_well_formed_answer_of_the_wrong_shape_is_an_invalid_payload(
    fake_platform, platform_channel, platform
):
    channel = platform_channel(platform)
    body = {"data": "nope", "items": "nope"} if platform != "mastodon" else {"id": "1"}
    fake_platform.serve("GET", FIRST_CALL[platform], FakeResponse(200, body))

    with pytest.raises(PayloadInvalid):
        adapter_for(channel).fetch(channel, None)


def test_rss_feed_errors_are_mapped_like_every_platform(fake_platform, platform_channel):
    channel = platform_channel("rss")
    fake_platform.serve(
        "GET",
        "/feed.xml",
        FakeResponse(429, "", {"Retry-After": "30"}),
        FakeResponse(503, ""),
        FakeResponse(403, ""),
        FakeResponse(200, "this is not a feed", {"Content-Type": "text/plain"}),
    )
    adapter = adapter_for(channel)

    with pytest.raises(AdapterUnavailable) as limited:
        adapter.fetch(channel, None)
    with pytest.raises(AdapterUnavailable):
        adapter.fetch(channel, None)
    with pytest.raises(AdapterUnauthorized):
        adapter.fetch(channel, None)
    with pytest.raises(PayloadInvalid):
        adapter.fetch(channel, None)
    assert limited.value.retry_after == 30


def test_other_4xx_is_a_permanent_rejection(fake_platform, platform_channel):
    channel = platform_channel("mastodon")
    fake_platform.serve("GET", "/api/v1/notifications", FakeResponse(422, {"error": "bad"}))

    with pytest.raises(RequestRejected):
        adapter_for(channel).fetch(channel, None)


def test_an_unreachable_platform_is_unavailable(platform_channel):
    channel = platform_channel("mastodon", base_url="http://127.0.0.1:9")

    with pytest.raises(AdapterUnavailable):
        adapter_for(channel).fetch(channel, None)


@pytest.mark.parametrize("status", [401, 500, 429])
def test_a_token_echoed_by_the_platform_never_reaches_errors_or_logs(
    fake_platform, platform_channel, caplog, status
):
    # given a platform that echoes the credentials in its error body
    channel = platform_channel("facebook", credentials=f'{{"access_token": "{TOKEN}"}}')
    fake_platform.serve(
        "GET", "/1001/feed", FakeResponse(status, {"error": {"message": f"bad token {TOKEN}"}})
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(Exception) as raised:
        adapter_for(channel).fetch(channel, None)

    assert fake_platform.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(raised.value.args)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
