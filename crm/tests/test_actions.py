"""crm.actions: customer notes, consent records, and the audited merge with its undo."""

from typing import Any

import pytest

from crm import actions
from crm.choices import ConsentPurpose, ConsentStatus
from crm.models import Consent, Customer, CustomerMerge, CustomerNote, SocialIdentity
from servicedesk.errors import InvalidArgument, NotAllowedForRole
from tickets import actions as ticket_actions
from tickets.models import Ticket
from tickets.tests.factories import CustomerFactory, SocialIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db


def customer_with_history(author: Any) -> Customer:
    """A customer with one identity, one ticket, one note and one consent record."""
    customer = CustomerFactory(display_name="Erika Mustermann")
    SocialIdentityFactory(customer=customer, platform="twitter")
    TicketFactory(customer=customer)
    CustomerNote.objects.create(customer=customer, author=author, text="VIP", created_at=_now())
    Consent.objects.create(
        customer=customer,
        purpose=ConsentPurpose.PRIVATE_CONTACT,
        status=ConsentStatus.GRANTED,
        created_at=_now(),
    )
    return customer


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def owned_ids(customer: Customer) -> dict[str, set[int]]:
    return {
        "identities": set(
            SocialIdentity.objects.filter(customer=customer).values_list("pk", flat=True)
        ),
        "tickets": set(Ticket.objects.filter(customer=customer).values_list("pk", flat=True)),
        "notes": set(CustomerNote.objects.filter(customer=customer).values_list("pk", flat=True)),
        "consents": set(Consent.objects.filter(customer=customer).values_list("pk", flat=True)),
    }


def test_merge_moves_identities_tickets_notes_and_consents_to_target(agent: Any) -> None:
    source = customer_with_history(agent)
    target = CustomerFactory()
    before = owned_ids(source)

    ticket_actions.merge_customers(source, target, actor=agent)

    assert owned_ids(target) == before
    assert owned_ids(source) == {
        "identities": set(),
        "tickets": set(),
        "notes": set(),
        "consents": set(),
    }


def test_merge_marks_source_merged_and_records_moved_ids(team_lead: Any) -> None:
    source = customer_with_history(team_lead)
    target = CustomerFactory()
    before = owned_ids(source)

    merge = ticket_actions.merge_customers(source, target, actor=team_lead)

    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    assert (merge.source_id, merge.target_id, merge.actor_id) == (
        source.pk,
        target.pk,
        team_lead.pk,
    )
    assert {kind: set(ids) for kind, ids in merge.moved.items()} == before
    assert merge.undone_at is None


def test_undo_moves_exactly_the_merged_rows_back(agent: Any, other_agent: Any) -> None:
    source = customer_with_history(agent)
    target = customer_with_history(agent)
    source_before, target_before = owned_ids(source), owned_ids(target)
    merge = ticket_actions.merge_customers(source, target, actor=agent)
    # a ticket the target gets after the merge stays with the target
    later_ticket = TicketFactory(customer=target, mention=False)

    merge = ticket_actions.undo_merge(merge, actor=other_agent)

    assert owned_ids(source) == source_before
    target_after = owned_ids(target)
    assert target_after["tickets"] == target_before["tickets"] | {later_ticket.pk}
    assert target_after["identities"] == target_before["identities"]
    source.refresh_from_db()
    assert source.merged_into_id is None
    assert merge.undone_by_id == other_agent.pk
    assert merge.undone_at is not None


def test_merge_into_itself_is_refused(agent: Any) -> None:
    customer = CustomerFactory()

    with pytest.raises(InvalidArgument):
        ticket_actions.merge_customers(customer, customer, actor=agent)

    assert not CustomerMerge.objects.exists()


def test_merging_an_already_merged_customer_is_refused(agent: Any) -> None:
    source, target, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    ticket_actions.merge_customers(source, target, actor=agent)

    with pytest.raises(actions.CustomerAlreadyMerged):
        ticket_actions.merge_customers(source, third, actor=agent)

    assert CustomerMerge.objects.count() == 1


def test_merging_into_an_already_merged_customer_is_refused(agent: Any) -> None:
    source, target, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    ticket_actions.merge_customers(source, target, actor=agent)
    identity = SocialIdentityFactory(customer=third)

    with pytest.raises(actions.CustomerAlreadyMerged):
        ticket_actions.merge_customers(third, source, actor=agent)

    identity.refresh_from_db()
    assert identity.customer_id == third.pk


@pytest.mark.parametrize("persona", ["cm", "expert", "api_client_user"])
def test_only_agents_and_team_leads_merge(persona: str, request: pytest.FixtureRequest) -> None:
    actor = request.getfixturevalue(persona)
    source, target = CustomerFactory(), CustomerFactory()

    with pytest.raises(NotAllowedForRole):
        ticket_actions.merge_customers(source, target, actor=actor)

    source.refresh_from_db()
    assert source.merged_into_id is None


def test_cm_may_not_undo_a_merge(agent: Any, cm: Any) -> None:
    merge = ticket_actions.merge_customers(CustomerFactory(), CustomerFactory(), actor=agent)

    with pytest.raises(NotAllowedForRole):
        ticket_actions.undo_merge(merge, actor=cm)


def test_undoing_a_merge_twice_is_refused(agent: Any) -> None:
    merge = ticket_actions.merge_customers(CustomerFactory(), CustomerFactory(), actor=agent)
    ticket_actions.undo_merge(merge, actor=agent)

    with pytest.raises(actions.MergeAlreadyUndone):
        ticket_actions.undo_merge(merge, actor=agent)


def test_undo_is_refused_while_the_target_is_merged_on(agent: Any) -> None:
    first, second, third = CustomerFactory(), CustomerFactory(), CustomerFactory()
    first_merge = ticket_actions.merge_customers(first, second, actor=agent)
    ticket_actions.merge_customers(second, third, actor=agent)

    with pytest.raises(actions.CustomerAlreadyMerged):
        ticket_actions.undo_merge(first_merge, actor=agent)

    first.refresh_from_db()
    assert first.merged_into_id == second.pk


def test_record_consent_appends_and_the_newest_is_in_force(agent: Any) -> None:
    customer = CustomerFactory()
    actions.record_consent(
        customer,
        purpose=ConsentPurpose.MARKETING,
        status=ConsentStatus.GRANTED,
        source="DM 2025-03-01",
        actor=agent,
    )

    actions.record_consent(
        customer,
        purpose=ConsentPurpose.MARKETING,
        status=ConsentStatus.WITHDRAWN,
        source="",
        actor=agent,
    )

    assert customer.consents.count() == 2
    (current,) = Consent.objects.filter(customer=customer).current()
    assert current.status == ConsentStatus.WITHDRAWN
    assert current.actor_id == agent.pk


@pytest.mark.parametrize(
    ("purpose", "status"),
    [("newsletter", ConsentStatus.GRANTED), (ConsentPurpose.MARKETING, "maybe")],
)
def test_record_consent_refuses_unknown_values(agent: Any, purpose: str, status: str) -> None:
    customer = CustomerFactory()

    with pytest.raises(InvalidArgument):
        actions.record_consent(customer, purpose=purpose, status=status, source="", actor=agent)

    assert not customer.consents.exists()


def test_expert_may_not_record_consent(expert: Any) -> None:
    with pytest.raises(NotAllowedForRole):
        actions.record_consent(
            CustomerFactory(),
            purpose=ConsentPurpose.MARKETING,
            status=ConsentStatus.GRANTED,
            source="",
            actor=expert,
        )


def test_add_customer_note_stores_author_and_text(cm: Any) -> None:
    customer = CustomerFactory()

    note = actions.add_customer_note(customer, actor=cm, text="  Bevorzugt DM.  ")

    assert (note.customer_id, note.author_id, note.text) == (customer.pk, cm.pk, "Bevorzugt DM.")


def test_add_customer_note_refuses_blank_text(cm: Any) -> None:
    customer = CustomerFactory()

    with pytest.raises(InvalidArgument):
        actions.add_customer_note(customer, actor=cm, text="   ")

    assert not customer.notes.exists()


def test_notes_on_a_merged_customer_are_refused(agent: Any) -> None:
    source = CustomerFactory()
    ticket_actions.merge_customers(source, CustomerFactory(), actor=agent)
    source.refresh_from_db()

    with pytest.raises(actions.CustomerAlreadyMerged):
        actions.add_customer_note(source, actor=agent, text="hallo")
