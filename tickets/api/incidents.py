"""`/api/v1/incidents/` (issue 14, §5): incidents with their members and statements; opening
by hand, members added and removed, statements written and approved, closing.

Thin: input serializers check shape, tickets.actions.incidents does every write and enforces
every rule (403 for the role and self-approval, 409 for a closed incident).
"""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.models import Mention
from servicedesk.api_input import StrictInput
from tickets import access
from tickets.actions import incidents as incident_actions
from tickets.actions.incidents import MEMBERS_PER_CALL, STATEMENT_MAX_CHARS, SUMMARY_MAX_CHARS
from tickets.choices import ReplyStatus, StatementKind
from tickets.models import Incident, IncidentMember, IncidentStatement

ID_PATTERN = r"[0-9]{1,19}"


class IncidentStatementSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    deliveries = serializers.SerializerMethodField()

    class Meta:
        model = IncidentStatement
        fields = [
            "id",
            "kind",
            "text",
            "status",
            "author",
            "approved_by",
            "created_at",
            "approved_at",
            "deliveries",
        ]
        read_only_fields = fields

    def get_deliveries(self, statement: IncidentStatement) -> dict[str, int]:
        """Replies queued and sent (annotated by the view: no query per statement)."""
        return {
            "queued": getattr(statement, "queued_count", 0),
            "sent": getattr(statement, "sent_count", 0),
        }


class IncidentSerializer(serializers.ModelSerializer):
    """An incident; `mentions` and `tickets` are ids, `volume` its size and rate."""

    mentions = serializers.SerializerMethodField()
    tickets = serializers.SerializerMethodField()
    volume = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "state",
            "detected",
            "started_at",
            "opened_at",
            "closed_at",
            "mentions",
            "tickets",
            "volume",
            "reasons",
            "terms",
            "locations",
            "summary",
        ]
        read_only_fields = fields

    def get_mentions(self, incident: Incident) -> list[int]:
        return sorted(member.mention_id for member in incident.members.all())

    def get_tickets(self, incident: Incident) -> list[int]:
        return sorted({member.ticket_id for member in incident.members.all()})

    def get_volume(self, incident: Incident) -> dict[str, float]:
        return {
            "members": len(incident.members.all()),
            "per_minute": incident.volume_per_minute,
            "baseline_per_minute": incident.baseline_per_minute,
        }


class IncidentDetailSerializer(IncidentSerializer):
    statements = IncidentStatementSerializer(many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "statements"]
        read_only_fields = fields


class OpenIncidentInput(StrictInput):
    title = serializers.CharField(max_length=incident_actions.TITLE_MAX_CHARS)
    mentions = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=MEMBERS_PER_CALL,
    )


class MemberInput(StrictInput):
    mention = serializers.IntegerField(min_value=1)


class StatementInput(StrictInput):
    kind = serializers.ChoiceField(choices=StatementKind.choices)
    text = serializers.CharField(max_length=STATEMENT_MAX_CHARS)


class CloseInput(StrictInput):
    summary = serializers.CharField(max_length=SUMMARY_MAX_CHARS)


def _statements() -> QuerySet[IncidentStatement]:
    return IncidentStatement.objects.select_related("author", "approved_by").annotate(
        queued_count=Count("deliveries"),
        sent_count=Count("deliveries", filter=Q(deliveries__reply__status=ReplyStatus.SENT)),
    )


@extend_schema_view(
    list=extend_schema(summary="Incidents, newest first"),
    retrieve=extend_schema(summary="One incident with its members and statements"),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = IncidentSerializer
    lookup_value_regex = ID_PATTERN

    def get_queryset(self) -> QuerySet[Incident]:
        queryset = access.visible_incidents(self.request.user).prefetch_related(
            Prefetch(
                "members", queryset=IncidentMember.objects.only("incident", "mention", "ticket")
            )
        )
        if self.action != "list":
            queryset = queryset.prefetch_related(Prefetch("statements", queryset=_statements()))
        return queryset.order_by("-opened_at", "-id")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return IncidentSerializer if self.action == "list" else IncidentDetailSerializer

    def _answer(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(IncidentDetailSerializer(fresh).data, status=code)

    def _mention(self, mention_id: int) -> Mention:
        return get_object_or_404(access.visible_mentions(self.request.user), pk=mention_id)

    @extend_schema(
        summary="Open an incident by hand", request=OpenIncidentInput, responses={201: None}
    )
    def create(self, request: Request) -> Response:
        command = OpenIncidentInput(data=request.data)
        command.is_valid(raise_exception=True)
        incident = incident_actions.open_incident(
            actor=request.user,
            title=command.validated_data["title"],
            mention_ids=command.validated_data["mentions"],
        )
        return self._answer(incident, status.HTTP_201_CREATED)

    @extend_schema(summary="Add a member mention", request=MemberInput)
    @action(detail=True, methods=["post"])
    def members(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        command = MemberInput(data=request.data)
        command.is_valid(raise_exception=True)
        mention = self._mention(command.validated_data["mention"])
        incident_actions.add_incident_member(incident, mention, actor=request.user)
        return self._answer(incident)

    @extend_schema(summary="Remove a member mention", request=MemberInput)
    @action(detail=True, methods=["post"], url_path="members/remove")
    def remove_member(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        command = MemberInput(data=request.data)
        command.is_valid(raise_exception=True)
        mention = self._mention(command.validated_data["mention"])
        incident_actions.remove_incident_member(incident, mention, actor=request.user)
        return self._answer(incident)

    @extend_schema(
        summary="Write the holding or resolution statement",
        request=StatementInput,
        responses={201: IncidentStatementSerializer},
    )
    @action(detail=True, methods=["post"])
    def statements(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        command = StatementInput(data=request.data)
        command.is_valid(raise_exception=True)
        statement = incident_actions.write_statement(
            incident, actor=request.user, **command.validated_data
        )
        fresh = _statements().get(pk=statement.pk)
        return Response(IncidentStatementSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve a statement (a second person; then it is sent to every member)",
        request=None,
        responses={200: IncidentStatementSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"statements/(?P<statement_id>[0-9]{1,19})/approve",
    )
    def approve_statement(
        self, request: Request, pk: str | None = None, statement_id: str | None = None
    ) -> Response:
        incident = self.get_object()
        statement = get_object_or_404(incident.statements.all(), pk=statement_id)
        incident_actions.approve_statement(statement, actor=request.user)
        return Response(IncidentStatementSerializer(_statements().get(pk=statement.pk)).data)

    @extend_schema(summary="Close with a summary (sends the resolution)", request=CloseInput)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        incident = self.get_object()
        command = CloseInput(data=request.data)
        command.is_valid(raise_exception=True)
        incident_actions.close_incident(
            incident, actor=request.user, summary=command.validated_data["summary"]
        )
        return self._answer(incident)
