"""Mention filters on the suggestion: `suggested_route`, `tonality`, `abusive`."""

import django_filters

from monitoring.filters import MentionFilter, StrictBooleanFilter
from triage.choices import Route, Tonality


class TriagedMentionFilter(MentionFilter):
    suggested_route = django_filters.ChoiceFilter(field_name="triage__route", choices=Route.choices)
    tonality = django_filters.ChoiceFilter(field_name="triage__tonality", choices=Tonality.choices)
    abusive = StrictBooleanFilter(field_name="triage__abusive")

    class Meta(MentionFilter.Meta):
        pass
