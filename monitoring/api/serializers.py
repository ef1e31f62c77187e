"""Serializers of the monitoring API: mentions in (shared with `import_mentions`) and out,
channels (superusers).

Input serializers validate shape only; the intake (tickets.intake) and monitoring.actions
do the writes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring.actions import CHANNEL_SETTINGS
from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.apps import ACTIVE_CHANNELS
from monitoring.health import send_health
from monitoring.models import Channel, Mention
from servicedesk import lookups
from servicedesk.api_input import StrictInput, StrictModelInput
from servicedesk.timewindow import validate_moment

TEXT_MAX_CHARS = 65_536  # DESIGN §6
BATCH_MAX_ITEMS = 1_000  # DESIGN §6
FUTURE_TOLERANCE = timedelta(minutes=5)  # created_at may lie at most this far ahead (clock skew)
RAW_MAX_DEPTH = 32  # nesting levels of `raw`; deeper payloads are refused, not half-stored


# --------------------------------------------------------------------------- mention input


def text_problem(value: str) -> str | None:
    """Why PostgreSQL would refuse this string (U+0000, lone surrogates), or None."""
    if "\x00" in value:
        return str(_("U+0000 (NUL) is not allowed in text."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return str(_("Lone surrogate characters are not allowed in text."))
    return None


def raw_problem(value: Any) -> str | None:
    """Walk `raw` (iteratively: no recursion limit) and report the first string, key or
    nesting level PostgreSQL's jsonb would refuse."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > RAW_MAX_DEPTH:
            return str(
                _("raw is nested more than %(depth)s levels deep.") % {"depth": RAW_MAX_DEPTH}
            )
        if isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(str(key))
                if problem:
                    return str(_("A key in raw is invalid: %(problem)s") % {"problem": problem})
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return str(_("A value in raw is invalid: %(problem)s") % {"problem": problem})
    return None


@extend_schema_field(OpenApiTypes.DATETIME)
class OffsetDateTimeField(serializers.Field):
    """An ISO 8601 string with a UTC offset (a naive time is ambiguous and refused), inside
    the desk's time window (servicedesk.timewindow: years 2000 to 2100)."""

    default_error_messages = {
        "invalid": _("Enter an ISO 8601 date and time, e.g. 2025-03-03T10:00:00+01:00."),
        "no_offset": _("The time needs a UTC offset (e.g. +01:00 or Z)."),
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = parse_datetime(data.strip())
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("no_offset")
        try:
            validate_moment(value)
        except ValidationError as error:
            raise serializers.ValidationError(error.messages, code="out_of_range") from error
        return value.astimezone(UTC)

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class OptionalTextField(serializers.CharField):
    """An optional string that may also be null (stored as "")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("default", "")
        super().__init__(**kwargs)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class AuthorInput(StrictInput):
    handle = serializers.CharField(max_length=255, trim_whitespace=False)
    display_name = OptionalTextField(max_length=255, trim_whitespace=False)
    platform_user_id = OptionalTextField(max_length=255)

    def validate_handle(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("This field may not be blank."))
        return value


class MentionInput(StrictInput):
    """One mention as pushed to `POST /api/v1/mentions/` (DESIGN §6).

    `context["channels"]` maps slugs to the active channels (loaded once per batch);
    `context["now"]` is the operation's time.
    """

    channel = serializers.CharField(max_length=64, help_text="Slug of an active channel.")
    external_id = serializers.CharField(max_length=255)
    author = AuthorInput()
    text = serializers.CharField(
        max_length=TEXT_MAX_CHARS,
        trim_whitespace=False,
        error_messages={
            "max_length": _("The text may be at most %(limit)s characters long.")
            % {"limit": f"{TEXT_MAX_CHARS:,}"}
        },
    )
    created_at = OffsetDateTimeField(
        help_text="ISO 8601 with offset; at most 5 minutes in the future."
    )
    url = serializers.URLField(
        max_length=2048,
        required=False,
        allow_blank=True,
        allow_null=True,
        default="",
        validators=[URLValidator(schemes=["http", "https"])],  # no ftp: links on ticket pages
    )
    in_reply_to = OptionalTextField(max_length=255, help_text="External id of the parent post.")
    is_private = serializers.BooleanField(required=False, default=False)
    language = OptionalTextField(max_length=16)
    raw = serializers.DictField(required=False, default=dict, help_text="The platform's payload.")

    def validate_channel(self, value: str) -> Channel:
        channels = self.context.get("channels")
        if channels is None:
            channels = active_channels([value])
        channel = channels.get(value)
        if channel is None:
            raise serializers.ValidationError(_("Unknown or inactive channel."))
        return channel

    def validate_text(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("This field may not be blank."))
        return value

    def validate_url(self, value: str | None) -> str:
        return value or ""

    def validate_created_at(self, value: datetime) -> datetime:
        now = self.context["now"]
        if value > now + FUTURE_TOLERANCE:
            raise serializers.ValidationError(_("The time lies more than 5 minutes in the future."))
        return value

    def validate_raw(self, value: dict[str, Any]) -> dict[str, Any]:
        problem = raw_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


@dataclass(frozen=True)
class ValidMention:
    """A validated item: its position in the input, its channel and the intake's value."""

    index: int
    channel: Channel
    mention: RawMention


def _looks_like_slug(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and text_problem(value) is None


def active_channels(slugs: Sequence[Any]) -> dict[str, Channel]:
    """slug → active channel, in one query (values that cannot be slugs are skipped)."""
    wanted = {slug for slug in slugs if _looks_like_slug(slug)}
    if not wanted:
        return {}
    found = lookups.get_many(ACTIVE_CHANNELS, wanted, _load_active_channels)
    return {slug: channel for slug, channel in found.items() if channel is not None}


def _load_active_channels(slugs: set[str]) -> dict[str, Channel]:
    # The secrets are not needed here; decrypting them costs on every request.
    channels = (
        Channel.objects.active().filter(slug__in=slugs).defer("credentials", "webhook_secret")
    )
    return {channel.slug: channel for channel in channels}


def to_raw_mention(data: dict[str, Any]) -> RawMention:
    author = data["author"]
    return RawMention(
        external_id=data["external_id"],
        author=RawAuthor(
            handle=author["handle"],
            display_name=author.get("display_name") or "",
            platform_user_id=author.get("platform_user_id") or "",
        ),
        text=data["text"],
        created_at=data["created_at"],
        url=data.get("url") or "",
        in_reply_to=data.get("in_reply_to") or "",
        is_private=data.get("is_private", False),
        language=data.get("language") or "",
        raw=data.get("raw") or {},
    )


def validate_mentions(
    items: Sequence[Any],
    *,
    now: datetime,
    channel_slug: str | None = None,
    refuse_repeats: bool = True,
) -> tuple[list[ValidMention], list[dict[str, Any]]]:
    """Validate mention payloads: (valid items, [{"index", "errors"}] of the invalid ones).

    Channels are loaded in one query. With `refuse_repeats` (the API) an item repeating the
    (channel, external_id) of an earlier item is invalid: a batch names each mention once.
    `channel_slug` overrides the items' own channel (imports with --channel).
    """
    if channel_slug is not None:
        items = [
            {**item, "channel": channel_slug} if isinstance(item, dict) else item for item in items
        ]
    channels = active_channels([item.get("channel") for item in items if isinstance(item, dict)])
    # One serializer for all items: binding a serializer's fields (deep copies) costs more
    # than validating an item, so they are bound once per batch.
    validator = MentionInput(context={"channels": channels, "now": now})
    valid: list[ValidMention] = []
    errors: list[dict[str, Any]] = []
    first_index: dict[tuple[int, str], int] = {}
    for index, item in enumerate(items):
        try:
            data = validator.run_validation(item)
        except serializers.ValidationError as error:
            errors.append({"index": index, "errors": error.detail})
            continue
        key = (data["channel"].pk, data["external_id"])
        if refuse_repeats and key in first_index:
            errors.append(
                {
                    "index": index,
                    "errors": {
                        "external_id": [
                            str(
                                _("This mention already appears at index %(index)s.")
                                % {"index": first_index[key]}
                            )
                        ]
                    },
                }
            )
            continue
        first_index.setdefault(key, index)
        valid.append(ValidMention(index, data["channel"], to_raw_mention(data)))
    return valid, errors


class MentionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.IntegerField(allow_null=True, help_text="null for own-account posts")
    status = serializers.ChoiceField(choices=["created", "duplicate"])


class MentionBatchResultSerializer(serializers.Serializer):
    results = MentionResultSerializer(many=True)


# --------------------------------------------------------------------------- mention output


@extend_schema_field({"type": "string", "description": "A URL, or empty when unknown."})
class BlankableURLField(serializers.URLField):
    """A URL that may be empty: the schema says "string" (an empty string is no URI)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class AuthorSerializer(serializers.Serializer):
    handle = serializers.CharField(source="author_handle")
    display_name = serializers.CharField(source="author_display_name")
    platform_user_id = serializers.CharField(source="author_platform_user_id")


class MentionSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author = AuthorSerializer(source="*", read_only=True)
    url = BlankableURLField(read_only=True)

    class Meta:
        model = Mention
        fields = [
            "id",
            "channel",
            "external_id",
            "ticket",
            "author",
            "text",
            "created_at",
            "received_at",
            "url",
            "in_reply_to",
            "parent",
            "is_private",
            "is_own_account",
            "is_hidden",
            "language",
            "raw",
        ]
        read_only_fields = fields


# --------------------------------------------------------------------------- channels

CHANNEL_HEALTH_FIELDS = [
    "last_polled_at",
    "last_success_at",
    "last_error",
    "lag_seconds",
    "is_healthy",
]


class ChannelSerializer(StrictModelInput):
    """A channel for superusers. `credentials` are write-only; health is read-only; the
    webhook secret is never shown here (only once, by create and rotate_secret)."""

    own_accounts = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, max_length=100
    )
    keywords = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, max_length=500
    )
    credentials = serializers.CharField(
        write_only=True, required=False, allow_blank=True, trim_whitespace=False
    )
    poll_interval_seconds = serializers.IntegerField(
        required=False, min_value=5, max_value=7 * 24 * 3600
    )
    base_url = BlankableURLField(required=False, max_length=200)
    callback_url = BlankableURLField(required=False, max_length=200)
    has_webhook_secret = serializers.SerializerMethodField()
    send_problems = serializers.SerializerMethodField(
        help_text="Why replies on this channel cannot go out now (empty: it can send)."
    )

    class Meta:
        model = Channel
        fields = [
            "slug",
            "platform",
            *CHANNEL_SETTINGS,
            *CHANNEL_HEALTH_FIELDS,
            "has_webhook_secret",
            "send_problems",
            "created_at",
        ]
        read_only_fields = [*CHANNEL_HEALTH_FIELDS, "created_at"]

    def get_has_webhook_secret(self, channel: Channel) -> bool:
        return bool(channel.webhook_secret)

    def get_send_problems(self, channel: Channel) -> list[str]:
        return list(send_health(channel).problems)


class ChannelUpdateSerializer(ChannelSerializer):
    """PATCH: the slug and the platform of a channel never change."""

    class Meta(ChannelSerializer.Meta):
        read_only_fields = ["slug", "platform", *CHANNEL_HEALTH_FIELDS, "created_at"]


class ChannelCreatedSerializer(ChannelSerializer):
    """The answer to creating a channel: for a webhook channel its signing secret, once."""

    secret = serializers.CharField(allow_null=True, read_only=True)

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "secret"]


class ChannelSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret, shown only this once.")
