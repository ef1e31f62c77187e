"""Fixtures of the monitoring tests: a fake platform server and channels pointed at it."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from monitoring.tests.fakeplatform import FakePlatform
from tickets.tests import factories

TOKEN = "tok-SECRET-7f3a9c51e2"  # must never show up in a log, an error or last_error
WEBHOOK_SECRET = "whsec-4b1d9e0c77aa"

# The platform config each adapter needs, as the fake payloads use it.
PLATFORM_CONFIG: dict[str, dict[str, Any]] = {
    "mastodon": {},
    "twitter": {"user_id": "1000"},
    "facebook": {"page_id": "1001"},
    "instagram": {"ig_user_id": "17841400000000000"},
    "youtube": {"channel_id": "UCzugplus000000000000001"},
    "rss": {},
    "webhook": {},
    "demo": {},
}


@pytest.fixture
def fake_platform() -> Iterator[FakePlatform]:
    platform = FakePlatform()
    yield platform
    platform.close()


@pytest.fixture
def platform_channel(fake_platform: FakePlatform, db: Any) -> Callable[..., Any]:
    """A channel of `platform` whose API is the fake server (short timeouts)."""

    def make(platform: str, **fields: Any) -> Any:
        config = {**PLATFORM_CONFIG[platform], "timeout_seconds": 1.0, **fields.pop("config", {})}
        defaults: dict[str, Any] = {
            "slug": f"{platform}-test",
            "platform": platform,
            "base_url": fake_platform.base_url,
            "credentials": TOKEN,
            "config": config,
            "own_accounts": ["zugplus_hilft", "ZugPlus"],
            "poll_interval_seconds": 60,
        }
        if platform == "webhook":
            defaults.update(
                callback_url=f"{fake_platform.base_url}/hook",
                webhook_secret=WEBHOOK_SECRET,
                base_url="",
            )
        if platform == "rss":
            defaults["base_url"] = f"{fake_platform.base_url}/feed.xml"
        defaults.update(fields)
        return factories.ChannelFactory(**defaults)

    return make
