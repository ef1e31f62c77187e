"""The `triage` object of every mention in the API (issue 13 §6); null while it is being
computed."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from monitoring.api.serializers import MentionSerializer
from servicedesk.api_input import StrictInput
from triage.choices import HEADS, Route, Tonality
from triage.models import Suggestion


class FakeReviewSerializer(serializers.Serializer):
    suspect = serializers.BooleanField(read_only=True)
    score = serializers.FloatField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)


class SuggestionSerializer(serializers.ModelSerializer):
    route = serializers.ChoiceField(choices=Route.choices, read_only=True)
    tonality = serializers.ChoiceField(choices=Tonality.choices, read_only=True)
    department = serializers.SerializerMethodField()
    fake_review = FakeReviewSerializer(read_only=True)
    confidence = serializers.DictField(child=serializers.FloatField(), read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Suggestion
        fields = list(Suggestion.SHOWN_FIELDS)
        read_only_fields = fields

    def get_department(self, suggestion: Suggestion) -> str | None:
        return suggestion.department or None


class TriagedMentionSerializer(MentionSerializer):
    """A mention with its suggestion (the queryset selects `triage`)."""

    triage = SuggestionSerializer(read_only=True, allow_null=True)

    class Meta(MentionSerializer.Meta):
        fields = [*MentionSerializer.Meta.fields, "triage"]
        read_only_fields = fields


class TriageCorrectionInput(StrictInput):
    """`POST /api/v1/mentions/{id}/triage/`: any subset of the heads, at least one."""

    route = serializers.ChoiceField(choices=Route.choices, required=False)
    department = serializers.SlugField(max_length=50, required=False, allow_null=True)
    tonality = serializers.ChoiceField(choices=Tonality.choices, required=False)
    relevant = serializers.BooleanField(required=False)
    abusive = serializers.BooleanField(required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Name at least one of: %s.") % ", ".join(HEADS)]}
            )
        return attrs


class LabelSerializer(serializers.Serializer):
    head = serializers.CharField(read_only=True)
    value = serializers.CharField(read_only=True)
    source = serializers.CharField(read_only=True)


class TriageCorrectionResultSerializer(serializers.Serializer):
    mention = serializers.IntegerField(read_only=True)
    labels = LabelSerializer(many=True, read_only=True)


class ModelVersionSerializer(serializers.Serializer):
    head = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    trained_at = serializers.DateTimeField(read_only=True)
    training_size = serializers.IntegerField(read_only=True)
    holdout_size = serializers.IntegerField(read_only=True)
    quality = serializers.FloatField(read_only=True)
    rules_quality = serializers.FloatField(read_only=True)
    previous_quality = serializers.FloatField(read_only=True, allow_null=True)
    promoted = serializers.BooleanField(read_only=True)
    decision = serializers.CharField(read_only=True)


class TrainingRunSerializer(serializers.Serializer):
    run = serializers.IntegerField(read_only=True)
    trained_at = serializers.DateTimeField(read_only=True)
    examples = serializers.IntegerField(read_only=True)
    holdout = serializers.IntegerField(read_only=True)
    versions = ModelVersionSerializer(many=True, read_only=True)
    skipped = serializers.DictField(child=serializers.CharField(), read_only=True)
    promoted = serializers.ListField(child=serializers.CharField(), read_only=True)
    detail = serializers.CharField(read_only=True)
