"""One person across two platforms with every kind of row the desk holds about them, each
carrying a marker string, next to a bystander whose data must survive an erasure."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from crm import actions as crm_actions
from crm.choices import ConsentPurpose, ConsentStatus
from crm.models import Customer
from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from monitoring.models import Channel, Mention
from tickets import actions, intake
from tickets.models import Ticket
from tickets.tests.factories import (
    ChannelFactory,
    CustomerFactory,
    ReplyFactory,
    SocialIdentityFactory,
)
from tickets.tests.helpers import force_state
from triage import actions as triage_actions
from triage.choices import LabelSource
from triage.models import Suggestion

# Every string below names the person; none may survive an erasure anywhere in the database.
MARKERS = {
    "handle_tw": "erika_mkq7",
    "handle_md": "erika_mkq7_md",
    "name": "Erika Markowska",
    "uid": "uidmkq7z",
    "text": "MKQTEXT",
    "edit": "MKQEDIT",
    "raw": "MKQRAW",
    "ext": "mkqext",
    "url": "mkqurl",
    "reply": "MKQREPLY",
    "note": "MKQTNOTE",
    "customer_note": "MKQCNOTE",
    "question": "MKQQUESTION",
    "answer": "MKQANSWER",
    "notification": "MKQNOTIF",
    "consent": "MKQCONSENT",
    "handover": "MKQHANDOVER",
    "triage": "MKQTRIAGE",
    "triage_fake": "MKQFAKE",
    "own_post": "MKQOWNPOST",
}
KEEP = "BYSTANDERKEEP"


@dataclass
class Seeded:
    customer: Customer
    bystander: Customer
    channels: list[Channel]
    tickets: list[Ticket]
    mentions: list[Mention] = field(default_factory=list)
    raw: list[RawMention] = field(default_factory=list)


def seed_person(
    *,
    agent: Any,
    team_lead: Any,
    department: Any,
    expert: Any,
    mentions_per_channel: int = 2,
) -> Seeded:
    now = timezone.now()
    twitter = ChannelFactory(slug="tw-privacy", platform=Platform.TWITTER, own_accounts=["desk"])
    mastodon = ChannelFactory(slug="md-privacy", platform=Platform.MASTODON, own_accounts=["desk"])
    customer = CustomerFactory(display_name=MARKERS["name"])
    SocialIdentityFactory(
        customer=customer,
        platform="twitter",
        handle=MARKERS["handle_tw"],
        display_name=MARKERS["name"],
        platform_user_id=MARKERS["uid"],
    )
    SocialIdentityFactory(customer=customer, platform="mastodon", handle=MARKERS["handle_md"])
    seeded = Seeded(customer, CustomerFactory(display_name="Bernd Beistand"), [], [])
    for channel, handle in ((twitter, MARKERS["handle_tw"]), (mastodon, MARKERS["handle_md"])):
        seeded.channels.append(channel)
        for n in range(mentions_per_channel):
            raw = RawMention(
                external_id=f"{MARKERS['ext']}-{channel.slug}-{n}",
                author=RawAuthor(
                    handle="@" + handle,
                    display_name=MARKERS["name"],
                    platform_user_id=MARKERS["uid"] if channel is twitter else "",
                ),
                # The first post carries no personal data: it is the one shared with a
                # department (issue 15, point 7 refuses to pre-share the others).
                text=f"@desk {MARKERS['text']} {n}: mein Paket"
                + (", IBAN DE89370400440532013000" if n else ""),
                created_at=now - timedelta(minutes=30 - n),
                url=f"https://example.test/{MARKERS['url']}/{n}",
                raw={"profile": {"bio": MARKERS["raw"], "location": "Köln"}},
                language="de",
            )
            seeded.raw.append(raw)
            intake.receive_mention(channel, raw, now=now - timedelta(minutes=29 - n), live=True)
        # An edit of the first post: a revision.
        first = seeded.raw[-mentions_per_channel]
        intake.receive_mention(
            channel,
            RawMention(**{**first.__dict__, "text": f"{first.text} {MARKERS['edit']}"}),
            now=now,
        )
    seeded.mentions = list(Mention.objects.filter(identity__customer=customer).order_by("pk"))
    seeded.tickets = list(Ticket.objects.filter(customer=customer).order_by("pk"))
    ticket = seeded.tickets[0]
    # A reply that quotes them, an internal note, a department request sharing their post.
    ReplyFactory(
        ticket=ticket,
        text=f"Hallo @{MARKERS['handle_tw']}, {MARKERS['reply']}",
        author=agent,
        in_reply_to_mention=seeded.mentions[0],
    )
    actions.add_note(ticket, actor=agent, text=f"{MARKERS['note']}: Kundennummer 4711")
    crm_actions.add_customer_note(customer, actor=agent, text=MARKERS["customer_note"])
    crm_actions.record_consent(
        customer,
        purpose=ConsentPurpose.PRIVATE_CONTACT,
        status=ConsentStatus.GRANTED,
        source=f"DM {MARKERS['consent']}",
        actor=agent,
    )
    Ticket.objects.filter(pk=ticket.pk).update(handover_reference=MARKERS["handover"])
    ticket = force_state(Ticket.objects.get(pk=ticket.pk), "in_progress", assignee=agent)
    actions.ask_department(
        ticket,
        actor=agent,
        department=department,
        question=f"{MARKERS['question']} zu {MARKERS['name']}",
        shared_mentions=[seeded.mentions[0]],
    )
    actions.answer_department_request(
        ticket.department_requests.get(), actor=expert, answer=f"{MARKERS['answer']} erledigt"
    )
    actions.notify(
        [team_lead],
        "breach",
        text=f"{MARKERS['notification']} @{MARKERS['handle_tw']}",
        at=now,
        ticket=ticket,
    )
    # Triage (issue 13): a suggestion whose reasons quote what matched in their post, and
    # a human decision about it (training data).
    Suggestion.objects.update_or_create(
        mention=seeded.mentions[0],
        defaults={
            "relevant": True,
            "route": "support",
            "needs_private_data": True,
            "tonality": "negative",
            "abusive": True,
            "fake_review": {"suspect": True, "score": 0.45, "reasons": [MARKERS["triage_fake"]]},
            "language": "de",
            "confidence": {"route": 0.8},
            "reasons": [f"abusive: insult „{MARKERS['triage']}“"],
            "model": "rules",
            "created_at": now,
        },
    )
    triage_actions.record_labels(
        seeded.mentions[0],
        {"route": "support", "tonality": "negative"},
        source=LabelSource.CORRECTION,
        actor=agent,
        now=now,
    )
    # A bystander's ticket whose reply quotes the person: the quote goes, the rest stays.
    other = intake.receive_mention(
        twitter,
        RawMention(
            external_id="bystander-1",
            author=RawAuthor(handle="@bernd_b", display_name="Bernd Beistand"),
            text=f"@desk {KEEP} bitte",
            created_at=now - timedelta(minutes=5),
        ),
        now=now - timedelta(minutes=4),
    )
    # The brand's own public answer in their thread (posted on the platform, polled back)
    # and a bystander's post that names them: the first is about them, the second loses
    # the name only.
    intake.receive_mention(
        twitter,
        RawMention(
            external_id="desk-answer-1",
            author=RawAuthor(handle="@desk", display_name="Desk"),
            text=f"@{MARKERS['handle_tw']} Hallo {MARKERS['name']}, {MARKERS['own_post']}",
            created_at=now - timedelta(minutes=6),
            in_reply_to=seeded.raw[0].external_id,
        ),
        now=now - timedelta(minutes=6),
    )
    intake.receive_mention(
        twitter,
        RawMention(
            external_id="bystander-2",
            author=RawAuthor(handle="@bernd_b", display_name="Bernd Beistand"),
            text=f"@desk {KEEP}, geht mir wie @{MARKERS['handle_tw']}",
            created_at=now - timedelta(minutes=5),
        ),
        now=now - timedelta(minutes=4),
    )
    other_ticket = Ticket.objects.get(pk=other.ticket_id)
    seeded.bystander = other_ticket.customer
    ReplyFactory(
        ticket=other_ticket,
        text=f"{KEEP}: wie @{MARKERS['handle_tw']} schon schrieb",
        author=agent,
        in_reply_to_mention=other_ticket.mentions.first(),
    )
    return seeded
