"""Forms of the browser workspace. They check types and shapes only; the business rules
(who may, from which state, what is required for a transition) are the actions'."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from servicedesk.timewindow import DayField
from tickets.choices import DismissReason, LinkKind, ReplyKind, ReplyVisibility, TicketState
from tickets.models import Department, Ticket

# Reply kinds a person chooses in the composer; a sent netiquette reminder (moderation) is
# what the block guard looks for (issue 17).
COMPOSER_KINDS = [
    (ReplyKind.ANSWER, ReplyKind.ANSWER.label),
    (ReplyKind.HOLDING, ReplyKind.HOLDING.label),
    (ReplyKind.ASK_PRIVATE, ReplyKind.ASK_PRIVATE.label),
    (ReplyKind.MODERATION, pgettext_lazy("reply kind", "Netiquette reminder")),
]


class ExpectedStateForm(forms.Form):
    """Every form that changes a ticket carries the state it was rendered in."""

    expected_state = forms.ChoiceField(choices=TicketState.choices)


class TransitionForm(ExpectedStateForm):
    """The inputs of every human transition; the action says which it needs."""

    reason = forms.CharField(required=False, max_length=2000)
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False)
    question = forms.CharField(required=False, max_length=5000)
    shared_mentions = forms.ModelMultipleChoiceField(queryset=None, required=False)
    resubmission_on = DayField(required=False)
    handover_reference = forms.CharField(required=False, max_length=255)
    topic = forms.CharField(required=False, max_length=255)
    dismiss_reason = forms.ChoiceField(choices=DismissReason.choices, required=False)
    duplicate_of = forms.IntegerField(required=False, min_value=1)
    text = forms.CharField(required=False, max_length=10000)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shared_mentions"].queryset = ticket.mentions.all()


class ReassignForm(ExpectedStateForm):
    assignee = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args: Any, assignees: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees


class NoteForm(forms.Form):
    text = forms.CharField(max_length=10000, widget=forms.Textarea)


class LinkForm(forms.Form):
    other = forms.IntegerField(min_value=1, label=_("Ticket number"))
    kind = forms.ChoiceField(choices=LinkKind.choices)


class BulkDismissForm(forms.Form):
    tickets = forms.ModelMultipleChoiceField(queryset=Ticket.objects.none())
    reason = forms.ChoiceField(choices=DismissReason.choices, initial=DismissReason.SPAM)

    def __init__(self, *args: Any, visible: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tickets"].queryset = visible


class IdListField(forms.Field):
    """Ids sent as repeated hidden inputs (the information centre's insertions)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            return [int(item) for item in values if str(item).strip()]
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(_("Reload the page and insert again.")) from error


class ReplyForm(forms.Form):
    """The composer. `version` is the ticket's last event id when the page was opened."""

    kind = forms.ChoiceField(choices=COMPOSER_KINDS, initial=ReplyKind.ANSWER)
    visibility = forms.ChoiceField(choices=ReplyVisibility.choices)
    in_reply_to_mention = forms.ModelChoiceField(queryset=None, required=False)
    template = forms.ModelChoiceField(queryset=None, required=False)
    text = forms.CharField(max_length=10000, widget=forms.Textarea)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_changed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # What was inserted from the information centre (tickets.views.suggestions.ticket_insert).
    knowledge_use = IdListField(required=False)
    submit = forms.BooleanField(required=False)

    def __init__(self, *args: Any, ticket: Ticket, templates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["in_reply_to_mention"].queryset = ticket.mentions.filter(is_own_account=False)
        self.fields["template"].queryset = templates


class ReplyEditForm(forms.Form):
    text = forms.CharField(max_length=10000, widget=forms.Textarea)
    submit = forms.BooleanField(required=False)


class ReviewForm(forms.Form):
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)
    override_reason = forms.CharField(required=False, max_length=2000)


class ConfirmPostedForm(forms.Form):
    permalink = forms.URLField(max_length=2048, label=_("Permalink"), assume_scheme="https")
