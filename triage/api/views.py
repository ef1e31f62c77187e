"""`POST /api/v1/triage/train/` (issue 13 §6): retrain the learned heads now (team leads and
superusers; everyone else 403). No body."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk import roles
from triage.actions import training
from triage.api.serializers import TrainingRunSerializer
from triage.model_versions import run_summary


class MayTrain(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user.is_authenticated
            and (user.is_superuser or roles.is_team_lead(user))
            and not roles.is_api_client(user)
        )


class Train(APIView):
    permission_classes = [MayTrain]

    @extend_schema(
        request=None,
        responses={200: TrainingRunSerializer},
        summary="Retrain the learned triage heads now; the new versions and their quality, "
        "or why nothing was promoted",
    )
    def post(self, request: Request) -> Response:
        run = training.retrain(now=timezone.now(), trigger="manual")
        return Response(TrainingRunSerializer(run_summary(run)).data)
