"""The `triage` object of every mention in the API (issue 13 §6); null while it is being
computed."""

from rest_framework import serializers

from monitoring.api.serializers import MentionSerializer
from triage.choices import Route, Tonality
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
        fields = [
            "relevant",
            "route",
            "department",
            "needs_private_data",
            "tonality",
            "abusive",
            "fake_review",
            "language",
            "confidence",
            "reasons",
            "model",
        ]
        read_only_fields = fields

    def get_department(self, suggestion: Suggestion) -> str | None:
        return suggestion.department or None


class TriagedMentionSerializer(MentionSerializer):
    """A mention with its suggestion (the queryset selects `triage`)."""

    triage = SuggestionSerializer(read_only=True, allow_null=True)

    class Meta(MentionSerializer.Meta):
        fields = [*MentionSerializer.Meta.fields, "triage"]
        read_only_fields = fields
