"""
The clinic's schedule in the admin: practitioners with their hours and
time off, consultation types, closures and the booking rules. Changes that
free time reach the waitlist through booking/services/offers.py.
"""

from django.contrib import admin, messages
from django.db import DatabaseError
from django.http import HttpResponseRedirect
from django.utils import timezone

from booking.forms.schedule import WorkingHoursFormSet
from booking.models import (
    BookingRules,
    Closure,
    ConsultationType,
    Practitioner,
    TimeOff,
    WorkingHours,
)
from booking.overlap import refused_as_overlapping_hours
from booking.services import offers


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
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
# descriptions). Each sees the other's fields read-only. How a practitioner
# or type is listed and set up (web addresses, the team page, the treatment,
# when before-care goes) needs a permission of its own, which content
# editors lack: changing those breaks links clients hold.
SCHEDULE_PERMISSION = "booking.change_workinghours"
LISTING_PERMISSION = "booking.set_up_listings"
# Care texts are clinical advice: clinical leads approve them for sending.
CARE_TEXT_APPROVAL_PERMISSION = "booking.approve_care_texts"


class ReadOnlyByRoleMixin:
    """Fields read-only to staff without the permission that guards them.

    The admin ignores read-only fields in a POST, so a forged form cannot
    change them either.
    """

    schedule_fields = []
    listing_fields = []

    def get_readonly_fields(self, request, obj=None):
        readonly = [*super().get_readonly_fields(request, obj)]
        if not request.user.has_perm(SCHEDULE_PERMISSION):
            readonly += self.schedule_fields
        if not request.user.has_perm(LISTING_PERMISSION):
            readonly += self.listing_fields
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        # A read-only slug is not on the form, so nothing fills it in.
        readonly = self.get_readonly_fields(request, obj)
        return {
            field: sources
            for field, sources in super().get_prepopulated_fields(request, obj).items()
            if field not in readonly
        }


@admin.register(Practitioner)
class PractitionerAdmin(ReadOnlyByRoleMixin, admin.ModelAdmin):
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
    listing_fields = ["slug", "is_published"]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DatabaseError as error:
            if not refused_as_overlapping_hours(error):
                raise
        # Someone else saved a window overlapping these hours between this
        # page's checks and its save: the database refused it and nothing
        # was saved. The page shows the hours as they are now.
        self.message_user(
            request,
            "Nothing was saved: someone else has just saved working hours that overlap "
            "these. Check the hours below and save again.",
            messages.ERROR,
        )
        return HttpResponseRedirect(request.get_full_path())

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(formset.has_changed() for formset in formsets)):
            offers.note_schedule_changed(form.instance)


@admin.register(ConsultationType)
class ConsultationTypeAdmin(ReadOnlyByRoleMixin, admin.ModelAdmin):
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
    listing_fields = ["slug", "treatment", "before_care_days"]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if not request.user.has_perm(CARE_TEXT_APPROVAL_PERMISSION):
            readonly = [*readonly, "care_texts_need_review"]
        return readonly

    def save_model(self, request, obj, form, change):
        if obj.hold_care_texts_for_review(
            form.changed_data, may_approve=request.user.has_perm(CARE_TEXT_APPROVAL_PERMISSION)
        ):
            self.message_user(
                request,
                f"The care texts of “{obj}” are not emailed to anyone until a clinical lead "
                "has reviewed them and unticked “care texts are examples awaiting review”.",
                messages.WARNING,
            )
        super().save_model(request, obj, form, change)


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
