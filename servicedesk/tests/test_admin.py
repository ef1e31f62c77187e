"""The Django admin: every page renders, data owned by actions is never editable there,
channel secrets never appear in its pages, and its lists do not grow queries per row."""

import json
from datetime import date, time
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from rest_framework.authtoken.models import Token

from crm.models import Consent, Customer, CustomerMerge, CustomerNote, SocialIdentity
from guidelines.actions import install_default_templates
from knowledge import actions as knowledge_actions
from knowledge.access import Departments
from knowledge.models import Article, ArticleProposal, SearchLog
from monitoring.choices import Platform
from monitoring.models import Channel, Mention, MentionRevision
from servicedesk import actions as servicedesk_actions
from servicedesk.models import Profile
from staffing import actions as staffing_actions
from staffing.models import Absence, Shift
from tickets import actions
from tickets.choices import ReplyKind, ReplyStatus, ReplyVisibility, SlaKind, TicketState
from tickets.models import (
    DepartmentRequest,
    Notification,
    Reply,
    SlaBreach,
    SlaClock,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketNote,
    Topic,
)
from tickets.tests.factories import ChannelFactory, CustomerFactory, TicketFactory
from triage import actions as triage_actions
from triage.models import Suggestion

pytestmark = pytest.mark.django_db

CREDENTIALS = '{"access_token": "tok-never-shown-7f3a9c"}'
WEBHOOK_SECRET = "whsec-never-shown-41b7e2"
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
# Written only by actions: the admin shows them and never adds, changes or deletes them.
ACTION_OWNED = [
    Ticket,
    Reply,
    TicketEvent,
    TicketNote,
    TicketLink,
    DepartmentRequest,
    Notification,
    SlaClock,
    SlaBreach,
    Mention,
    SocialIdentity,
    Consent,
    CustomerNote,
    CustomerMerge,
    Article,
    ArticleProposal,
    SearchLog,
    Suggestion,
]


def _url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def build_case(number: int, *, cm: Any, agent: Any, other_agent: Any, department: Any) -> Ticket:
    """One worked-on ticket through the real actions: mention, events, a reply waiting for
    review (notifications), a department request with its clock, and a recorded breach."""
    ticket = TicketFactory(channel=ChannelFactory(slug=f"case-{number}"))
    ticket = actions.assign_to_support(ticket, actor=cm, note="bitte übernehmen")
    ticket = actions.take_ticket(ticket, actor=agent)
    actions.create_reply(
        ticket,
        actor=agent,
        text="Hallo, wir kümmern uns darum.",
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.HOLDING,
        submit=True,
    )
    actions.add_note(ticket, actor=agent, text="Kunde ruft auch an.")
    ticket = actions.ask_department(
        ticket, actor=agent, department=department, question="Bitte die Leitung prüfen."
    )
    clock = SlaClock.objects.get(ticket=ticket, kind=SlaKind.DEPARTMENT_FEEDBACK)
    SlaBreach.objects.create(clock=clock, due_at=clock.due_at, detected_at=timezone.now())
    mention = ticket.mentions.get()
    MentionRevision.objects.create(mention=mention, text="bearbeitet", received_at=timezone.now())
    triage_actions.suggest_for_mentions([mention.pk], now=timezone.now())
    return ticket


@pytest.fixture
def desk(cm: Any, agent: Any, other_agent: Any, team_lead: Any, expert: Any, department: Any):
    """At least one row of every model the admin shows."""
    ticket = build_case(1, cm=cm, agent=agent, other_agent=other_agent, department=department)
    other = TicketFactory()
    actions.link_tickets(ticket, actor=agent, other=other, kind="related")
    customer = ticket.customer
    Consent.objects.create(
        customer=customer, purpose="private_contact", status="granted", created_at=timezone.now()
    )
    CustomerNote.objects.create(
        customer=customer, author=agent, text="Stammkunde", created_at=timezone.now()
    )
    CustomerMerge.objects.create(
        source=CustomerFactory(), target=customer, actor=team_lead, created_at=timezone.now()
    )
    Topic.objects.create(name="Fahrradmitnahme", created_at=timezone.now())
    Profile.objects.create(user=agent, language="en")
    Token.objects.create(user=agent)
    device = servicedesk_actions.start_totp_enrollment(agent, actor=agent)
    servicedesk_actions.confirm_totp_enrollment(agent, f"{totp(device.bin_key):06d}", actor=agent)
    AccessAttempt.objects.create(
        username="agent", ip_address="203.0.113.7", failures_since_start=1,
        attempt_time=timezone.now(), user_agent="", path_info="/accounts/login/",
    )  # fmt: skip
    AccessFailureLog.objects.create(
        username="agent", ip_address="203.0.113.7", attempt_time=timezone.now(),
        user_agent="", path_info="/accounts/login/",
    )  # fmt: skip
    install_default_templates()
    departments = Departments(known={department.slug: department.name}, own=frozenset())
    article = knowledge_actions.create_article(
        actor=team_lead, departments=departments, language="de", title="Paket", body="Text"
    )
    knowledge_actions.propose_change(
        article, actor=agent, departments=departments, title="Paket", body="Neuer Text",
        tags=[], product="", public_url="",
    )  # fmt: skip
    knowledge_actions.record_search(actor=agent, query="nichts", result_count=0)
    # issue 15: an erasure request and an access audit entry (retention policies: migration)
    from privacy.models import AccessLog, ErasureRequest

    ErasureRequest.objects.create(
        customer=customer, requested_by=team_lead, requested_at=timezone.now()
    )
    AccessLog.objects.create(
        user_id=agent.pk, kind="customer_page", customer_id=customer.pk, at=timezone.now()
    )
    # Staffing (issue 16): routing settings, a shift, an absence with a stand-in.
    staffing_actions.routing_settings()
    staffing_actions.staff_member(agent)
    Shift.objects.create(user=agent, duty="support", weekday=0, starts=time(8), ends=time(12))
    Absence.objects.create(
        user=agent, starts_on=date(2026, 8, 3), ends_on=date(2026, 8, 7), stand_in=other_agent
    )
    ChannelFactory(
        slug="bridge",
        platform=Platform.WEBHOOK,
        credentials=CREDENTIALS,
        webhook_secret=WEBHOOK_SECRET,
    )
    return ticket


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_every_admin_changelist_and_change_page_renders_for_a_superuser(
    admin_client: Any, desk: Any, model: Any
) -> None:
    instance = model._default_manager.order_by("pk").first()
    assert instance is not None, "the fixture must create a row of every registered model"

    changelist = admin_client.get(_url(model, "changelist"))
    change_page = admin_client.get(_url(model, "change", instance.pk))

    assert changelist.status_code == 200
    assert change_page.status_code == 200


@pytest.mark.parametrize("model", ACTION_OWNED, ids=lambda model: model._meta.label)
def test_action_owned_data_cannot_be_added_changed_or_deleted_in_the_admin(
    admin_client: Any, desk: Any, model: Any
) -> None:
    instance = model._default_manager.order_by("pk").first()

    add = admin_client.get(_url(model, "add"))
    change = admin_client.post(_url(model, "change", instance.pk), {"note": "x", "text": "x"})
    delete = admin_client.post(_url(model, "delete", instance.pk), {"post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert model._default_manager.filter(pk=instance.pk).exists()


def test_ticket_state_cannot_be_changed_through_the_admin(admin_client: Any, desk: Any) -> None:
    response = admin_client.post(
        _url(Ticket, "change", desk.pk), {"state": TicketState.RESOLVED, "_save": "Save"}
    )

    assert response.status_code == 403
    assert Ticket.objects.get(pk=desk.pk).state == TicketState.WAITING_DEPARTMENT


def test_ticket_and_reply_pages_show_lifecycle_fields_without_form_fields(
    admin_client: Any, desk: Any
) -> None:
    reply = Reply.objects.get(ticket=desk)

    ticket_page = admin_client.get(_url(Ticket, "change", desk.pk)).content.decode()
    reply_page = admin_client.get(_url(Reply, "change", reply.pk)).content.decode()

    assert reply.status == ReplyStatus.PENDING_REVIEW
    assert 'name="state"' not in ticket_page and 'name="status"' not in reply_page
    assert 'name="_save"' not in ticket_page and 'name="_save"' not in reply_page
    assert str(TicketState.WAITING_DEPARTMENT.label) in ticket_page
    assert str(ReplyStatus.PENDING_REVIEW.label) in reply_page


# --------------------------------------------------------------------------- channels


def _channel(slug: str = "bridge") -> Channel:
    return Channel.objects.get(slug=slug)


def _channel_form(channel: Channel, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": channel.name,
        "is_active": "on",
        "own_accounts": ",".join(channel.own_accounts),
        "keywords": ",".join(channel.keywords),
        "base_url": channel.base_url,
        "poll_interval_seconds": str(channel.poll_interval_seconds),
        "callback_url": channel.callback_url,
        "new_credentials": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def test_channel_secrets_never_appear_in_the_admin_pages(admin_client: Any, desk: Any) -> None:
    channel = _channel()

    pages = [
        admin_client.get(_url(Channel, "changelist")),
        admin_client.get(_url(Channel, "change", channel.pk)),
        admin_client.get(_url(Channel, "history", channel.pk)),
    ]

    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert "tok-never-shown-7f3a9c" not in html
        assert WEBHOOK_SECRET not in html


def test_channel_change_page_says_whether_secrets_are_set(admin_client: Any, desk: Any) -> None:
    html = admin_client.get(_url(Channel, "change", _channel().pk)).content.decode()

    assert html.count('alt="True"') >= 3  # active, credentials set, webhook secret set
    assert 'name="new_credentials"' in html
    assert 'name="webhook_secret"' not in html and 'name="credentials"' not in html


def test_saving_a_channel_without_new_credentials_keeps_the_stored_ones(
    admin_client: Any, desk: Any
) -> None:
    channel = _channel()

    response = admin_client.post(
        _url(Channel, "change", channel.pk), _channel_form(channel, name="Bridge neu")
    )

    channel.refresh_from_db()
    assert response.status_code == 302
    assert (channel.name, channel.credentials) == ("Bridge neu", CREDENTIALS)
    assert channel.webhook_secret == WEBHOOK_SECRET


def test_new_credentials_entered_in_the_admin_replace_the_stored_ones(
    admin_client: Any, desk: Any
) -> None:
    channel = _channel()

    response = admin_client.post(
        _url(Channel, "change", channel.pk),
        _channel_form(channel, new_credentials='{"access_token": "tok-2"}'),
    )

    channel.refresh_from_db()
    assert response.status_code == 302
    assert json.loads(channel.credentials) == {"access_token": "tok-2"}
    detail = admin_client.get(_url(Channel, "change", channel.pk)).content.decode()
    assert "tok-2" not in detail


def test_credentials_can_be_removed_in_the_admin(admin_client: Any, desk: Any) -> None:
    channel = _channel()

    admin_client.post(
        _url(Channel, "change", channel.pk), _channel_form(channel, clear_credentials="on")
    )

    channel.refresh_from_db()
    assert channel.credentials == ""


def test_setting_and_removing_credentials_at_once_is_refused(admin_client: Any, desk: Any) -> None:
    channel = _channel()

    response = admin_client.post(
        _url(Channel, "change", channel.pk),
        _channel_form(channel, new_credentials="tok-3", clear_credentials="on"),
    )

    channel.refresh_from_db()
    assert response.status_code == 200  # the form again, with the error
    assert channel.credentials == CREDENTIALS


def test_rotating_the_webhook_secret_shows_the_new_secret_once(
    admin_client: Any, desk: Any
) -> None:
    channel = _channel()

    response = admin_client.post(
        _url(Channel, "changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [channel.pk]},
    )

    channel.refresh_from_db()
    assert response.status_code == 200
    assert channel.webhook_secret != WEBHOOK_SECRET
    assert channel.webhook_secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    later = admin_client.get(_url(Channel, "change", channel.pk)).content.decode()
    assert channel.webhook_secret not in later


def test_creating_a_webhook_channel_in_the_admin_shows_its_generated_secret_once(
    admin_client: Any, desk: Any
) -> None:
    response = admin_client.post(
        _url(Channel, "add"),
        {
            "slug": "bridge-2",
            "platform": Platform.WEBHOOK,
            "name": "Bridge 2",
            "is_active": "on",
            "poll_interval_seconds": "60",
            "callback_url": "http://127.0.0.1:9/",
            "_save": "Save",
        },
    )

    channel = _channel("bridge-2")
    assert response.status_code == 200
    assert channel.webhook_secret and channel.webhook_secret in response.content.decode()
    assert channel.callback_url == "http://127.0.0.1:9/"


def test_channel_health_fields_are_read_only(admin_client: Any, desk: Any) -> None:
    channel = _channel()

    admin_client.post(
        _url(Channel, "change", channel.pk),
        _channel_form(channel, is_healthy="", last_error="forged", lag_seconds="99"),
    )

    channel.refresh_from_db()
    assert (channel.is_healthy, channel.last_error, channel.lag_seconds) == (True, "", None)


# --------------------------------------------------------------------------- SLA policies


def test_superusers_change_sla_policy_targets(admin_client: Any) -> None:
    policy = SlaPolicy.objects.get(kind=SlaKind.FIRST_RESPONSE, department__isnull=True)

    response = admin_client.post(
        _url(SlaPolicy, "change", policy.pk),
        {"kind": SlaKind.FIRST_RESPONSE, "target_seconds": "900", "warn_percent": "75"},
    )

    policy.refresh_from_db()
    assert response.status_code == 302
    assert (policy.target_seconds, policy.warn_percent) == (900, 75)


def test_an_sla_warning_outside_one_to_hundred_percent_is_refused(admin_client: Any) -> None:
    policy = SlaPolicy.objects.get(kind=SlaKind.FIRST_RESPONSE, department__isnull=True)

    response = admin_client.post(
        _url(SlaPolicy, "change", policy.pk), {"target_seconds": "900", "warn_percent": "0"}
    )

    policy.refresh_from_db()
    assert response.status_code == 200  # the form again, with the error
    assert (policy.target_seconds, policy.warn_percent) == (600, 80)


def test_sla_policy_list_shows_kind_department_target_and_warning(admin_client: Any) -> None:
    html = admin_client.get(_url(SlaPolicy, "changelist")).content.decode()

    assert "0:10:00" in html and "48:00:00" in html
    assert "column-warn_percent" in html and "column-department" in html


def test_staff_who_are_not_superusers_may_only_read_sla_policies(
    client: Any, team_lead: Any
) -> None:
    team_lead.is_staff = True
    team_lead.save(update_fields=["is_staff"])
    client.force_login(team_lead)
    policy = SlaPolicy.objects.get(kind=SlaKind.FIRST_RESPONSE, department__isnull=True)

    page = client.get(_url(SlaPolicy, "change", policy.pk))
    change = client.post(
        _url(SlaPolicy, "change", policy.pk),
        {"kind": SlaKind.FIRST_RESPONSE, "target_seconds": "1", "warn_percent": "50"},
    )

    policy.refresh_from_db()
    assert (page.status_code, change.status_code) == (200, 403)
    assert policy.target_seconds == 600


# --------------------------------------------------------------------------- list queries

LISTED = [
    Ticket,
    Mention,
    Reply,
    TicketEvent,
    TicketNote,
    SlaClock,
    SlaBreach,
    DepartmentRequest,
    Notification,
    Channel,
    Customer,
    SocialIdentity,
    Suggestion,
]


@pytest.mark.parametrize("model", LISTED, ids=lambda model: model._meta.label)
def test_admin_lists_need_no_query_per_row(
    admin_client: Any,
    cm: Any,
    agent: Any,
    other_agent: Any,
    department: Any,
    expert: Any,
    model: Any,
) -> None:
    people = {"cm": cm, "agent": agent, "other_agent": other_agent, "department": department}
    build_case(1, **people)
    url = _url(model, "changelist")
    admin_client.get(url)  # warm-up: sessions, content types
    with CaptureQueriesContext(connection) as one_case:
        admin_client.get(url)

    for number in range(2, 6):
        build_case(number, **people)
    with CaptureQueriesContext(connection) as five_cases:
        response = admin_client.get(url)

    assert response.status_code == 200
    assert len(five_cases) == len(one_case)


# --------------------------------------------------------------------------- users


def test_a_users_language_is_changed_in_the_admin_through_the_profile(
    admin_client: Any, agent: Any
) -> None:
    profile = Profile.objects.create(user=agent, language="de")
    joined = timezone.localtime(agent.date_joined)

    response = admin_client.post(
        reverse("admin:auth_user_change", args=[agent.pk]),
        {
            "username": agent.username,
            "first_name": agent.first_name,
            "email": agent.email,
            "is_active": "on",
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-id": str(profile.pk),
            "profile-0-user": str(agent.pk),
            "profile-0-language": "en",
            "profile-0-time_zone": "Europe/Vienna",
        },
    )

    profile.refresh_from_db()
    assert response.status_code == 302
    assert (profile.language, profile.time_zone) == ("en", "Europe/Vienna")


def test_the_admin_never_shows_a_two_factor_secret(admin_client: Any, desk: Any) -> None:
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    totp_device = TOTPDevice.objects.get()
    static_device = StaticDevice.objects.get()

    pages = [
        admin_client.get(_url(TOTPDevice, "change", totp_device.pk)).content.decode(),
        admin_client.get(_url(StaticDevice, "change", static_device.pk)).content.decode(),
        admin_client.get(_url(TOTPDevice, "changelist")).content.decode(),
    ]

    secrets = [totp_device.key, *StaticToken.objects.values_list("token", flat=True)]
    assert not [secret for secret in secrets for page in pages if secret in page]
