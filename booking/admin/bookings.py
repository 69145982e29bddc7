"""
The bookings in the admin: the list with its filters and workflow actions,
the CSV export, and the front desk's pages, which hang off the bookings'
admin URLs (booking/views/front_desk/).
"""

import csv
from datetime import datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from phonenumber_field.phonenumber import to_python

from booking import services
from booking.models import (
    BookingStatusChange,
    ConsultationBooking,
    OutboundEmail,
)
from booking.views.front_desk import book_and_move, day_sheet, reports
from booking.views.front_desk.reports import csv_safe

from .common import clinic_time
from .screening import HealthAnswersMixin, HealthFormFilter, HealthFormReadInline

Status = ConsultationBooking.Status


class ConsultationPeriodFilter(admin.DateFieldListFilter):
    """
    Consultations by period, in clinic time. It stands in for a date
    hierarchy, whose links come from the first and last booking listed: after
    a search, finding the first match read through every old, anonymised
    booking, so the page grew with the table (README, "Benchmarks"). The day
    sheet, linked above the list, goes day by day.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        today = timezone.localdate()
        this_month = today.replace(day=1)
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        next_month = (this_month + timedelta(days=31)).replace(day=1)
        this_year = today.replace(month=1, day=1)

        def period(first_day, day_after):
            # Midnight in clinic time on each day, whatever the offset that
            # day (adding days to an aware datetime keeps the first one's).
            return {
                self.lookup_kwarg_since: _clinic_midnight(first_day),
                self.lookup_kwarg_until: _clinic_midnight(day_after),
            }

        self.links = (
            ("Any date", {}),
            ("Next 7 days", period(today, today + timedelta(days=7))),
            ("Past 7 days", period(today - timedelta(days=7), today)),
            ("This month", period(this_month, next_month)),
            ("Last month", period(last_month, this_month)),
            ("This year", period(this_year, this_year.replace(year=this_year.year + 1))),
            ("Last year", period(this_year.replace(year=this_year.year - 1), this_year)),
        )


def _clinic_midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class BookingDayFilter(admin.SimpleListFilter):
    title = "day"
    parameter_name = "day"

    def lookups(self, request, model_admin):
        return [
            ("today", "Today"),
            ("upcoming", "Upcoming"),
            ("needs_action", "Needs action (requested)"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "today":
            today = timezone.localdate()
            return queryset.filter(starts_at__date=today)
        if self.value() == "upcoming":
            return queryset.upcoming(now).active()
        if self.value() == "needs_action":
            return queryset.needs_action()
        return queryset


class StatusChangeInline(admin.TabularInline):
    model = BookingStatusChange
    fields = ["changed_at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


class EmailInline(admin.TabularInline):
    model = OutboundEmail
    fields = [
        "created_at",
        "kind",
        "consultation_date",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


def _transition_action(to_status, description):
    """An admin action moving the selected bookings to `to_status` through the service."""

    @admin.action(description=description, permissions=["change"])
    def action(modeladmin, request, queryset):
        done, skipped = 0, []
        for booking in queryset:
            try:
                services.change_status(
                    booking, to_status, seen_status=booking.status, by=request.user
                )
                done += 1
            except (services.TransitionNotAllowed, services.StaleBooking) as refusal:
                skipped.append(f"{booking.reference} ({refusal})")
        if done:
            modeladmin.message_user(
                request, f"{done} booking(s) now {to_status.label.lower()}.", messages.SUCCESS
            )
        if skipped:
            modeladmin.message_user(
                request,
                f"Not changed: {'; '.join(skipped)}",
                messages.WARNING,
            )

    action.__name__ = f"mark_{to_status.value}"
    return action


@admin.register(ConsultationBooking)
class ConsultationBookingAdmin(HealthAnswersMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "full_name",
        "consultation_type",
        "practitioner",
        "clinic_time",
        "status",
        "confirmed_coming",
        "health_form",
        "created_at",
    ]
    list_filter = [
        "status",
        BookingDayFilter,
        ("starts_at", ConsultationPeriodFilter),
        "practitioner",
        "consultation_type",
        "treatment",
        HealthFormFilter,
    ]
    list_select_related = ["consultation_type", "practitioner"]
    search_fields = ["=reference", "full_name", "email", "phone"]
    # Newest first, as the model orders them: a search finds its page among
    # recent bookings instead of reading past years of anonymised ones.
    ordering = ["-starts_at"]
    list_per_page = 50
    show_facets = admin.ShowFacets.NEVER
    # Counting every booking again for "N total" beside a filtered count
    # costs a full count on each page; "Show all" links there instead.
    show_full_result_count = False
    actions = [
        _transition_action(Status.CONFIRMED, "Confirm selected bookings (emails the client)"),
        _transition_action(Status.DECLINED, "Decline selected bookings (emails the client)"),
        _transition_action(Status.CANCELLED, "Cancel selected bookings (emails the client)"),
        _transition_action(Status.ARRIVED, "Check in selected bookings (client has arrived)"),
        _transition_action(Status.COMPLETED, "Mark selected bookings completed"),
        _transition_action(Status.NO_SHOW, "Mark selected bookings as no-show"),
        "export_csv",
    ]
    readonly_fields = [
        "reference",
        "status",
        "consultation_type",
        "practitioner",
        "consultation_starts",
        "consultation_ends",
        "blocks_until",
        "consent_given_at",
        "privacy_policy_version",
        "marketing_opt_in",
        "created_at",
        "updated_at",
        "reminder_sent_at",
        "attendance_confirmed_at",
        "consent_taken_by",
        "anonymised_at",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "status",
                    "consultation_type",
                    "practitioner",
                    "consultation_starts",
                    "consultation_ends",
                    "blocks_until",
                    "treatment",
                    "concerns",
                ]
            },
        ),
        ("Client", {"fields": ["full_name", "email", "phone", "preferred_contact", "message"]}),
        ("Staff", {"fields": ["internal_notes"]}),
        (
            "Consent and record",
            {
                "fields": [
                    "consent_given_at",
                    "privacy_policy_version",
                    "marketing_opt_in",
                    "created_at",
                    "updated_at",
                    "reminder_sent_at",
                    "attendance_confirmed_at",
                    "consent_taken_by",
                    "anonymised_at",
                ]
            },
        ),
    ]
    filter_horizontal = ["concerns"]
    inlines = [StatusChangeInline, EmailInline, HealthFormReadInline]

    def get_search_results(self, request, queryset, search_term):
        # Phones are stored as +12125550147; staff type them as they hear
        # them, so a search that reads as a phone number also matches that.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = to_python(search_term, region=settings.PHONENUMBER_DEFAULT_REGION)
        if phone and phone.is_valid():
            results |= queryset.filter(phone=phone.as_e164)
        return results, may_have_duplicates

    @admin.display(description="confirmed coming", boolean=True)
    def confirmed_coming(self, booking):
        return booking.attendance_confirmed_at is not None

    @admin.display(description="consultation (clinic time)", ordering="starts_at")
    def clinic_time(self, booking):
        return clinic_time(booking.starts_at)

    # The stored times with their zone: the admin's own display of a
    # datetime has none, and 1:30 AM happens twice the night clocks go back.
    @admin.display(description="consultation time (clinic time)")
    def consultation_starts(self, booking):
        return clinic_time(booking.starts_at)

    @admin.display(description="ends (clinic time)")
    def consultation_ends(self, booking):
        return clinic_time(booking.ends_at)

    def get_readonly_fields(self, request, obj=None):
        # Once anonymised, a booking is a record of what happened: nothing to edit.
        if obj is not None and obj.anonymised_at:
            return [
                *super().get_readonly_fields(request, obj),
                *(field.name for field in obj._meta.fields),
                "concerns",
            ]
        return super().get_readonly_fields(request, obj)

    def get_urls(self):
        # The front desk's pages beyond the list: the day sheet, booking a
        # caller, moving a booking and the report. Each is a thin view over
        # the same services and constraints as the public site.
        def view(function):
            return self.admin_site.admin_view(partial(function, self))

        return [
            path("day/", view(day_sheet.day_sheet_view), name="booking_day_sheet"),
            path("day/act/", view(day_sheet.act_view), name="booking_day_sheet_act"),
            path("book-caller/", view(book_and_move.book_caller_view), name="booking_book_caller"),
            path("<path:object_id>/move/", view(book_and_move.move_view), name="booking_move"),
            path("report/", view(reports.report_view), name="booking_report"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The booking page's "Move" link, for a booking that can still move.
        context["can_move"] = (
            obj is not None
            and book_and_move.can_move(obj)
            and self.has_change_permission(request, obj)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # A delete frees the time for the waitlist, as a cancellation does. Only
    # staff given the delete permission can (superusers; no group has it).
    def delete_model(self, request, obj):
        services.delete_bookings([obj])

    def delete_queryset(self, request, queryset):
        services.delete_bookings(queryset.select_related("practitioner"))

    def add_view(self, request, form_url="", extra_context=None):
        # Staff book callers through the same service as the public form
        # (availability, the no-overlap rule, the outbox), on its own page.
        return redirect("admin:booking_book_caller")

    @admin.action(description="Export selected bookings as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="consultation-bookings.csv"'
        writer = FormulaSafeWriter(response)
        writer.writerow(
            [
                "reference",
                "status",
                "consultation (clinic time)",
                "consultation type",
                "practitioner",
                "treatment",
                "full name",
                "email",
                "phone",
                "preferred contact",
                "marketing opt-in",
                "created",
            ]
        )
        for booking in queryset.select_related(
            "treatment", "consultation_type", "practitioner"
        ).order_by("starts_at"):
            writer.writerow(
                [
                    booking.reference,
                    booking.get_status_display(),
                    f"{timezone.localtime(booking.starts_at):%Y-%m-%d %H:%M %Z}",
                    booking.consultation_type,
                    booking.practitioner,
                    booking.treatment_label,
                    booking.full_name,
                    booking.email,
                    booking.phone,
                    booking.get_preferred_contact_display(),
                    "yes" if booking.marketing_opt_in else "no",
                    f"{timezone.localtime(booking.created_at):%Y-%m-%d %H:%M}",
                ]
            )
        return response


class FormulaSafeWriter:
    """
    A csv writer that guards every cell, not just the ones a client typed:
    content staff edit (a treatment's name) and anything added to the export
    later reach the spreadsheet the same way.
    """

    def __init__(self, stream):
        self._writer = csv.writer(stream)

    def writerow(self, row):
        self._writer.writerow([csv_safe(cell) for cell in row])
