"""The admin: erasures and the audit read-only (they are written by the actions only),
retention policies editable by superusers."""

from typing import Any

from django.contrib import admin

from privacy.models import AccessLog, ErasureRequest, RetentionPolicy


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "status", "requested_by", "confirmed_by", "finished_at")
    list_filter = ("status",)
    list_select_related = ("customer", "requested_by", "confirmed_by")


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user_id", "kind", "customer_id", "ticket_id", "path")
    list_filter = ("kind",)
    show_full_result_count = False


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    list_display = ("kind", "keep_days", "is_active")

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: Any) -> bool:
        return bool(request.user.is_superuser)
