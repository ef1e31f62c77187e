"""The staffing API (issue 16, point 6). Thin: writes go through staffing.actions.

- `POST /api/v1/presence/` `{"status"}`: the caller's presence (desk staff).
- `GET /api/v1/presence/`: desk staff: who is online, away, offline, on which duty now.
- `GET`/`PATCH /api/v1/routing/`: team leads: `{"auto_assign", "max_open_per_agent"}`.
- `GET`/`PATCH /api/v1/users/{id}/routing/`: team leads: a person's capacity and skills.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk import roles
from staffing import actions, board
from staffing.api.serializers import (
    MemberRoutingInput,
    MemberRoutingSerializer,
    PresenceInput,
    PresenceSerializer,
    RoutingSettingsInput,
    RoutingSettingsSerializer,
)


class IsDeskStaff(BasePermission):
    message = _("Only CMs, agents and team leads have a presence.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.is_desk_staff(request.user)


class IsTeamLead(BasePermission):
    message = _("Only team leads change the routing.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user.is_authenticated and (user.is_superuser or roles.is_team_lead(user)))


class PresenceView(APIView):
    permission_classes = [IsDeskStaff]

    @extend_schema(responses=PresenceSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(PresenceSerializer(board.staff_board(timezone.now()), many=True).data)

    @extend_schema(request=PresenceInput, responses=PresenceSerializer)
    def post(self, request: Request) -> Response:
        command = PresenceInput(data=request.data)
        command.is_valid(raise_exception=True)
        now = timezone.now()
        actions.set_presence(request.user, command.validated_data["status"], now=now)
        row = next(row for row in board.staff_board(now) if row.user.pk == request.user.pk)
        return Response(PresenceSerializer(row).data)


class RoutingSettingsView(APIView):
    permission_classes = [IsTeamLead]

    @extend_schema(responses=RoutingSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(RoutingSettingsSerializer(actions.routing_settings()).data)

    @extend_schema(request=RoutingSettingsInput, responses=RoutingSettingsSerializer)
    def patch(self, request: Request) -> Response:
        command = RoutingSettingsInput(data=request.data)
        command.is_valid(raise_exception=True)
        desk = actions.update_routing_settings(
            actor=request.user, now=timezone.now(), **command.validated_data
        )
        return Response(RoutingSettingsSerializer(desk).data)


class MemberRoutingView(APIView):
    permission_classes = [IsTeamLead]

    def member_user(self, pk: int) -> Any:
        return get_object_or_404(get_user_model().objects.filter(is_active=True), pk=pk)

    @extend_schema(responses=MemberRoutingSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(MemberRoutingSerializer(actions.staff_member(self.member_user(pk))).data)

    @extend_schema(request=MemberRoutingInput, responses=MemberRoutingSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        user = self.member_user(pk)
        command = MemberRoutingInput(data=request.data)
        command.is_valid(raise_exception=True)
        data = dict(command.validated_data)
        kwargs: dict[str, Any] = {
            key: data[key] for key in ("languages", "departments", "channels") if key in data
        }
        if "max_open" in data:
            kwargs["max_open"] = data["max_open"]
        member = actions.update_member_routing(user, actor=request.user, **kwargs)
        return Response(MemberRoutingSerializer(member).data)
