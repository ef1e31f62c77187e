"""Forms of the customer page: shape only; the actions in crm.actions enforce the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.choices import ConsentPurpose, ConsentStatus

NOTE_MAX_LENGTH = 10_000  # characters; a note is a remark, not a document


class CustomerNoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    status = forms.ChoiceField(label=_("Consent"), choices=ConsentStatus.choices)
    source = forms.CharField(
        label=_("Source"),
        max_length=255,
        required=False,
        help_text=_("Where the customer said so, e.g. a link to the direct message."),
    )


class MergeForm(forms.Form):
    source = forms.IntegerField(label=_("Customer to merge into this one"), min_value=1)
