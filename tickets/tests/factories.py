"""factory_boy factories for tickets, mentions, channels, customers and users."""

from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from crm.models import Customer, SocialIdentity
from monitoring.choices import Platform
from monitoring.models import Channel, Mention
from tickets.choices import ReplyKind, ReplyVisibility, SlaKind
from tickets.models import Department, Reply, SlaClock, Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    first_name = factory.Sequence(lambda n: f"Vorname{n}")
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def groups(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        for name in extracted or ():
            self.groups.add(Group.objects.get(name=name))


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.LazyAttribute(lambda channel: channel.slug.title())
    platform = Platform.WEBHOOK
    own_accounts = factory.LazyFunction(lambda: ["desk_hilft"])


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    display_name = factory.Sequence(lambda n: f"Kundin {n}")
    created_at = factory.LazyFunction(timezone.now)


class SocialIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialIdentity

    customer = factory.SubFactory(CustomerFactory)
    platform = "twitter"
    handle = factory.Sequence(lambda n: f"kunde{n}")
    created_at = factory.LazyFunction(timezone.now)


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket in `new` with one customer mention (use `state=` through the helper
    `ticket_in_state` to get other states: `state` is protected)."""

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    channel = factory.SubFactory(ChannelFactory)
    customer = factory.SubFactory(CustomerFactory)
    opened_at = factory.LazyFunction(timezone.now)
    posted_at = factory.LazyAttribute(lambda ticket: ticket.opened_at)
    last_mention_at = factory.LazyAttribute(lambda ticket: ticket.opened_at)
    state_changed_at = factory.LazyAttribute(lambda ticket: ticket.opened_at)
    updated_at = factory.LazyAttribute(lambda ticket: ticket.opened_at)
    preview = "Mein Paket ist nicht angekommen."
    mention_count = 1

    @factory.post_generation
    def mention(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted is not False:
            MentionFactory(ticket=self, channel=self.channel, customer=self.customer)


class MentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mention
        exclude = ("customer",)

    channel = factory.SubFactory(ChannelFactory)
    customer = None
    external_id = factory.Sequence(lambda n: f"ext-{n}")
    identity = factory.LazyAttribute(
        lambda mention: SocialIdentityFactory(
            customer=mention.customer or CustomerFactory(),
            platform=mention.channel.identity_platform,
        )
    )
    author_handle = factory.LazyAttribute(lambda mention: "@" + mention.identity.handle)
    author_display_name = "Erika Mustermann"
    text = "Mein Paket ist nicht angekommen."
    created_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=30))
    received_at = factory.LazyFunction(timezone.now)


class ReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reply

    ticket = factory.SubFactory(TicketFactory)
    in_reply_to_mention = factory.LazyAttribute(lambda reply: reply.ticket.mentions.first())
    visibility = ReplyVisibility.PUBLIC
    kind = ReplyKind.ANSWER
    text = "Hallo Erika, wir kümmern uns darum."
    author = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"department-{n}")
    name = factory.LazyAttribute(lambda department: department.slug.title())


class SlaClockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaClock

    ticket = factory.SubFactory(TicketFactory)
    kind = SlaKind.FIRST_RESPONSE
    started_at = factory.LazyAttribute(lambda clock: clock.due_at - timedelta(minutes=10))
    warn_at = factory.LazyAttribute(lambda clock: clock.started_at + timedelta(minutes=8))
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=10))
