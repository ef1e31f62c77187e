"""Django admin of the tickets app.

Configuration is edited here: departments with their experts, topics, and the SLA policies
(superusers only; a change applies to clocks started after it). Everything the actions write
(tickets and their state, replies and their status, events, notes, links, department
requests, clocks, breaches, notifications) is read-only: no add, change or delete, so no
lifecycle field can ever be edited here.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from monitoring.models import Mention
from servicedesk.admin import ReadOnlyAdmin, ReadOnlyTabularInline
from tickets import actions
from tickets.models import (
    Department,
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

# --------------------------------------------------------------------------- configuration


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "expert_count")
    search_fields = ("name", "slug")
    filter_horizontal = ("experts",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        return super().get_queryset(request).annotate(expert_total=Count("experts"))

    @admin.display(description=_("experts"), ordering="expert_total")
    def expert_count(self, department: Department) -> int:
        return department.expert_total


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """Topics under observation; the ticket count per topic is what product development
    reads."""

    list_display = ("name", "ticket_count", "created_at")
    search_fields = ("name", "description")
    fields = ("name", "description", "created_at")
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return super().get_queryset(request).annotate(ticket_total=Count("tickets"))

    @admin.display(description=_("tickets"), ordering="ticket_total")
    def ticket_count(self, topic: Topic) -> int:
        return topic.ticket_total

    def save_model(self, request: HttpRequest, obj: Topic, form: Any, change: bool) -> None:
        if not change:
            obj.created_at = timezone.now()
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # unsolvable tickets keep naming their topic


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Targets of the SLA clocks. Read when a clock starts: a change applies to clocks
    started after it, never to running ones. Only superusers change them."""

    list_display = ("kind", "department", "target_seconds", "target", "warn_percent", "updated_at")
    list_select_related = ("department",)
    list_filter = ("kind", "department")
    fields = ("kind", "department", "target_seconds", "warn_percent", "updated_at")
    readonly_fields = ("updated_at",)

    @admin.display(description=_("target"))
    def target(self, policy: SlaPolicy) -> str:
        minutes, seconds = divmod(policy.target_seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None:  # a policy keeps its kind and department; its targets change
            return ("kind", "department", *self.readonly_fields)
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: SlaPolicy, form: Any, change: bool) -> None:
        """A new (department) policy is plain configuration; a target change goes through
        tickets.actions.update_sla_policy."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        actions.update_sla_policy(
            obj,
            actor=request.user,
            target_seconds=form.cleaned_data["target_seconds"],
            warn_percent=form.cleaned_data["warn_percent"],
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A department's own policy may go (its department falls back to the default);
        # the defaults of DESIGN §4 stay.
        return request.user.is_superuser and (obj is None or obj.department_id is not None)


# --------------------------------------------------------------------------- tickets (read-only)


class MentionInline(ReadOnlyTabularInline):
    model = Mention
    fields = ("external_id", "author_handle", "text", "created_at", "received_at", "is_private")
    ordering = ("created_at", "id")


class ReplyInline(ReadOnlyTabularInline):
    model = Reply
    fields = ("kind", "visibility", "status", "text", "author", "reviewer", "sent_at")
    fk_name = "ticket"


class TicketEventInline(ReadOnlyTabularInline):
    model = TicketEvent
    fields = ("created_at", "kind", "transition", "from_state", "to_state", "actor", "note")
    show_change_link = False


class SlaClockInline(ReadOnlyTabularInline):
    model = SlaClock
    fields = ("kind", "started_at", "warn_at", "due_at", "stopped_at", "warned_at", "is_cancelled")


class TicketNoteInline(ReadOnlyTabularInline):
    model = TicketNote
    fields = ("created_at", "author", "text")
    show_change_link = False


class DepartmentRequestInline(ReadOnlyTabularInline):
    model = DepartmentRequest
    fields = ("department", "status", "question", "requested_by", "created_at", "due_at")


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "state",
        "stage",
        "channel",
        "customer",
        "assignee",
        "priority",
        "opened_at",
        "preview",
    )
    list_select_related = ("channel", "customer", "assignee")
    list_filter = ("state", "priority", "channel", "no_service_case", "assignee")
    search_fields = ("preview", "customer__display_name", "handover_reference")
    date_hierarchy = "opened_at"
    ordering = ("-opened_at", "-id")
    inlines = (
        MentionInline,
        ReplyInline,
        TicketEventInline,
        SlaClockInline,
        TicketNoteInline,
        DepartmentRequestInline,
    )

    @admin.display(description=_("stage"))
    def stage(self, ticket: Ticket) -> str:
        return ticket.stage.label if ticket.stage else "—"


@admin.register(Reply)
class ReplyAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "ticket",
        "kind",
        "visibility",
        "status",
        "author",
        "reviewer",
        "created_at",
        "sent_at",
        "attempts",
    )
    list_select_related = ("ticket", "author", "reviewer")
    list_filter = ("status", "kind", "visibility")
    search_fields = ("text", "platform_id")
    raw_id_fields = ("ticket", "in_reply_to_mention")


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "ticket",
        "kind",
        "transition",
        "from_state",
        "to_state",
        "actor",
        "created_at",
    )
    list_select_related = ("ticket", "actor")
    list_filter = ("kind", "transition")
    raw_id_fields = ("ticket",)


@admin.register(TicketNote)
class TicketNoteAdmin(ReadOnlyAdmin):
    list_display = ("id", "ticket", "author", "created_at")
    list_select_related = ("ticket", "author")
    raw_id_fields = ("ticket",)


@admin.register(TicketLink)
class TicketLinkAdmin(ReadOnlyAdmin):
    list_display = ("id", "from_ticket", "kind", "to_ticket", "created_by", "created_at")
    list_select_related = ("from_ticket", "to_ticket", "created_by")
    list_filter = ("kind",)


@admin.register(DepartmentRequest)
class DepartmentRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "ticket",
        "department",
        "status",
        "requested_by",
        "created_at",
        "due_at",
        "answered_by",
        "answered_at",
    )
    list_select_related = ("ticket", "department", "requested_by", "answered_by")
    list_filter = ("status", "department")
    raw_id_fields = ("ticket",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "ticket", "created_at", "read_at")
    list_select_related = ("user", "ticket")
    list_filter = ("kind",)
    raw_id_fields = ("ticket",)


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "ticket",
        "kind",
        "started_at",
        "warn_at",
        "due_at",
        "stopped_at",
        "warned_at",
        "is_cancelled",
        "is_breached",
    )
    list_select_related = ("ticket", "breach")
    list_filter = ("kind", "is_cancelled")
    raw_id_fields = ("ticket", "department_request")

    @admin.display(description=_("breached"), boolean=True)
    def is_breached(self, clock: SlaClock) -> bool:
        return hasattr(clock, "breach")


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdmin):
    list_display = ("id", "clock", "due_at", "detected_at")
    list_select_related = ("clock",)
    date_hierarchy = "detected_at"
