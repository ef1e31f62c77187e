"""The tickets REST API (DESIGN §6): tickets and their transitions, notes, replies and their
review, notifications. Thin: serializers validate shape, tickets.actions does every write
and enforces every rule (403/409).
"""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.models import Mention
from servicedesk.api import PageNumberPagination
from servicedesk.errors import StaleState, SystemTransitionOnly
from tickets import access, actions
from tickets.api.knowledge import SuggestionsSerializer
from tickets.api.serializers import (
    TRANSITION_INPUTS,
    ApproveInput,
    ConfirmPostedInput,
    MarkedReadSerializer,
    NoteInput,
    NoteSerializer,
    NotificationSerializer,
    RejectInput,
    ReplyInput,
    ReplySerializer,
    TicketDetailSerializer,
    TicketSerializer,
    TransitionInput,
    TransitionRequestSerializer,
)
from tickets.filters import NotificationFilter, TicketFilter
from tickets.models import Notification, Reply, SlaClock, Ticket
from tickets.reply_context import default_answered_mention, render_template_text
from tickets.suggestions import suggestions_for

ID_PATTERN = r"[0-9]{1,19}"


@extend_schema_view(
    list=extend_schema(summary="Tickets the caller may see"),
    retrieve=extend_schema(summary="One ticket with mentions, replies, clocks and links"),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[Ticket]:
        return (
            access.visible_tickets(self.request.user)
            .select_related("channel", "customer", "assignee", "assigned_by", "topic")
            .order_by("-opened_at", "-id")
        )

    def _with_details(self, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        """Everything TicketDetailSerializer reads, in one query per relation."""
        return queryset.prefetch_related(
            Prefetch(
                "mentions",
                queryset=Mention.objects.select_related(
                    "channel", "triage", "incident_membership"
                ).order_by("created_at", "id"),
            ),
            Prefetch("replies", queryset=Reply.objects.select_related("author", "reviewer")),
            Prefetch("clocks", queryset=SlaClock.objects.select_related("breach").order_by("id")),
            "links_out",
            "links_in",
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return TicketSerializer if self.action == "list" else TicketDetailSerializer

    def _detail(self, ticket: Ticket) -> dict[str, Any]:
        """The ticket as `GET /tickets/{id}/` shows it to the caller, freshly read."""
        ticket = self._with_details(self.get_queryset()).get(pk=ticket.pk)
        context = {
            **self.get_serializer_context(),
            "now": timezone.now(),
            "available_transitions": actions.available_transitions(ticket, self.request.user),
        }
        return TicketDetailSerializer(ticket, context=context).data

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._detail(self.get_object()))

    @extend_schema(
        request=TransitionRequestSerializer,
        responses={200: TicketDetailSerializer},
        summary="Perform a transition (checks: 404, 400, 403, 409)",
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        """Checks in DESIGN §6's order: 404 → 400 → 403 → 409."""
        ticket = self.get_object()
        command = TransitionInput(data=request.data)
        command.is_valid(raise_exception=True)
        name = command.validated_data["transition"]
        if name not in actions.TRANSITION_ACTIONS:
            raise SystemTransitionOnly(transition=name)
        arguments = TRANSITION_INPUTS[name](
            data=request.data,
            context={"ticket": ticket, "tickets": access.visible_tickets(request.user)},
        )
        arguments.is_valid(raise_exception=True)
        actions.ensure_may_perform(request.user, ticket, name)
        expected_state = command.validated_data.get("expected_state")
        if expected_state and expected_state != ticket.state:
            raise StaleState(expected=expected_state, actual=ticket.state)
        ticket = actions.TRANSITION_ACTIONS[name](
            ticket, actor=request.user, **arguments.validated_data
        )
        return Response(self._detail(ticket))

    @extend_schema(
        responses={200: SuggestionsSerializer},
        parameters=[
            OpenApiParameter(
                "mention", int, description="The mention answered (default: the newest one)"
            )
        ],
        summary="Articles and past answers most similar to the mention being answered",
    )
    @action(detail=True, methods=["get"])
    def suggestions(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        mention = default_answered_mention(ticket)
        wanted = request.query_params.get("mention", "")
        if wanted:
            if not wanted.isdigit() or len(wanted) > 19:
                raise serializers.ValidationError({"mention": ["A mention id is a number."]})
            mention = ticket.mentions.filter(pk=int(wanted), is_own_account=False).first()
            if mention is None:
                raise serializers.ValidationError(
                    {"mention": ["No mention of this ticket has this id."]}
                )
        return Response(SuggestionsSerializer(suggestions_for(ticket, mention)).data)

    @extend_schema(request=NoteInput, responses={201: NoteSerializer}, summary="Internal note")
    @action(detail=True, methods=["post"])
    def notes(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        command = NoteInput(data=request.data)
        command.is_valid(raise_exception=True)
        note = actions.add_note(ticket, actor=request.user, text=command.validated_data["text"])
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReplyInput, responses={201: ReplySerializer}, summary="Draft a reply")
    @action(detail=True, methods=["post"])
    def replies(self, request: Request, pk: str | None = None) -> Response:
        ticket = self.get_object()
        command = ReplyInput(data=request.data, context={"ticket": ticket})
        command.is_valid(raise_exception=True)
        data = command.validated_data
        text = data["text"]
        if not text.strip() and data.get("template") is not None:
            text = render_template_text(
                data["template"],
                ticket=ticket,
                actor=request.user,
                mention=data.get("in_reply_to_mention"),
            )
        reply = actions.create_reply(
            ticket,
            actor=request.user,
            text=text,
            visibility=data["visibility"],
            kind=data["kind"],
            in_reply_to_mention=data.get("in_reply_to_mention"),
            template=data.get("template"),
            submit=data["submit"],
        )
        return Response(ReplySerializer(reply).data, status=status.HTTP_201_CREATED)


class ReplyViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One reply and the steps of its review (DESIGN §3.2); the actions refuse
    self-approval (403) and steps from the wrong status (409)."""

    serializer_class = ReplySerializer
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[Reply]:
        return access.visible_replies(self.request.user).select_related("author", "reviewer")

    def _answer(self, reply: Reply) -> Response:
        return Response(ReplySerializer(self.get_queryset().get(pk=reply.pk)).data)

    @extend_schema(request=None, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(actions.submit_reply(self.get_object(), actor=request.user))

    @extend_schema(request=ApproveInput, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        reply = self.get_object()
        command = ApproveInput(data=request.data)
        command.is_valid(raise_exception=True)
        return self._answer(
            actions.approve_reply(
                reply, actor=request.user, override_reason=command.validated_data["override_reason"]
            )
        )

    @extend_schema(request=RejectInput, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        reply = self.get_object()
        command = RejectInput(data=request.data)
        command.is_valid(raise_exception=True)
        return self._answer(
            actions.reject_reply(
                reply, actor=request.user, comment=command.validated_data["comment"]
            )
        )

    @extend_schema(request=None, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(actions.retry_reply(self.get_object(), actor=request.user))

    @extend_schema(request=ConfirmPostedInput, responses={200: ReplySerializer})
    @action(detail=True, methods=["post"])
    def confirm_posted(self, request: Request, pk: str | None = None) -> Response:
        reply = self.get_object()
        command = ConfirmPostedInput(data=request.data)
        command.is_valid(raise_exception=True)
        return self._answer(
            actions.confirm_reply_posted(
                reply, actor=request.user, permalink=command.validated_data["permalink"]
            )
        )


class NotificationPagination(PageNumberPagination):
    """Pages of notifications, with the caller's unread count beside them."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["unread_count"] = {"type": "integer", "example": 3}
        paginated["required"] = [*paginated.get("required", []), "unread_count"]
        return paginated


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications (others' answer 404)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    pagination_class = NotificationPagination
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        return Notification.objects.for_user(self.request.user).order_by("-created_at", "-id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        response.data["unread_count"] = self.get_queryset().unread().count()
        return response

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = actions.mark_notification_read(self.get_object(), actor=request.user)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: MarkedReadSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        marked = actions.mark_all_notifications_read(actor=request.user)
        return Response({"marked": marked, "unread_count": self.get_queryset().unread().count()})
