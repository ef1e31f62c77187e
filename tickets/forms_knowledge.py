"""Forms of the information centre's pages. They check shapes only; who may write, propose
or review, and what a valid article is, are knowledge.actions' rules."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.actions import BODY_MAX_LENGTH, PRODUCT_MAX_LENGTH, TITLE_MAX_LENGTH
from knowledge.choices import ARTICLE_LANGUAGES, ArticleStatus
from knowledge.search import QUERY_MAX_LENGTH


class TagsField(forms.CharField):
    """Tags typed as "paket, verlust, nachforschung"."""

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        return [tag.strip() for tag in text.split(",") if tag.strip()]


def tags_text(tags: list[str]) -> str:
    return ", ".join(tags)


class ArticleSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=QUERY_MAX_LENGTH, required=False)
    tag = forms.CharField(label=_("Tag"), max_length=50, required=False)
    product = forms.CharField(label=_("Product or topic"), max_length=100, required=False)
    department = forms.ChoiceField(label=_("Owner department"), required=False)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("All languages")), *ARTICLE_LANGUAGES], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Published")), *ArticleStatus.choices], required=False
    )

    def __init__(self, *args: Any, departments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All departments")), *departments]


class ArticleContentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    body = forms.CharField(
        label=_("Text"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("Markdown: **bold**, *italic*, - lists, [link](https://…). No HTML."),
    )
    tags = TagsField(
        label=_("Tags"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )
    product = forms.CharField(
        label=_("Product or topic"), max_length=PRODUCT_MAX_LENGTH, required=False
    )
    public_url = forms.URLField(
        label=_("Public page"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("The customer-facing page; “insert link” puts this address into a reply."),
    )


class ArticleForm(ArticleContentForm):
    language = forms.ChoiceField(label=_("Language"), choices=ARTICLE_LANGUAGES)
    department = forms.ChoiceField(label=_("Owner department"), required=False)
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(ArticleStatus.DRAFT, ArticleStatus.DRAFT.label),
                 (ArticleStatus.PUBLISHED, ArticleStatus.PUBLISHED.label)],
        initial=ArticleStatus.PUBLISHED,
        required=False,
    )  # fmt: skip
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("What changed (optional)"), max_length=500, required=False)

    def __init__(self, *args: Any, departments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = departments


class ProposalForm(ArticleContentForm):
    comment = forms.CharField(
        label=_("Why (for the reviewer)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NewArticleProposalForm(ProposalForm):
    language = forms.ChoiceField(label=_("Language"), choices=ARTICLE_LANGUAGES)
    department = forms.ChoiceField(label=_("Owner department (reviews it)"), required=False)

    def __init__(self, *args: Any, departments: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = departments


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ArticleStatus.choices)
    version = forms.IntegerField()


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("reject", _("Reject"))])
    comment = forms.CharField(max_length=2000, required=False)
    publish = forms.BooleanField(required=False)


class InsertForm(forms.Form):
    article = forms.IntegerField(required=False, min_value=1)
    answer = forms.IntegerField(required=False, min_value=1)
    mode = forms.CharField(max_length=16)
    mention = forms.IntegerField(required=False, min_value=1)


class TopicArticlesForm(forms.Form):
    topics = forms.ModelMultipleChoiceField(queryset=None, required=False)

    def __init__(self, *args: Any, topics: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = topics
