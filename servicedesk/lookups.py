"""Per-process caches of lookups that do not change from one request to the next (channels
by slug, SLA policies, the triage rule book, a user's groups), invalidated on change.

A cache has a name and is filled by its owner's loader. A save or delete of one of the models
it is built from (`invalidate_on`, registered by the owning app) clears it in this process at
once and, when the transaction commits, bumps its generation in Redis; every process compares
the generations at most every LOOKUP_CHECK_SECONDS (one MGET for all caches) and drops the
caches that changed elsewhere. So a change is seen at once where it was made and within
LOOKUP_CHECK_SECONDS everywhere else. Redis is only for speed: when it cannot be read, every
cache is dropped and read again from the database (fails open, never stale).
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from servicedesk import redis_client

logger = logging.getLogger(__name__)

GENERATION_KEY = "servicedesk:lookup-generation:{}"

_lock = threading.Lock()
_values: dict[str, dict[Any, Any]] = {}  # cache name -> key -> value
_generations: dict[str, bytes | None] = {}  # cache name -> generation last seen in Redis
_checked_at = 0.0


def get(name: str, key: Any, loader: Callable[[], Any]) -> Any:
    """The cached value of `key` in cache `name`, loaded by `loader()` on a miss."""
    _check_generations()
    values = _values.setdefault(name, {})
    try:
        return values[key]
    except KeyError:
        pass
    value = loader()
    if len(values) >= settings.LOOKUP_CACHE_MAX_KEYS:
        values.clear()
    values[key] = value
    return value


def get_many(
    name: str, keys: Iterable[Any], loader: Callable[[set[Any]], dict[Any, Any]]
) -> dict[Any, Any]:
    """key → cached value for `keys` in cache `name`; the misses are loaded together by
    `loader(missing keys)`, and a key it leaves out is cached as None."""
    _check_generations()
    values = _values.setdefault(name, {})
    wanted = set(keys)
    missing = wanted - values.keys()
    if missing:
        loaded = loader(missing)
        if len(values) + len(missing) > settings.LOOKUP_CACHE_MAX_KEYS:
            values.clear()
        values.update({key: loaded.get(key) for key in missing})
        return {key: values.get(key, loaded.get(key)) for key in wanted}
    return {key: values[key] for key in wanted}


def invalidate(name: str) -> None:
    """Drop cache `name` here now, and everywhere once the current transaction commits."""
    _values.pop(name, None)
    transaction.on_commit(lambda: _publish(name))


def invalidate_on(name: str, *models: Any) -> None:
    """Clear cache `name` whenever a row of one of `models` is saved or deleted (a model
    that is an m2m `through` table: whenever the relation changes)."""

    def handler(**_kwargs: Any) -> None:
        invalidate(name)

    for model in models:
        uid = f"lookups:{name}:{model._meta.label}"
        if model._meta.auto_created:
            m2m_changed.connect(handler, sender=model, weak=False, dispatch_uid=uid)
        else:
            post_save.connect(handler, sender=model, weak=False, dispatch_uid=uid)
            post_delete.connect(handler, sender=model, weak=False, dispatch_uid=uid + ":del")


def clear_all() -> None:
    """Forget every cache in this process (tests call it between cases)."""
    global _checked_at
    with _lock:
        _values.clear()
        _generations.clear()
        _checked_at = 0.0


def _publish(name: str) -> None:
    _values.pop(name, None)
    try:
        redis_client.client().incr(GENERATION_KEY.format(name))
    except Exception:  # Redis down: the other processes drop their caches on their own
        logger.warning("lookup cache generation not published for %s", name)


def _check_generations() -> None:
    global _checked_at
    now = time.monotonic()
    if now - _checked_at < settings.LOOKUP_CHECK_SECONDS:
        return
    with _lock:
        if now - _checked_at < settings.LOOKUP_CHECK_SECONDS:
            return
        _checked_at = now
        names = sorted(_values)
        if not names:
            return
        try:
            seen = redis_client.client().mget([GENERATION_KEY.format(n) for n in names])
        except Exception:  # cannot tell what changed elsewhere: read everything again
            logger.warning("lookup cache generations unreadable; caches dropped")
            _values.clear()
            _generations.clear()
            return
        for name, generation in zip(names, seen, strict=True):
            if _generations.get(name, b"") != generation:  # changed, or never compared
                _values.pop(name, None)
            _generations[name] = generation
