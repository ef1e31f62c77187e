"""Serializers of the tickets API. Output serializers are named after the model; input
serializers after the operation. They validate shape; the actions enforce the rules.
"""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from guidelines.models import ReplyTemplate
from monitoring.api.serializers import BlankableURLField
from monitoring.models import Mention
from servicedesk.api_input import StrictInput
from servicedesk.timewindow import DayInput
from tickets import sla
from tickets.choices import DismissReason, ReplyKind, ReplyVisibility, TicketState
from tickets.models import (
    Department,
    Notification,
    Reply,
    SlaClock,
    Ticket,
    TicketNote,
    Topic,
)
from tickets.transitions import HUMAN_TRANSITIONS, SYSTEM_TRANSITIONS
from triage.api.serializers import TriagedMentionSerializer

User = get_user_model()

TRANSITION_NAMES = [*HUMAN_TRANSITIONS, *sorted(SYSTEM_TRANSITIONS)]
TEXT_MAX_CHARS = 65_536  # replies, notes, questions: the same limit as a mention's text
REASON_MAX_CHARS = 10_000


# --------------------------------------------------------------------------- output


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return user.get_full_name() or user.get_username()


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class ClockSerializer(serializers.ModelSerializer):
    """An SLA clock; `breached` is a recorded breach or `coalesce(stopped_at, now) > due_at`
    (DESIGN §4); `remaining_seconds` is null once the clock stopped."""

    breached = serializers.SerializerMethodField()
    remaining_seconds = serializers.SerializerMethodField()

    class Meta:
        model = SlaClock
        fields = [
            "id",
            "kind",
            "started_at",
            "warn_at",
            "due_at",
            "stopped_at",
            "warned_at",
            "is_cancelled",
            "department_request",
            "breached",
            "remaining_seconds",
        ]
        read_only_fields = fields

    def _now(self) -> Any:
        return self.context.get("now") or timezone.now()

    def get_breached(self, clock: SlaClock) -> bool:
        try:
            clock.breach  # noqa: B018 (select_related: no query)
            return True
        except SlaClock.breach.RelatedObjectDoesNotExist:
            pass
        if clock.is_cancelled:
            return False
        return sla.is_breached(clock.due_at, at=clock.stopped_at or self._now())

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_remaining_seconds(self, clock: SlaClock) -> float | None:
        if clock.stopped_at is not None:
            return None
        return sla.remaining_seconds(clock.due_at, now=self._now())


class ReplySerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)
    reviewer = UserRefSerializer(read_only=True, allow_null=True)
    permalink = BlankableURLField(read_only=True)

    class Meta:
        model = Reply
        fields = [
            "id",
            "ticket",
            "in_reply_to_mention",
            "visibility",
            "kind",
            "text",
            "template",
            "status",
            "author",
            "reviewer",
            "reviewed_at",
            "review_comment",
            "personal_data_override",
            "created_at",
            "updated_at",
            "submitted_at",
            "approved_at",
            "sent_at",
            "attempts",
            "next_attempt_at",
            "last_error",
            "platform_id",
            "permalink",
        ]
        read_only_fields = fields


class LinkSerializer(serializers.Serializer):
    """A link seen from the ticket: `out` (this ticket → other) or `in` (other → this)."""

    kind = serializers.CharField()
    direction = serializers.ChoiceField(choices=["out", "in"])
    ticket = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class NoteSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)

    class Meta:
        model = TicketNote
        fields = ["id", "ticket", "author", "text", "created_at"]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    """A ticket in lists: its state, stage, owner and next deadline."""

    stage = serializers.CharField(allow_null=True, read_only=True)
    channel = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    customer = CustomerRefSerializer(read_only=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    assigned_by = serializers.SerializerMethodField(
        help_text='"routing" when routing assigned the ticket, else the assigning user\'s '
        "username; null when unassigned"
    )
    topic = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    dismiss_reason = serializers.ChoiceField(
        choices=DismissReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "state",
            "stage",
            "priority",
            "channel",
            "customer",
            "assignee",
            "assigned_by",
            "assigned_at",
            "is_private",
            "preview",
            "mention_count",
            "opened_at",
            "posted_at",
            "last_mention_at",
            "state_changed_at",
            "updated_at",
            "resolved_at",
            "sla_due_at",
            "no_service_case",
            "dismiss_reason",
            "handover_reference",
            "topic",
            "resubmission_on",
            "follow_up_due_at",
        ]
        read_only_fields = fields

    def get_assigned_by(self, ticket: Ticket) -> str | None:
        if ticket.assignee_id is None:
            return None
        if ticket.assigned_by_routing:
            return "routing"
        return ticket.assigned_by.get_username() if ticket.assigned_by_id else None


class DeskMentionSerializer(TriagedMentionSerializer):
    """A mention with its triage suggestion and its incident's id (issue 14), or null; the
    queryset selects `incident_membership`, so the field costs no query."""

    incident = serializers.SerializerMethodField()

    class Meta(TriagedMentionSerializer.Meta):
        fields = [*TriagedMentionSerializer.Meta.fields, "incident"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_incident(self, mention: Mention) -> int | None:
        membership = getattr(mention, "incident_membership", None)
        return membership.incident_id if membership is not None else None


class TicketDetailSerializer(TicketSerializer):
    """A ticket with its conversation, replies, clocks, links and the human transitions the
    caller may perform now (`context["available_transitions"]`)."""

    mentions = DeskMentionSerializer(many=True, read_only=True)
    replies = ReplySerializer(many=True, read_only=True)
    clocks = ClockSerializer(many=True, read_only=True)
    links = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "mentions",
            "replies",
            "clocks",
            "links",
            "available_transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(LinkSerializer(many=True))
    def get_links(self, ticket: Ticket) -> list[dict[str, Any]]:
        links = [
            {"kind": link.kind, "direction": "out", "ticket": link.to_ticket_id,
             "created_at": link.created_at}
            for link in ticket.links_out.all()
        ] + [
            {"kind": link.kind, "direction": "in", "ticket": link.from_ticket_id,
             "created_at": link.created_at}
            for link in ticket.links_in.all()
        ]  # fmt: skip
        return LinkSerializer(links, many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_transitions(self, ticket: Ticket) -> list[str]:
        return list(self.context.get("available_transitions", []))


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "ticket", "text", "created_at", "read_at"]
        read_only_fields = fields


# --------------------------------------------------------------------------- transitions


class TransitionInput(StrictInput):
    """`{"transition": name, "expected_state": state (optional), ...arguments}`."""

    transition = serializers.ChoiceField(
        choices=TRANSITION_NAMES,
        help_text="A transition of DESIGN §3.1; system transitions answer 403.",
    )
    expected_state = serializers.ChoiceField(choices=TicketState.choices, required=False)


class NoArgumentsInput(StrictInput):
    pass


class AssignToSupportInput(StrictInput):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_CHARS
    )


class ReasonInput(StrictInput):
    reason = serializers.CharField(max_length=REASON_MAX_CHARS)


class TakeInput(StrictInput):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="User id (team leads only); default: the caller.",
    )


class TicketMentionField(serializers.PrimaryKeyRelatedField):
    """A mention of the ticket in `context["ticket"]` (others are invalid input)."""

    default_error_messages = {
        "not_of_ticket": _("The mention does not belong to this ticket."),
    }

    def get_queryset(self) -> Any:
        ticket = self.context.get("ticket")
        return Mention.objects.filter(ticket=ticket) if ticket is not None else Mention.objects

    def to_internal_value(self, data: Any) -> Any:
        queryset = self.get_queryset()
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return queryset.get(pk=int(data))
        except Mention.DoesNotExist:
            self.fail("not_of_ticket")
        except (TypeError, ValueError, OverflowError):
            self.fail("incorrect_type", data_type=type(data).__name__)


class RequestPrivateDataInput(StrictInput):
    text = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=TEXT_MAX_CHARS
    )
    template = serializers.PrimaryKeyRelatedField(
        queryset=ReplyTemplate.objects.filter(is_active=True), required=False, allow_null=True
    )
    in_reply_to_mention = TicketMentionField(
        queryset=Mention.objects.all(), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("text", "").strip() and attrs.get("template") is None:
            raise serializers.ValidationError({"text": [_("Give a text or a template.")]})
        return attrs


class AskDepartmentInput(StrictInput):
    department = serializers.SlugRelatedField(
        slug_field="slug", queryset=Department.objects.all(), help_text="Department slug."
    )
    question = serializers.CharField(max_length=TEXT_MAX_CHARS)
    shared_mentions = serializers.ListField(
        child=TicketMentionField(queryset=Mention.objects.all()),
        required=False,
        default=list,
        max_length=1000,
        help_text="Ids of this ticket's mentions the expert may see.",
    )


class ScheduleResubmissionInput(StrictInput):
    resubmission_on = DayInput(help_text="Tomorrow or later (desk time).")
    handover_reference = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=255
    )

    def validate_resubmission_on(self, value: date) -> date:
        if value <= sla.desk_today(timezone.now()):
            raise serializers.ValidationError(_("The follow-up date must be tomorrow or later."))
        return value


class RescheduleResubmissionInput(StrictInput):
    resubmission_on = DayInput(help_text="Tomorrow or later (desk time).")

    def validate_resubmission_on(self, value: date) -> date:
        if value <= sla.desk_today(timezone.now()):
            raise serializers.ValidationError(_("The follow-up date must be tomorrow or later."))
        return value


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 255}]})
class TopicField(serializers.Field):
    """An existing topic by id, or a topic name (an existing one, or a new one)."""

    default_error_messages = {
        "invalid": _("Give a topic id or a topic name."),
        "does_not_exist": _("No topic has this id."),
        "too_long": _("A topic name has at most 255 characters."),
    }

    def to_internal_value(self, data: Any) -> Topic | str:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            topic = Topic.objects.filter(pk=data).first()
            if topic is None:
                self.fail("does_not_exist")
            return topic
        if not isinstance(data, str) or not data.strip():
            self.fail("invalid")
        name = data.strip()
        if len(name) > 255:
            self.fail("too_long")
        serializers.CharField().run_validators(name)  # NUL and lone surrogates
        return name

    def to_representation(self, value: Any) -> Any:
        return value.pk if isinstance(value, Topic) else value


class MarkUnsolvableInput(StrictInput):
    topic = TopicField()


class VisibleTicketField(serializers.PrimaryKeyRelatedField):
    """A ticket the caller may see (`context["tickets"]`: a visible queryset)."""

    def get_queryset(self) -> Any:
        return self.context["tickets"]


class DismissInput(StrictInput):
    reason = serializers.ChoiceField(choices=DismissReason.choices)
    duplicate_of = VisibleTicketField(
        queryset=Ticket.objects.none(), required=False, allow_null=True
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["reason"] == DismissReason.DUPLICATE and attrs.get("duplicate_of") is None:
            raise serializers.ValidationError({"duplicate_of": [_("Name the original ticket.")]})
        ticket = self.context.get("ticket")
        duplicate_of = attrs.get("duplicate_of")
        if ticket is not None and duplicate_of is not None and duplicate_of.pk == ticket.pk:
            raise serializers.ValidationError(
                {"duplicate_of": [_("A ticket cannot duplicate itself.")]}
            )
        if attrs["reason"] != DismissReason.DUPLICATE:
            attrs["duplicate_of"] = None
        return attrs


# The input of each human transition of tickets.transitions: its arguments, by the same names
# (a test holds each serializer's fields to the table's arguments).
TRANSITION_INPUTS: dict[str, type[serializers.Serializer]] = {
    "assign_to_support": AssignToSupportInput,
    "return_to_cm": ReasonInput,
    "take": TakeInput,
    "release": ReasonInput,
    "request_private_data": RequestPrivateDataInput,
    "ask_department": AskDepartmentInput,
    "withdraw_department_request": ReasonInput,
    "close_no_response": NoArgumentsInput,
    "schedule_resubmission": ScheduleResubmissionInput,
    "reschedule_resubmission": RescheduleResubmissionInput,
    "resume_early": AssignToSupportInput,
    "resolve": NoArgumentsInput,
    "mark_unsolvable": MarkUnsolvableInput,
    "dismiss": DismissInput,
    "reopen": ReasonInput,
}


class TransitionRequestSerializer(StrictInput):
    """The documented body of the transitions endpoint (the union of every argument)."""

    transition = serializers.ChoiceField(choices=TRANSITION_NAMES)
    expected_state = serializers.ChoiceField(choices=TicketState.choices, required=False)
    note = serializers.CharField(required=False, max_length=REASON_MAX_CHARS)
    reason = serializers.CharField(required=False, max_length=REASON_MAX_CHARS)
    assignee = serializers.IntegerField(required=False, allow_null=True)
    text = serializers.CharField(required=False, max_length=TEXT_MAX_CHARS)
    template = serializers.IntegerField(required=False, allow_null=True)
    in_reply_to_mention = serializers.IntegerField(required=False, allow_null=True)
    department = serializers.CharField(required=False)
    question = serializers.CharField(required=False, max_length=TEXT_MAX_CHARS)
    shared_mentions = serializers.ListField(child=serializers.IntegerField(), required=False)
    resubmission_on = DayInput(required=False)
    handover_reference = serializers.CharField(required=False, max_length=255)
    topic = TopicField(required=False)
    duplicate_of = serializers.IntegerField(required=False, allow_null=True)


# --------------------------------------------------------------------------- notes, replies


class NoteInput(StrictInput):
    text = serializers.CharField(max_length=TEXT_MAX_CHARS)


class ReplyInput(StrictInput):
    text = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=TEXT_MAX_CHARS
    )
    visibility = serializers.ChoiceField(choices=ReplyVisibility.choices)
    kind = serializers.ChoiceField(choices=ReplyKind.choices)
    in_reply_to_mention = TicketMentionField(
        queryset=Mention.objects.all(),
        required=False,
        allow_null=True,
        help_text="Default: the newest mention of the ticket's customer.",
    )
    template = serializers.PrimaryKeyRelatedField(
        queryset=ReplyTemplate.objects.filter(is_active=True), required=False, allow_null=True
    )
    submit = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("text", "").strip() and attrs.get("template") is None:
            raise serializers.ValidationError({"text": [_("Give a text or a template.")]})
        return attrs


class ApproveInput(StrictInput):
    # Issue 15, point 7: required when the public reply contains personal data.
    override_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default=""
    )


class RejectInput(StrictInput):
    comment = serializers.CharField(max_length=REASON_MAX_CHARS)


class ConfirmPostedInput(StrictInput):
    permalink = serializers.URLField(max_length=2048)


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread_count = serializers.IntegerField()
