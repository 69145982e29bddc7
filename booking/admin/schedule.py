"""
The clinic's schedule in the admin: practitioners with their hours and
time off, consultation types, closures and the booking rules. Changes that
free time reach the waitlist through booking/services/offers.py.
"""

from django.contrib import admin
from django.utils import timezone

from booking.models import (
    BookingRules,
    Closure,
    ConsultationType,
    Practitioner,
    TimeOff,
    WorkingHours,
)
from booking.services import offers


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0
    fields = ["starts_at", "ends_at", "reason"]

    def get_queryset(self, request):
        # Past leave stays on record but off the form.
        return super().get_queryset(request).filter(ends_at__gte=timezone.now())


# Who edits what: the front desk runs the schedule (hours, time off, who
# takes bookings); content editors write the words clients read (bios,
# descriptions). Each sees the other's fields read-only.
SCHEDULE_PERMISSION = "booking.change_workinghours"


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "role",
        "is_medical_provider",
        "is_published",
        "takes_online_bookings",
        "is_active",
        "display_order",
    ]
    list_filter = ["is_active", "is_medical_provider", "takes_online_bookings", "is_published"]
    search_fields = ["name", "role"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [WorkingHoursInline, TimeOffInline]
    schedule_fields = ["is_medical_provider", "takes_online_bookings", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        if not request.user.has_perm(SCHEDULE_PERMISSION):
            return self.schedule_fields
        return []

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(formset.has_changed() for formset in formsets)):
            offers.note_schedule_changed(form.instance)


@admin.register(ConsultationType)
class ConsultationTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "treatment",
        "duration_minutes",
        "turnover_minutes",
        "grid_minutes",
        "needs_medical_provider",
        "bookable_online",
        "display_order",
        "care_texts_need_review",
    ]
    list_select_related = ["treatment"]
    list_filter = ["care_texts_need_review"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["practitioners"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "treatment",
                    "price_text",
                    "description",
                    "display_order",
                ]
            },
        ),
        (
            "Schedule",
            {
                "fields": [
                    "duration_minutes",
                    "turnover_minutes",
                    "grid_minutes",
                    "needs_medical_provider",
                    "practitioners",
                    "bookable_online",
                ]
            },
        ),
        (
            "Care messages",
            {
                "description": (
                    "Emailed to every client of this type: general advice written by the "
                    "clinic, never about one client's health. Before-care goes to confirmed "
                    "consultations (again if one moves to another day, never twice for one "
                    "day); aftercare once, when the consultation is marked completed."
                ),
                "fields": [
                    "before_care_text",
                    "before_care_days",
                    "aftercare_text",
                    "care_texts_need_review",
                ],
            },
        ),
    ]
    schedule_fields = [
        "duration_minutes",
        "turnover_minutes",
        "grid_minutes",
        "needs_medical_provider",
        "practitioners",
        "bookable_online",
    ]

    def get_readonly_fields(self, request, obj=None):
        if not request.user.has_perm(SCHEDULE_PERMISSION):
            return self.schedule_fields
        return []


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["__str__", "starts_on", "ends_on", "reason"]
    date_hierarchy = "starts_on"
    search_fields = ["reason"]

    # A closure removed or shortened gives its days back: the service offers
    # them to the waitlist (after the change commits).
    def save_model(self, request, obj, form, change):
        offers.save_closure(obj, changed_fields=form.changed_data if change else ())

    def delete_model(self, request, obj):
        offers.delete_closures([obj])

    def delete_queryset(self, request, queryset):
        offers.delete_closures(queryset)


@admin.register(BookingRules)
class BookingRulesAdmin(admin.ModelAdmin):
    list_display = ["__str__", "minimum_notice_hours", "horizon_days"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not BookingRules.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
