"""tickets.transitions is the one table of transitions: the model's django-fsm rules, the
actions, the API's inputs and the page's labels all come from it and agree with it."""

import inspect

import pytest

from tickets import actions, transitions
from tickets.api.serializers import TRANSITION_INPUTS, TRANSITION_NAMES
from tickets.models import Ticket
from tickets.transitions import HUMAN_TRANSITIONS, SYSTEM_TRANSITIONS, TRANSITIONS


def _sources(rule: transitions.Rule) -> set[str]:
    return {rule.source} if isinstance(rule.source, str) else set(rule.source)


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_the_model_method_has_exactly_the_rules_of_the_table(name: str) -> None:
    meta = getattr(Ticket, name)._django_fsm

    by_source = {source: meta.transitions[source] for source in meta.transitions}
    expected = {source: rule for rule in TRANSITIONS[name].rules for source in _sources(rule)}

    assert set(by_source) == set(expected)
    for source, rule in expected.items():
        assert by_source[source].permission is rule.permission
        assert list(by_source[source].conditions) == list(rule.conditions)


def test_every_human_transition_has_one_action_and_no_system_transition_has_one() -> None:
    assert tuple(actions.TRANSITION_ACTIONS) == HUMAN_TRANSITIONS
    assert not SYSTEM_TRANSITIONS & set(actions.TRANSITION_ACTIONS)
    assert set(TRANSITION_NAMES) == set(TRANSITIONS)


@pytest.mark.parametrize("name", HUMAN_TRANSITIONS)
def test_each_action_takes_the_arguments_the_table_names(name: str) -> None:
    parameters = inspect.signature(actions.TRANSITION_ACTIONS[name]).parameters
    arguments = {argument.name for argument in TRANSITIONS[name].arguments}

    # the table may ask for more than the action insists on (a text, or else a template)
    assert arguments <= set(parameters)
    assert {
        parameter
        for parameter, spec in parameters.items()
        if spec.default is inspect.Parameter.empty and parameter not in ("ticket", "actor")
    } <= {argument.name for argument in TRANSITIONS[name].arguments if argument.required}


@pytest.mark.parametrize("name", HUMAN_TRANSITIONS)
def test_the_api_input_of_each_transition_has_the_fields_the_table_names(name: str) -> None:
    fields = TRANSITION_INPUTS[name]().fields

    assert set(fields) == {argument.name for argument in TRANSITIONS[name].arguments}
    assert {field for field, spec in fields.items() if spec.required} <= {
        argument.name for argument in TRANSITIONS[name].arguments if argument.required
    }


def test_labels_come_from_the_table_and_unknown_names_stay_as_they_are() -> None:
    assert str(transitions.label("take")) == "Take"
    assert transitions.label("no_such_transition") == "no_such_transition"


def test_a_form_is_shown_before_firing_only_where_an_input_is_needed() -> None:
    asks = {name: TRANSITIONS[name].asks_for_input(is_lead=False) for name in HUMAN_TRANSITIONS}

    assert {name for name, asked in asks.items() if not asked} == {
        "assign_to_support",
        "take",
        "close_no_response",
        "resume_early",
        "resolve",
    }
    assert TRANSITIONS["take"].asks_for_input(is_lead=True)  # a team lead picks the assignee
