"""Django admin of the CRM: customers, identities, consent and notes, read-only.

Customers and identities are created by the intake and merged by audited actions; consent is
an append-only history. The admin shows them and never changes them.
"""

from django.contrib import admin

from crm.models import Consent, Customer, CustomerMerge, CustomerNote, SocialIdentity
from servicedesk.admin import ReadOnlyAdmin, ReadOnlyTabularInline


class SocialIdentityInline(ReadOnlyTabularInline):
    model = SocialIdentity
    fields = ("platform", "handle", "platform_user_id", "display_name", "created_at")


class ConsentInline(ReadOnlyTabularInline):
    model = Consent
    fields = ("purpose", "status", "source", "actor", "created_at")


class CustomerNoteInline(ReadOnlyTabularInline):
    model = CustomerNote
    fields = ("text", "author", "created_at")


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ("id", "display_name", "created_at", "merged_into")
    list_select_related = ("merged_into",)
    search_fields = ("display_name", "identities__handle")
    date_hierarchy = "created_at"
    inlines = (SocialIdentityInline, ConsentInline, CustomerNoteInline)


@admin.register(SocialIdentity)
class SocialIdentityAdmin(ReadOnlyAdmin):
    list_display = ("handle", "platform", "platform_user_id", "display_name", "customer")
    list_select_related = ("customer",)
    list_filter = ("platform",)
    search_fields = ("handle", "display_name", "platform_user_id")


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("customer", "purpose", "status", "source", "actor", "created_at")
    list_select_related = ("customer", "actor")
    list_filter = ("purpose", "status")


@admin.register(CustomerNote)
class CustomerNoteAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "author", "created_at")
    list_select_related = ("customer", "author")


@admin.register(CustomerMerge)
class CustomerMergeAdmin(ReadOnlyAdmin):
    list_display = ("id", "source", "target", "actor", "created_at", "undone_at")
    list_select_related = ("source", "target", "actor")
