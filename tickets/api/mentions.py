"""`/api/v1/mentions/` (DESIGN §6): mentions pushed in (one or a batch, into their tickets
through tickets.intake) and read out (filtered by what the caller may see).

Thin: validation by monitoring's mention serializers, writes by tickets.intake.
"""

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring.api.serializers import (
    BATCH_MAX_ITEMS,
    MentionBatchResultSerializer,
    MentionInput,
    MentionResultSerializer,
    validate_mentions,
)
from monitoring.models import Mention
from servicedesk import roles
from servicedesk.api import BatchInvalid
from tickets import access, intake
from tickets.api.permissions import MayPushMentions
from tickets.api.serializers import DeskMentionSerializer
from tickets.models import Department
from triage import actions as triage_actions
from triage.api.serializers import (
    TriageCorrectionInput,
    TriageCorrectionResultSerializer,
)
from triage.filters import TriagedMentionFilter

MENTION_PUSH = PolymorphicProxySerializer(
    component_name="MentionPush",
    serializers=[MentionInput, MentionInput(many=True)],
    resource_type_field_name=None,
    many=False,
)
MENTION_PUSH_RESULT = PolymorphicProxySerializer(
    component_name="MentionPushResult",
    serializers=[MentionResultSerializer, MentionBatchResultSerializer],
    resource_type_field_name=None,
    many=False,
)


def _invalid_body(message: str) -> serializers.ValidationError:
    return serializers.ValidationError({"non_field_errors": [message]})


@extend_schema_view(
    list=extend_schema(
        summary="Mentions with their triage suggestion (filter by channel, time range, ticket, "
        "suggested_route, tonality, abusive)"
    ),
    retrieve=extend_schema(summary="One mention with its triage suggestion"),
)
class MentionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`GET /api/v1/mentions/`, `GET /api/v1/mentions/{id}/` and `POST /api/v1/mentions/`
    (one mention or a batch)."""

    serializer_class = DeskMentionSerializer
    filterset_class = TriagedMentionFilter
    permission_classes = [IsAuthenticated, MayPushMentions]

    def get_permissions(self) -> list[Any]:
        if self.action == "triage":  # who may correct is checked in the action (404 first)
            return [IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Mention]:
        return (
            access.visible_mentions(self.request.user)
            .select_related("channel", "triage", "incident_membership")
            .order_by("-received_at", "-id")
        )

    @extend_schema(
        summary="Push one mention or a batch of 1 to 1,000",
        request=MENTION_PUSH,
        responses={200: MENTION_PUSH_RESULT, 201: MENTION_PUSH_RESULT},
        examples=[
            OpenApiExample(
                "One mention",
                request_only=True,
                value={
                    "channel": "twitter",
                    "external_id": "2119672633978683046",
                    "author": {"handle": "@maike_unterwegs", "display_name": "Maike"},
                    "text": "@ZugPlus_hilft ZX 204 ohne Bordbistro?",
                    "created_at": "2026-11-09T07:05:12+01:00",
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        """All or nothing: one invalid item answers 400 with the errors of every invalid
        item, and nothing is stored. 201 when anything was created, else 200."""
        now = timezone.now()
        body = request.data
        is_batch = isinstance(body, list)
        if not is_batch and not isinstance(body, dict):
            raise _invalid_body(
                _("The body must be a JSON object (one mention) or an array of mentions.")
            )
        if is_batch and not body:
            raise _invalid_body(_("The batch is empty: send 1 to 1,000 mentions."))
        if is_batch and len(body) > BATCH_MAX_ITEMS:
            raise _invalid_body(
                _("A batch holds at most %(limit)s mentions; this one has %(count)s.")
                % {"limit": f"{BATCH_MAX_ITEMS:,}", "count": f"{len(body):,}"}
            )
        items = body if is_batch else [body]
        valid, errors = validate_mentions(items, now=now)
        if errors:
            if is_batch:
                raise BatchInvalid(errors)
            raise serializers.ValidationError(errors[0]["errors"])
        results = intake.receive_mention_batch(
            [(item.channel, item.mention) for item in valid], now=now
        )
        answers = [
            {"id": result.mention_id, "ticket": result.ticket_id, "status": result.status}
            for result in results
        ]
        created = any(answer["status"] == "created" for answer in answers)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response({"results": answers} if is_batch else answers[0], status=code)

    @extend_schema(
        summary="Correct the triage suggestion (any subset of heads) — recorded as labels",
        request=TriageCorrectionInput,
        responses={200: TriageCorrectionResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="triage")
    def triage(self, request: Request, pk: str | None = None) -> Response:
        """CMs, agents and team leads (404 outside the caller's visibility, 400 for bad
        input, 403 for other roles)."""
        mention = self.get_object()
        command = TriageCorrectionInput(data=request.data)
        command.is_valid(raise_exception=True)
        if not roles.is_desk_staff(request.user) or roles.is_api_client(request.user):
            raise PermissionDenied(_("Only CMs, agents and team leads correct suggestions."))
        labels = dict(command.validated_data)
        department = labels.get("department")
        if department and not Department.objects.filter(slug=department).exists():
            raise serializers.ValidationError({"department": [_("Unknown department.")]})
        recorded = triage_actions.record_labels(
            mention, labels, source="correction", actor=request.user, now=timezone.now()
        )
        return Response(
            TriageCorrectionResultSerializer({"mention": mention.pk, "labels": recorded}).data
        )
