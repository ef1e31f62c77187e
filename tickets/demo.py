"""The demo desk that `seed_demo` builds.

Logins per role, the departments with one expert each, channels matching the platforms of
the sample corpus (with the brands' own accounts), the live demo channel, a webhook bridge,
the default reply templates, the information centre's articles and the lost-parcel story
(tickets.demo_knowledge), the sample mentions (imported through the intake without SLA
clocks), a handful of cases moved through the real actions, so the desk looks lived-in, and
the team's weekly roster with four weeks of archived history (tickets.demo_history), so the
staffing forecast has something to show.

Every step is idempotent: what exists already is left as it is (edits made in the admin
survive), so running the seed again changes nothing. Demo passwords are fixed and printed;
they are set only when a user is created.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from io import StringIO
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guidelines.actions import install_default_templates
from guidelines.models import ReplyTemplate
from monitoring import actions as monitoring_actions
from monitoring.adapters.demo import CORPUS_PATH
from monitoring.choices import Platform
from monitoring.models import Channel, Mention
from servicedesk import actions as servicedesk_actions
from servicedesk import roles
from servicedesk.models import Profile
from tickets import access, actions, demo_history, demo_knowledge
from tickets.choices import DismissReason, ReplyKind, ReplyVisibility, TicketEventKind, TicketState
from tickets.models import Department, Ticket

logger = logging.getLogger(__name__)
User = get_user_model()

# The sample traffic the demo channel replays live, imported as the desk's history too.
SAMPLE_MENTIONS_PATH = CORPUS_PATH
WEBHOOK_RECEIVER_URL = "http://127.0.0.1:8765/"
DEMO_POLL_INTERVAL_SECONDS = 5  # the live demo channel: about one mention every few seconds


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class DemoUser:
    """One demo login. The password is fixed (printed by seed_demo); machine accounts
    (`api_client`) have none and use their token."""

    role: Any  # the printed role label (translatable)
    username: str
    first_name: str
    last_name: str
    group: str | None
    department: str = ""
    language: str = "de"
    is_superuser: bool = False

    @property
    def password(self) -> str:
        return "" if self.group == roles.API_CLIENT else f"demo-{self.username}-2026"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(_("Community Manager"), "clara", "Clara", "Berger", roles.COMMUNITY_MANAGER),
    DemoUser(_("Support agent"), "anton", "Anton", "Keller", roles.SUPPORT_AGENT),
    # Olga works in English: the interface language is a per-user preference.
    DemoUser(_("Support agent"), "olga", "Olga", "Petrović", roles.SUPPORT_AGENT, language="en"),
    DemoUser(_("Team lead"), "tina", "Tina", "Hoffmann", roles.TEAM_LEAD),
    # Confirms erasures that tina requests (issue 15: four eyes on every erasure).
    DemoUser(_("Privacy officer"), "paula", "Paula", "Richter", roles.PRIVACY_OFFICER),
    DemoUser(
        _("Department expert (billing)"),
        "berta",
        "Berta",
        "Schulz",
        roles.DEPARTMENT_EXPERT,
        "billing",
    ),
    DemoUser(
        _("Department expert (technical)"),
        "theo",
        "Theo",
        "Wagner",
        roles.DEPARTMENT_EXPERT,
        "technical",
    ),
    DemoUser(
        _("Department expert (logistics)"),
        "lukas",
        "Lukas",
        "Braun",
        roles.DEPARTMENT_EXPERT,
        "logistics",
    ),
    DemoUser(
        _("Department expert (sales)"), "vera", "Vera", "König", roles.DEPARTMENT_EXPERT, "sales"
    ),
    DemoUser(
        _("Department expert (product)"),
        "paul",
        "Paul",
        "Richter",
        roles.DEPARTMENT_EXPERT,
        "product",
    ),
    DemoUser(_("API client (machine account)"), "demo-bridge", "Demo", "Bridge", roles.API_CLIENT),
    DemoUser(_("Administrator (superuser)"), "admin", "Ada", "Admin", None, is_superuser=True),
)

DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("billing", "Abrechnung"),
    ("technical", "Technik"),
    ("logistics", "Logistik"),
    ("sales", "Vertrieb"),
    ("product", "Produktmanagement"),
)


# --------------------------------------------------------------------------- channels


@dataclass(frozen=True)
class DemoChannel:
    slug: str
    name: str
    platform: str
    own_accounts: tuple[str, ...] = ()
    callback_url: str = ""
    poll_interval_seconds: int = 60
    polls: bool = False  # push-only channels (no credentials) are never polled


# The brands of the sample corpus and their listening keywords.
KEYWORDS = ("ZugPlus", "Telvia", "PaketBlitz", "Lindenhaus", "Kessler Motorrad")
# Own accounts per platform: the brands' handles as the sample shows them (the twitter
# handles post in its threads, the instagram ones are tagged); the rest in the same style.
TWITTER_ACCOUNTS = (
    "@ZugPlus_hilft",
    "@Telvia_hilft",
    "@PaketBlitz",
    "@LindenhausHotels",
    "@KesslerMotorrad",
)
INSTAGRAM_ACCOUNTS = ("@zugplus", "@telvia", "@paketblitz", "@lindenhaushotels", "@kesslermotorrad")

DEMO_CHANNELS: tuple[DemoChannel, ...] = (
    # The slugs are the `platform` values of the sample file (import_mentions --format flat).
    DemoChannel("twitter", "X / Twitter", Platform.TWITTER, TWITTER_ACCOUNTS),
    DemoChannel(
        "facebook",
        "Facebook-Seiten",
        Platform.FACEBOOK,
        ("zugplus", "telvia", "paketblitz", "lindenhaushotels", "kesslermotorrad"),
    ),
    DemoChannel("instagram", "Instagram", Platform.INSTAGRAM, INSTAGRAM_ACCOUNTS),
    DemoChannel(
        "youtube",
        "YouTube-Kommentare",
        Platform.YOUTUBE,
        ("@ZugPlus", "@Telvia", "@PaketBlitz", "@LindenhausHotels", "@KesslerMotorrad"),
    ),
    DemoChannel(
        "mastodon",
        "Mastodon",
        Platform.MASTODON,
        ("@zugplus@norden.social", "@telvia@norden.social", "@paketblitz@norden.social"),
    ),
    # Review sites, forums and blogs are read as feeds; replies there are posted by hand.
    DemoChannel(
        "review", "Bewertungsportale", Platform.RSS, ("Telvia Kundenservice", "Lindenhaus Hotels")
    ),
    DemoChannel("forum", "Foren", Platform.RSS, ("ZugPlus_Team", "Kessler_Motorrad_Team")),
    DemoChannel("blog", "Blogs", Platform.RSS),
    DemoChannel(
        "demo",
        "Live-Demo (wiedergegebene Beispiel-Mentions)",
        Platform.DEMO,
        TWITTER_ACCOUNTS + INSTAGRAM_ACCOUNTS,
        poll_interval_seconds=DEMO_POLL_INTERVAL_SECONDS,
        polls=True,
    ),
    DemoChannel(
        "webhook-demo",
        "Webhook-Bridge (Demo)",
        Platform.WEBHOOK,
        ("desk_bridge",),
        callback_url=WEBHOOK_RECEIVER_URL,
    ),
)


# --------------------------------------------------------------------------- the report


@dataclass
class DemoLogin:
    role: Any
    username: str
    password: str


@dataclass
class SeedReport:
    """What seed_demo did and what it prints."""

    logins: list[DemoLogin] = field(default_factory=list)
    api_token: str = ""
    users_created: int = 0
    departments_created: int = 0
    channels_created: list[str] = field(default_factory=list)
    # The webhook channel's signing secret: known only in the run that created it.
    webhook_secret: str | None = None
    templates_created: int = 0
    articles_created: int = 0
    import_output: str = ""
    cases_moved: list[str] = field(default_factory=list)
    cases_skipped: list[str] = field(default_factory=list)
    shifts_created: int = 0
    history_cases_created: int = 0


# --------------------------------------------------------------------------- steps


def ensure_users(report: SeedReport) -> dict[str, Any]:
    """The demo users (created once, with their group, department and profile); returns
    them by username. Existing users keep their password and preferences."""
    users: dict[str, Any] = {}
    for demo_user in DEMO_USERS:
        if demo_user.group == roles.API_CLIENT:
            user, token, created = servicedesk_actions.ensure_api_account(demo_user.username)
            report.api_token = token.key
        else:
            user, created = _ensure_person(demo_user)
        report.users_created += created
        if not Profile.objects.filter(user=user).exists():
            servicedesk_actions.update_preferences(
                user, language=demo_user.language, time_zone="Europe/Berlin"
            )
        users[demo_user.username] = user
        report.logins.append(DemoLogin(demo_user.role, demo_user.username, demo_user.password))
    return users


def _ensure_person(demo_user: DemoUser) -> tuple[Any, bool]:
    """A human demo login with its fixed password (set only when the user is created)."""
    user = User.objects.filter(username=demo_user.username).first()
    created = user is None
    if user is None:
        user = User(
            username=demo_user.username,
            first_name=demo_user.first_name,
            last_name=demo_user.last_name,
            email=f"{demo_user.username}@servicedesk.example",
            is_staff=demo_user.is_superuser,
            is_superuser=demo_user.is_superuser,
        )
        user.set_password(demo_user.password)
        user.save()
    if demo_user.group:
        user.groups.add(Group.objects.get(name=demo_user.group))
    return user, created


def ensure_departments(users: dict[str, Any], report: SeedReport) -> dict[str, Department]:
    """The five departments, each with its demo expert."""
    departments = {}
    for slug, name in DEPARTMENTS:
        department, created = Department.objects.get_or_create(slug=slug, defaults={"name": name})
        report.departments_created += created
        departments[slug] = department
    for demo_user in DEMO_USERS:
        if demo_user.department:
            departments[demo_user.department].experts.add(users[demo_user.username])
    return departments


def ensure_channels(admin: Any, *, now: datetime, report: SeedReport) -> None:
    """The demo channels, created by the administrator through monitoring.actions. Only the
    live demo channel is polled; the others receive their mentions by push or import."""
    existing = set(Channel.objects.values_list("slug", flat=True))
    for spec in DEMO_CHANNELS:
        if spec.slug in existing:
            continue
        settings: dict[str, Any] = {
            "name": spec.name,
            "own_accounts": list(spec.own_accounts),
            "keywords": list(KEYWORDS),
            "poll_interval_seconds": spec.poll_interval_seconds,
        }
        if spec.callback_url:
            settings["callback_url"] = spec.callback_url
        channel, secret = monitoring_actions.create_channel(
            actor=admin, slug=spec.slug, platform=spec.platform, **settings
        )
        if spec.polls:
            monitoring_actions.resume_polling(channel, now=now)
        if secret is not None:
            report.webhook_secret = secret
        report.channels_created.append(spec.slug)


def import_sample_mentions(report: SeedReport) -> None:
    """The sample corpus through `import_mentions` (the intake, without SLA clocks). The
    import is idempotent: known mentions are reported as duplicates and change nothing."""
    output = StringIO()
    call_command(
        "import_mentions", str(SAMPLE_MENTIONS_PATH), format="flat", stdout=output, stderr=output
    )
    report.import_output = output.getvalue()


# --------------------------------------------------------------------------- lived-in cases
# Each case starts from one imported mention and moves its ticket through the real actions.
# A case runs only on a ticket nobody has touched yet (still `new`, no transition, no reply),
# in one transaction: it happens completely or not at all, and exactly once.


@dataclass(frozen=True)
class DemoCase:
    name: str
    channel: str
    external_id: str
    perform: Callable[[Ticket, dict[str, Any], dict[str, Department]], Any]


def _mention(ticket: Ticket) -> Mention:
    return ticket.mentions.filter(is_own_account=False).order_by("created_at", "id").first()


def _assign(ticket: Ticket, people: dict[str, Any], note: str) -> Ticket:
    return actions.assign_to_support(ticket, actor=people["clara"], note=note)


def _case_assigned_to_support(
    ticket: Ticket, people: dict[str, Any], departments: dict[str, Department]
) -> None:
    _assign(ticket, people, "Doppelt gekauftes Ticket, Erstattung braucht die Buchungsdaten.")


def _case_taken_by_anton(
    ticket: Ticket, people: dict[str, Any], departments: dict[str, Department]
) -> None:
    ticket = _assign(ticket, people, "Kündigung über X, Kundennummer öffentlich gepostet.")
    ticket = actions.take_ticket(ticket, actor=people["anton"])
    actions.add_note(
        ticket,
        actor=people["anton"],
        text="Kundennummer steht öffentlich im Tweet: Antwort nur per DM, Kündigung an die "
        "Abrechnung weitergeben.",
    )


def _case_holding_reply_sent(
    ticket: Ticket, people: dict[str, Any], departments: dict[str, Department]
) -> None:
    anton, olga = people["anton"], people["olga"]
    ticket = _assign(ticket, people, "Bewertung mit Vorgangsnummer: Gutschrift prüfen.")
    ticket = actions.take_ticket(ticket, actor=anton)
    template = ReplyTemplate.objects.filter(key="holding", language="de").first()
    text = (
        actions.render_template_text(template, ticket=ticket, actor=anton)
        if template is not None
        else "Hallo Udo, danke für deine Geduld! Wir klären die Gutschrift gerade mit der "
        "Abrechnung und melden uns hier, sobald wir mehr wissen. Viele Grüße, Anton"
    )
    reply = actions.create_reply(
        ticket,
        actor=anton,
        text=text,
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.HOLDING,
        template=template,
        submit=True,
    )
    reply = actions.approve_reply(reply, actor=olga)  # four eyes: Olga reviews Anton's reply
    # Review sites cannot be posted to: Anton posts it by hand and confirms the permalink.
    actions.confirm_reply_posted(
        reply,
        actor=anton,
        permalink="https://bewertungen.example/telvia/fa064313dca7af691e74482f#antwort",
    )


def _case_asks_technical_department(
    ticket: Ticket, people: dict[str, Any], departments: dict[str, Department]
) -> None:
    olga = people["olga"]
    ticket = _assign(ticket, people, "Leitung bricht ständig ab, Technik muss messen.")
    ticket = actions.take_ticket(ticket, actor=olga)
    actions.ask_department(
        ticket,
        actor=olga,
        department=departments["technical"],
        question="Kundin meldet seit Freitag Abbrüche alle ~20 Minuten (PPPoE timeout im "
        "Router-Log). Könnt ihr die Leitung durchmessen und sagen, ob ein Techniker raus muss?",
        shared_mentions=[_mention(ticket)],
    )


def _case_resolved_with_answer(
    ticket: Ticket, people: dict[str, Any], departments: dict[str, Department]
) -> None:
    clara = people["clara"]
    reply = actions.create_reply(
        ticket,
        actor=clara,
        text="Hallo Bahnpendler_BS, danke für deinen Hinweis! Der RE 3 fällt morgens wegen "
        "Bauarbeiten zwischen Braunschweig und Wolfsburg aus; ab dem 14.12. fährt er wieder "
        "nach Plan. Bis dahin gibt es einen Ersatzbus ab Gleis 1. Viele Grüße, Clara",
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER,
        submit=True,
    )
    reply = actions.approve_reply(reply, actor=people["anton"])
    actions.confirm_reply_posted(
        reply,
        actor=clara,
        permalink="https://www.zugreise-forum.de/threads/re3-ausfaelle-morgens.20877/#post-642001",
    )
    actions.resolve_ticket(ticket, actor=clara)


def _case_lost_parcel_answered(
    ticket: Ticket, people: dict[str, Any], departments: dict[str, Department]
) -> None:
    """Last week's lost parcel on the forum: answered, posted by hand, resolved. Its answer is
    what the information centre offers for today's lost parcel."""
    anton = people["anton"]
    ticket = _assign(ticket, people, "Paket verschwunden: Nachforschung anstoßen.")
    ticket = actions.take_ticket(ticket, actor=anton)
    reply = actions.create_reply(
        ticket,
        actor=anton,
        text=demo_knowledge.PAST_PARCEL_ANSWER,
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER,
        submit=True,
    )
    reply = actions.approve_reply(reply, actor=people["olga"])
    actions.confirm_reply_posted(
        reply,
        actor=anton,
        permalink="https://www.paketforum.example/threads/paket-verschwunden.4411/#post-2",
    )
    actions.resolve_ticket(Ticket.objects.get(pk=ticket.pk), actor=anton)


def _case_lost_parcel_to_support(
    ticket: Ticket, people: dict[str, Any], departments: dict[str, Department]
) -> None:
    _assign(ticket, people, "Paket verloren: bitte mit dem Artikel zur Nachforschung antworten.")


def _case_dismissed_as_spam(
    ticket: Ticket, people: dict[str, Any], departments: dict[str, Department]
) -> None:
    actions.dismiss_ticket(ticket, actor=people["clara"], reason=DismissReason.SPAM)


DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "assigned to support (double ticket purchase)",
        "facebook",
        "100030946687379_1068196322801099",
        _case_assigned_to_support,
    ),
    DemoCase(
        "taken by anton (contract cancellation)",
        "twitter",
        "2119739312490309789",
        _case_taken_by_anton,
    ),
    DemoCase(
        "holding reply by anton, approved by olga, posted (credit note review)",
        "review",
        "trustpilot:fa064313dca7af691e74482f",
        _case_holding_reply_sent,
    ),
    DemoCase(
        "asking the technical department (line drops)",
        "twitter",
        "2119764597154989645",
        _case_asks_technical_department,
    ),
    DemoCase(
        "resolved with an answer (RE 3 cancellations)",
        "forum",
        "https://www.zugreise-forum.de/threads/re3-ausfaelle-morgens.20877/#post-641937",
        _case_resolved_with_answer,
    ),
    DemoCase(
        "lost parcel answered and resolved last week (forum)",
        "forum",
        demo_knowledge.PAST_PARCEL_MENTION.external_id,
        _case_lost_parcel_answered,
    ),
    DemoCase(
        "lost parcel handed to Support (live demo channel)",
        "demo",
        demo_knowledge.LIVE_PARCEL_MENTION.external_id,
        _case_lost_parcel_to_support,
    ),
    DemoCase(
        "dismissed as spam (fake review)",
        "review",
        "trustpilot:b3ed7de434209f49d1b3ef88",
        _case_dismissed_as_spam,
    ),
)


def is_untouched(ticket: Ticket) -> bool:
    """Nobody has worked on the ticket yet: still `new`, no transition, no reply."""
    return (
        ticket.state == TicketState.NEW
        and not ticket.events.filter(kind=TicketEventKind.TRANSITION).exists()
        and not ticket.replies.exists()
    )


def bring_desk_to_life(
    people: dict[str, Any], departments: dict[str, Department], report: SeedReport
) -> None:
    """Run each demo case whose ticket is still untouched (see DEMO_CASES)."""
    for case in DEMO_CASES:
        mention = (
            Mention.objects.select_related("ticket")
            .filter(channel__slug=case.channel, external_id=case.external_id)
            .first()
        )
        if mention is None or mention.ticket is None or not is_untouched(mention.ticket):
            report.cases_skipped.append(case.name)
            continue
        with transaction.atomic():
            case.perform(mention.ticket, people, departments)
        report.cases_moved.append(case.name)


# --------------------------------------------------------------------------- all of it


def seed_demo(*, now: datetime) -> SeedReport:
    """Build (or complete) the demo desk; returns what to print. Idempotent."""
    report = SeedReport()
    people = ensure_users(report)
    departments = ensure_departments(people, report)
    ensure_channels(people["admin"], now=now, report=report)
    report.templates_created = install_default_templates()
    report.articles_created = demo_knowledge.ensure_articles(
        people,
        access.knowledge_departments(people["tina"]),
        today=timezone.localdate(now),
    )
    import_sample_mentions(report)
    demo_knowledge.receive_story_mentions(now=now)
    bring_desk_to_life(people, departments, report)
    report.shifts_created = demo_history.ensure_roster(people)
    report.history_cases_created = demo_history.ensure_history(people, now=now)
    return report
