"""The monitoring REST API (DESIGN §6): channels, for superusers. (Mentions in and out are
the tickets API's: receiving a mention opens or joins its ticket.)

Thin: validation by the serializers, writes by monitoring.actions.
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from monitoring import actions
from monitoring.api.permissions import IsSuperuser
from monitoring.api.serializers import (
    ChannelCreatedSerializer,
    ChannelSecretSerializer,
    ChannelSerializer,
    ChannelUpdateSerializer,
)
from monitoring.filters import ChannelFilter
from monitoring.models import Channel
from servicedesk.web import secret_answer


@extend_schema_view(
    create=extend_schema(responses={201: ChannelCreatedSerializer}),
    partial_update=extend_schema(request=ChannelUpdateSerializer),
)
class ChannelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Channels, for superusers: list, create, read, change (PATCH); rotate_secret."""

    serializer_class = ChannelSerializer
    filterset_class = ChannelFilter
    permission_classes = [IsAuthenticated, IsSuperuser]
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Channel]:
        return Channel.objects.order_by("slug")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "partial_update":
            return ChannelUpdateSerializer
        return ChannelSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ChannelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        channel, secret = actions.create_channel(actor=request.user, **serializer.validated_data)
        answer = ChannelCreatedSerializer(channel).data
        answer["secret"] = secret
        return secret_answer(Response(answer, status=status.HTTP_201_CREATED))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        channel = self.get_object()
        serializer = ChannelUpdateSerializer(channel, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        channel = actions.change_channel_settings(
            channel, actor=request.user, **serializer.validated_data
        )
        return Response(ChannelSerializer(channel).data)

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(ChannelSecretSerializer, "The new secret, once.")},
    )
    @action(detail=True, methods=["post"])
    def rotate_secret(self, request: Request, slug: str | None = None) -> Response:
        """A new signing secret for a webhook channel, returned once."""
        secret = actions.rotate_channel_secret(self.get_object(), actor=request.user)
        return secret_answer(Response({"secret": secret}))
