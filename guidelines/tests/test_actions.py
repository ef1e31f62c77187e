"""guidelines.actions: installing the default content (templates and patterns)."""

import pytest

from guidelines import actions
from guidelines.defaults import DEFAULT_TEMPLATES
from guidelines.models import PersonalDataPattern, ReplyTemplate

pytestmark = pytest.mark.django_db


def test_defaults_exist_after_migrating_in_both_languages() -> None:
    keys = {key for key, _kind, _texts in DEFAULT_TEMPLATES}

    assert set(ReplyTemplate.objects.values_list("key", "language")) == {
        (key, language) for key in keys for language in ("de", "en")
    }
    assert PersonalDataPattern.objects.filter(is_active=True).count() == 2


def test_install_recreates_missing_rows_and_never_overwrites_edited_ones() -> None:
    ReplyTemplate.objects.filter(key="holding", language="en").delete()
    ReplyTemplate.objects.filter(key="holding", language="de").update(text="Eigener Text {name}")

    created = actions.install_default_templates()

    assert created == 1
    assert ReplyTemplate.objects.get(key="holding", language="de").text == "Eigener Text {name}"
    assert ReplyTemplate.objects.filter(key="holding", language="en").exists()


def test_install_twice_creates_nothing_the_second_time() -> None:
    actions.install_default_templates()

    assert actions.install_default_templates() == 0
