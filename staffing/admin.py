from django.contrib import admin

from staffing.models import Absence, RoutingSettings, Shift, StaffMember


@admin.register(RoutingSettings)
class RoutingSettingsAdmin(admin.ModelAdmin):
    list_display = ["auto_assign", "max_open_per_agent", "away_after_minutes", "updated_at"]
    readonly_fields = ["updated_at", "updated_by"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "max_open", "languages", "departments", "channels"]
    list_filter = ["status"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    readonly_fields = [
        "status",
        "status_source",
        "status_changed_at",
        "last_seen_at",
        "last_assigned_at",
    ]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["user", "duty", "weekday", "on_date", "starts", "ends"]
    list_filter = ["duty", "weekday"]
    autocomplete_fields = ["user"]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["user", "starts_on", "ends_on", "stand_in"]
    autocomplete_fields = ["user", "stand_in"]
