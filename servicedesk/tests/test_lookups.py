"""servicedesk.lookups (per-process caches invalidated on change, here and in the other
processes through a generation in Redis) and the API rate limit in one Redis round trip."""

from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import Group

from servicedesk import lookups, redis_client, roles
from servicedesk.throttling import ClientRateThrottle


def loader(calls: list[str], value: str) -> Any:
    def load() -> str:
        calls.append(value)
        return value

    return load


@pytest.mark.django_db
def test_a_value_is_loaded_once_until_its_cache_is_invalidated() -> None:
    calls: list[str] = []
    assert lookups.get("test.cache", "k", loader(calls, "one")) == "one"
    assert lookups.get("test.cache", "k", loader(calls, "two")) == "one"
    lookups.invalidate("test.cache")
    assert lookups.get("test.cache", "k", loader(calls, "two")) == "two"
    assert calls == ["one", "two"]


def test_a_change_in_another_process_drops_the_cache_at_the_next_check(settings: Any) -> None:
    settings.LOOKUP_CHECK_SECONDS = 0
    calls: list[str] = []
    lookups.get("test.remote", "k", loader(calls, "zero"))
    # the first comparison with Redis drops what was loaded before it, once
    assert lookups.get("test.remote", "k", loader(calls, "one")) == "one"
    assert lookups.get("test.remote", "k", loader(calls, "two")) == "one"

    redis_client.client().incr(lookups.GENERATION_KEY.format("test.remote"))  # elsewhere

    assert lookups.get("test.remote", "k", loader(calls, "three")) == "three"


def test_without_redis_every_cache_is_read_again(settings: Any) -> None:
    settings.LOOKUP_CHECK_SECONDS = 0
    calls: list[str] = []
    lookups.get("test.down", "k", loader(calls, "one"))
    with mock.patch.object(redis_client, "client", side_effect=ConnectionError("down")):
        assert lookups.get("test.down", "k", loader(calls, "two")) == "two"


def test_get_many_loads_only_the_misses_and_caches_absent_keys() -> None:
    asked: list[set[str]] = []

    def load(keys: set[str]) -> dict[str, str]:
        asked.append(keys)
        return {key: key.upper() for key in keys if key != "none"}

    assert lookups.get_many("test.many", ["a", "none"], load) == {"a": "A", "none": None}
    assert lookups.get_many("test.many", ["a", "b", "none"], load) == {
        "a": "A", "b": "B", "none": None,
    }  # fmt: skip
    assert asked == [{"a", "none"}, {"b"}]


@pytest.mark.django_db
def test_group_names_follow_membership_changes(user_factory: Any) -> None:
    user = user_factory()
    group = Group.objects.get(name=roles.TEAM_LEAD)
    assert roles.group_names(user) == frozenset()
    user.groups.add(group)
    fresh = type(user).objects.get(pk=user.pk)  # a new request's user object
    assert roles.group_names(fresh) == {roles.TEAM_LEAD}


def test_the_rate_limit_allows_the_rate_and_answers_the_wait_after() -> None:
    class ThreePerMinute(ClientRateThrottle):
        rate = "3/min"

    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk="rate-test"))
    redis_client.client().delete(ThreePerMinute().get_cache_key(request, None))

    allowed = [ThreePerMinute().allow_request(request, None) for _ in range(3)]
    refused = ThreePerMinute()

    assert allowed == [True, True, True]
    assert refused.allow_request(request, None) is False
    assert 0 < refused.wait() <= 60


def test_the_rate_limit_fails_open_without_redis() -> None:
    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk="rate-down"))
    with mock.patch("servicedesk.throttling._sliding_window", side_effect=ConnectionError):
        assert ClientRateThrottle().allow_request(request, None) is True
