"""Erasure (Art. 17) against the real database: after it, a dump of the whole database holds
none of the person's marker strings, the SLA figures are unchanged, a re-pushed post is not
stored again, the requester cannot confirm, and the run resumes and repeats safely."""

import os
import subprocess
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.models import Mention, MentionRevision
from privacy.actions import erasure as erasure_actions
from privacy.choices import ErasureStatus
from privacy.models import ErasedPost, ErasureRequest
from privacy.tests.seed import KEEP, MARKERS, seed_person
from servicedesk.errors import DomainError
from tickets import intake
from tickets.models import Reply, ReportFact, SlaClock, Ticket
from triage.models import Label, Suggestion


def dump_database() -> str:
    """The whole test database as SQL text (pg_dump --data-only), as committed."""
    conf = connection.settings_dict
    env = dict(os.environ)
    if conf.get("PASSWORD"):
        env["PGPASSWORD"] = conf["PASSWORD"]
    url = "postgresql://{user}@{host}:{port}/{name}".format(
        user=quote(conf.get("USER") or "postgres"),
        host=conf.get("HOST") or "127.0.0.1",
        port=conf.get("PORT") or 5432,
        name=conf["NAME"],
    )
    return subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", url],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    ).stdout


def sla_summary(team_lead: Any) -> Any:
    client = APIClient()
    client.force_authenticate(team_lead)
    today = timezone.localdate()
    answer = client.get(
        "/api/v1/sla/summary/",
        {"from": str(today - timedelta(days=2)), "to": str(today + timedelta(days=1))},
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


def facts_sum() -> dict[tuple[Any, ...], int]:
    sums: dict[tuple[Any, ...], int] = {}
    for fact in ReportFact.objects.all():
        key = (fact.day, fact.channel_id, fact.metric, fact.kind, fact.person_id, fact.value)
        sums[key] = sums.get(key, 0) + fact.n
    return {key: n for key, n in sums.items() if n}


@pytest.mark.django_db(transaction=True)
def test_erasure_leaves_no_marker_in_a_dump_and_keeps_the_figures(
    agent: Any, team_lead: Any, privacy_officer: Any, department: Any, expert: Any
) -> None:
    seeded = seed_person(agent=agent, team_lead=team_lead, department=department, expert=expert)
    before = dump_database()
    for marker in MARKERS.values():
        assert marker in before, marker  # the seed really put every marker in
    assert MentionRevision.objects.filter(mention__identity__customer=seeded.customer).exists()
    figures, facts = sla_summary(team_lead), facts_sum()
    clocks = list(SlaClock.objects.order_by("pk").values_list("pk", "started_at", "stopped_at"))

    erasure = erasure_actions.request_erasure(
        seeded.customer, team_lead, reason="Art. 17 per E-Mail", now=timezone.now()
    )
    done = erasure_actions.confirm_erasure(erasure.pk, privacy_officer, now=timezone.now())

    assert done.status == ErasureStatus.DONE
    assert done.confirmed_by == privacy_officer and done.requested_by == team_lead
    assert done.counts["monitoring_mention"] == len(seeded.mentions) == 4
    assert done.counts["monitoring_mentionrevision"] == 2
    assert done.counts["crm_socialidentity"] == 2
    # Triage: the labels of their posts are gone, the suggestions keep heads, not reasons.
    assert done.counts["triage_label"] >= 2
    assert not Label.objects.filter(mention__in=seeded.mentions).exists()
    suggestion = Suggestion.objects.get(mention=seeded.mentions[0])
    assert (suggestion.reasons, suggestion.fake_review["reasons"]) == ([], [])
    assert (suggestion.route, suggestion.abusive) == ("support", True)
    after = dump_database()
    left = [marker for marker in MARKERS.values() if marker.lower() in after.lower()]
    assert left == []
    assert KEEP in after and "bernd_b" in after  # the bystander keeps their data
    # Tickets, clocks and figures stay.
    assert Ticket.objects.filter(customer=seeded.customer).count() == len(seeded.tickets)
    assert Mention.objects.filter(pk__in=[m.pk for m in seeded.mentions]).count() == 4
    assert (
        list(SlaClock.objects.order_by("pk").values_list("pk", "started_at", "stopped_at"))
        == clocks
    )
    assert facts_sum() == facts
    assert sla_summary(team_lead) == figures
    # The bystander's reply lost the quote only.
    quoting = Reply.objects.get(ticket__customer=seeded.bystander)
    assert quoting.text.startswith(KEEP) and erasure_actions.TOMBSTONE in quoting.text

    # Running it again changes nothing (idempotent).
    counts = dict(done.counts)
    ErasureRequest.objects.filter(pk=done.pk).update(status=ErasureStatus.RUNNING)
    again = erasure_actions.run_erasure(done.pk, now=timezone.now())
    assert again.status == ErasureStatus.DONE and again.counts == counts


@pytest.mark.django_db(transaction=True)
def test_a_re_pushed_post_of_an_erased_person_is_not_stored_again(
    agent: Any,
    team_lead: Any,
    privacy_officer: Any,
    department: Any,
    expert: Any,
    api_client_user: Any,
) -> None:
    seeded = seed_person(agent=agent, team_lead=team_lead, department=department, expert=expert)
    erasure = erasure_actions.request_erasure(
        seeded.customer, team_lead, reason="", now=timezone.now()
    )
    erasure_actions.confirm_erasure(erasure.pk, privacy_officer, now=timezone.now())
    mentions, identities = Mention.objects.count(), seeded.customer.identities.count()
    first = seeded.raw[0]
    # The key is a keyed hash: the external id is not stored in clear.
    assert not ErasedPost.objects.filter(key__contains=first.external_id).exists()
    assert ErasedPost.objects.count() == 4

    client = APIClient()
    client.force_authenticate(api_client_user)
    answer = client.post(
        "/api/v1/mentions/",
        {
            "channel": seeded.channels[0].slug,
            "external_id": first.external_id,
            "author": {"handle": first.author.handle, "display_name": first.author.display_name},
            "text": first.text,
            "created_at": first.created_at.isoformat(),
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "duplicate"
    # Through the intake the pollers use, mixed with a new post of someone else.
    results = intake.receive_mentions(
        seeded.channels[1],
        [seeded.raw[2], seeded.raw[3]],
        now=timezone.now(),
    )
    assert [r.status for r in results] == ["duplicate", "duplicate"]
    assert Mention.objects.count() == mentions
    assert seeded.customer.identities.count() == identities
    assert MARKERS["text"] not in dump_database()


@pytest.mark.django_db
def test_the_requester_cannot_confirm_and_agents_cannot_request(
    agent: Any, cm: Any, expert: Any, team_lead: Any, privacy_officer: Any, department: Any
) -> None:
    seeded = seed_person(agent=agent, team_lead=team_lead, department=department, expert=expert)
    now = timezone.now()
    for person in (agent, cm, expert):
        with pytest.raises(DomainError) as refused:
            erasure_actions.request_erasure(seeded.customer, person, reason="", now=now)
        assert refused.value.status == 403
    erasure = erasure_actions.request_erasure(seeded.customer, privacy_officer, reason="", now=now)
    with pytest.raises(DomainError) as refused:
        erasure_actions.confirm_erasure(erasure.pk, privacy_officer, now=now)
    assert refused.value.code == "self_confirmation" and refused.value.status == 403
    with pytest.raises(DomainError) as refused:
        erasure_actions.request_erasure(seeded.customer, team_lead, reason="", now=now)
    assert refused.value.status == 409  # one open erasure per customer
    assert ErasureRequest.objects.get().status == ErasureStatus.REQUESTED
    assert Mention.objects.filter(text__contains=MARKERS["text"]).count() == 4


@pytest.mark.django_db
def test_an_interrupted_erasure_resumes(
    agent: Any,
    team_lead: Any,
    privacy_officer: Any,
    department: Any,
    expert: Any,
    monkeypatch: Any,
) -> None:
    seeded = seed_person(
        agent=agent,
        team_lead=team_lead,
        department=department,
        expert=expert,
        mentions_per_channel=3,
    )
    monkeypatch.setattr(erasure_actions, "MENTION_BATCH", 2)
    calls = {"n": 0}
    original = erasure_actions._Run._erase_mentions

    def dies_after_first_batch(self: Any, rows: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        original(self, rows)

    monkeypatch.setattr(erasure_actions._Run, "_erase_mentions", dies_after_first_batch)
    erasure = erasure_actions.request_erasure(
        seeded.customer, team_lead, reason="", now=timezone.now()
    )
    with pytest.raises(RuntimeError):
        erasure_actions.confirm_erasure(erasure.pk, privacy_officer, now=timezone.now())
    erasure.refresh_from_db()
    assert erasure.status == ErasureStatus.RUNNING
    assert erasure.counts["monitoring_mention"] == 2  # the first batch committed
    monkeypatch.setattr(erasure_actions._Run, "_erase_mentions", original)

    assert erasure_actions.resume_erasures(now=timezone.now()) == 1
    erasure.refresh_from_db()
    assert erasure.status == ErasureStatus.DONE
    assert erasure.counts["monitoring_mention"] == 6
    assert not Mention.objects.filter(text__contains=MARKERS["text"]).exists()
    assert not seeded.customer.identities.exclude(handle__startswith="erased-").exists()


@pytest.mark.django_db(transaction=True)
def test_a_decision_on_an_erased_post_records_no_training_label(
    agent: Any, team_lead: Any, privacy_officer: Any, department: Any, expert: Any
) -> None:
    """The tombstone stays in the workflow, but a later decision on it (a CM dismissing
    the ticket, say) must not bring the post back as training data."""
    from triage.actions import record_labels
    from triage.choices import LabelSource

    seeded = seed_person(agent=agent, team_lead=team_lead, department=department, expert=expert)
    erasure = erasure_actions.request_erasure(
        seeded.customer, team_lead, reason="", now=timezone.now()
    )
    erasure_actions.confirm_erasure(erasure.pk, privacy_officer, now=timezone.now())
    tombstone = Mention.objects.get(pk=seeded.mentions[0].pk)
    assert tombstone.is_erased
    recorded = record_labels(
        tombstone,
        {"relevant": False},
        source=LabelSource.DISMISS,
        actor=team_lead,
        now=timezone.now(),
    )
    assert recorded == []
    assert not Label.objects.filter(mention=tombstone).exists()
