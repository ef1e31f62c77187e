"""The HTTP plumbing every platform adapter shares: one httpx client per call with timeouts,
the channel's base URL and credentials, and one mapping of HTTP outcomes to adapter errors.

Why httpx and not the platforms' own client libraries (Mastodon.py, tweepy,
google-api-python-client, facebook-sdk): each of them hides what the desk must decide itself.
Mastodon.py sleeps or raises its own exceptions on rate limits; tweepy wraps `requests` and
retries by itself; google-api-python-client needs a discovery document (fetched from the
network or bundled) and httplib2; the Facebook SDK is unmaintained. The desk needs the status
code and `Retry-After` of every answer (backoff is ours, per channel), must know whether a
POST may have reached the platform (duplicate protection), must point every client at a local
fake server through the channel's `base_url`, and must keep tokens out of every message. A
small shared helper over httpx does exactly that, for all platforms alike.

Error mapping: 429 → AdapterUnavailable(retry_after); 5xx, connection errors, timeouts before
the request was sent → AdapterUnavailable; 401/403 → AdapterUnauthorized; other 4xx →
RequestRejected (permanent); malformed JSON → PayloadInvalid; a timeout after a POST/PUT was
sent → OutcomeUnknown. Messages never contain credentials (`scrub`).
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from monitoring.adapters.base import (
    AdapterError,
    AdapterUnauthorized,
    AdapterUnavailable,
    NotSupported,
    OutcomeUnknown,
    PayloadInvalid,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0  # a platform slower than this is treated as unavailable
CONNECT_TIMEOUT_SECONDS = 5.0
ERROR_DETAIL_CHARS = 200  # how much of a platform's error text we keep (scrubbed)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RequestRejected(AdapterError):
    """The platform refused the request for good (a 4xx other than 401/403/429)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by `***` (secrets shorter than 4 chars are ignored)."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def required_config(channel: Any, key: str, *, label: str) -> str:
    """A value the adapter cannot work without from the channel's `config` (e.g. page_id)."""
    value = str((channel.config or {}).get(key) or "")
    if not value:
        raise NotSupported(f"{label}: the channel's config has no {key}.")
    return value


def credentials_of(channel: Any) -> dict[str, str]:
    """The channel's credentials: a JSON object, or a bare token (→ {"access_token": token})."""
    raw = (channel.credentials or "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"access_token": raw}
    if isinstance(value, dict):
        return {str(key): str(item) for key, item in value.items() if item is not None}
    return {"access_token": raw}


def secrets_of(channel: Any) -> list[str]:
    """Every secret value of the channel, for scrubbing."""
    values = list(credentials_of(channel).values())
    values.append((channel.credentials or "").strip())
    values.append(getattr(channel, "webhook_secret", "") or "")
    return [value for value in values if value]


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max((moment - (now or datetime.now(UTC))).total_seconds(), 0.0)


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp of a platform ("Z", "+0000" or "+00:00") as an aware datetime."""
    if not isinstance(value, str) or not value:
        raise PayloadInvalid("A timestamp is missing.")
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # Graph API: +0000 → +00:00
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise PayloadInvalid("A timestamp is not ISO 8601.") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


@dataclass
class PlatformClient:
    """Calls one platform for one channel. `label` names the platform in messages."""

    label: str
    base_url: str
    secrets: list[str]
    headers: dict[str, str]
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def with_bearer_token(
        cls, channel: Any, *, label: str, default_base_url: str, **headers: str
    ) -> "PlatformClient":
        """A client that sends the channel's access token as `Authorization: Bearer …`."""
        token = credentials_of(channel).get("access_token", "")
        return cls.for_channel(
            channel,
            label=label,
            default_base_url=default_base_url,
            headers={"Authorization": f"Bearer {token}", **headers},
        )

    @classmethod
    def for_channel(
        cls,
        channel: Any,
        *,
        label: str,
        default_base_url: str,
        headers: dict[str, str] | None = None,
    ) -> "PlatformClient":
        base_url = (channel.base_url or default_base_url or "").rstrip("/")
        if not base_url:
            raise AdapterUnauthorized(f"{label}: the channel has no API base URL.")
        timeout = (channel.config or {}).get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
        return cls(
            label=label,
            base_url=base_url,
            secrets=secrets_of(channel),
            headers=dict(headers or {}),
            timeout_seconds=float(timeout),
        )

    def _fail(self, error_class: type[AdapterError], message: str, **extra: Any) -> AdapterError:
        return error_class(scrub(f"{self.label}: {message}", self.secrets), **extra)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request; raises the mapped adapter error for anything but a 2xx answer."""
        method = method.upper()
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        shown = httpx.URL(url).path  # never the query: some platforms put tokens there
        timeout = httpx.Timeout(self.timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS)
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                response = client.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    content=content,
                    headers={**self.headers, **(headers or {})},
                )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise self._fail(
                AdapterUnavailable, f"{method} {shown} could not connect ({type(error).__name__})."
            ) from None
        except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as error:
            # The request went out: a POST may have been carried out by the platform.
            if method in UNSAFE_METHODS:
                raise self._fail(
                    OutcomeUnknown, f"{method} {shown} got no answer ({type(error).__name__})."
                ) from None
            raise self._fail(
                AdapterUnavailable, f"{method} {shown} got no answer ({type(error).__name__})."
            ) from None
        except httpx.HTTPError as error:
            raise self._fail(
                AdapterUnavailable, f"{method} {shown} failed ({type(error).__name__})."
            ) from None
        self._raise_for_status(response, method, shown)
        return response

    def _raise_for_status(self, response: httpx.Response, method: str, shown: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = response.text[:ERROR_DETAIL_CHARS].replace("\n", " ").strip()
        message = f"{method} {shown} answered HTTP {status}" + (f": {detail}" if detail else ".")
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise self._fail(AdapterUnavailable, message, retry_after=retry_after)
        if status >= 500:
            raise self._fail(AdapterUnavailable, message)
        if status in (401, 403):
            raise self._fail(AdapterUnauthorized, message)
        raise self._fail(RequestRejected, message, status=status)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request whose answer must be JSON (PayloadInvalid otherwise)."""
        response = self.request(method, path, **kwargs)
        return self.decode(response, method, path)

    def decode(self, response: httpx.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            shown = httpx.URL(path).path if "://" in path else path.split("?")[0]
            raise self._fail(PayloadInvalid, f"{method} {shown} answered malformed JSON.") from None


def require(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """A payload member of the expected type, else PayloadInvalid naming what was wrong."""
    if not isinstance(value, kind):
        raise PayloadInvalid(f"Unexpected payload: {what}.")
    return value


def newest_by_number(ids: Iterable[str]) -> str | None:
    """The highest of numeric-string ids (Mastodon, X): longer is newer, then lexical."""
    known = [value for value in ids if value]
    return max(known, key=lambda value: (len(value), value)) if known else None


def is_newer_id(candidate: str, than: str | None) -> bool:
    if not than:
        return True
    return (len(candidate), candidate) > (len(than), than)
