"""
The waitlist in the admin: the freed times, the entries and the offers made to them.
"""

from functools import partial

from django.contrib import admin, messages
from django.db.models import Count
from django.urls import path, reverse
from django.utils.html import format_html

from booking.models import (
    FreedTime,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services import waitlist
from booking.views.front_desk import offers as offer_views

from .common import clinic_time


@admin.register(FreedTime)
class FreedTimeAdmin(admin.ModelAdmin):
    """The waitlist's outbox, for looking into what was offered when: written by the site only."""

    list_display = ["practitioner", "starts_at", "ends_at", "reason", "created_at", "handled_at"]
    list_filter = ["practitioner"]
    list_select_related = ["practitioner"]
    date_hierarchy = "created_at"
    readonly_fields = list_display
    fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WaitlistOfferInline(admin.TabularInline):
    model = WaitlistOffer
    extra = 0
    can_delete = False
    fields = [
        "offered_time",
        "practitioner",
        "status",
        "expires_at",
        "booking",
        "offered_by",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("practitioner", "booking", "offered_by")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Time offered")
    def offered_time(self, offer):
        return clinic_time(offer.starts_at)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = [
        "full_name",
        "consultation_type",
        "practitioner_or_any",
        "earliest_day",
        "latest_day",
        "status",
        "offers_made",
        "created_at",
    ]
    list_filter = ["status", "consultation_type", "practitioner"]
    list_select_related = ["consultation_type", "practitioner"]
    search_fields = ["full_name", "email", "phone"]
    date_hierarchy = "earliest_day"
    show_facets = admin.ShowFacets.NEVER
    # What the client submitted, and what the waitlist recorded: staff read it.
    readonly_fields = [
        "consultation_type",
        "practitioner",
        "preferences",
        "earliest_day",
        "latest_day",
        "full_name",
        "email",
        "phone",
        "status",
        "booking",
        "consent_given_at",
        "privacy_policy_version",
        "created_at",
        "left_at",
        "offer_by_hand",
    ]
    fields = readonly_fields
    inlines = [WaitlistOfferInline]
    actions = ["take_off_the_list"]

    def has_add_permission(self, request):
        return False  # Clients join from the site, with their consent.

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offer_count=Count("offers"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/offer/",
                self.admin_site.admin_view(partial(offer_views.offer_by_hand_view, self)),
                name="booking_waitlist_offer_by_hand",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="with", ordering="practitioner__name")
    def practitioner_or_any(self, entry):
        return entry.practitioner or "Any practitioner"

    @admin.display(description="offers", ordering="offer_count")
    def offers_made(self, entry):
        return entry.offer_count

    @admin.display(description="days and times that suit")
    def preferences(self, entry):
        return entry.preferences_display

    @admin.display(description="offer a time")
    def offer_by_hand(self, entry):
        if entry.status != WaitlistEntry.Status.WAITING:
            return "Only to someone waiting."
        return format_html(
            '<a href="{}">Offer them a free time by hand</a>',
            reverse("admin:booking_waitlist_offer_by_hand", args=[entry.pk]),
        )

    @admin.action(description="Take selected people off the waitlist", permissions=["change"])
    def take_off_the_list(self, request, queryset):
        left = sum(waitlist.leave_waitlist(entry) for entry in queryset)
        self.message_user(request, f"{left} taken off the waitlist.", messages.SUCCESS)


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(admin.ModelAdmin):
    list_display = [
        "entry",
        "offered_time",
        "practitioner",
        "status",
        "expires_at",
        "booking",
        "created_at",
    ]
    list_filter = ["status", "entry__consultation_type", "practitioner"]
    list_select_related = ["entry__consultation_type", "practitioner", "booking"]
    search_fields = ["entry__full_name", "entry__email", "booking__reference"]
    date_hierarchy = "starts_at"
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = [
        "entry",
        "offered_time",
        "practitioner",
        "status",
        "expires_at",
        "booking",
        "offered_by",
        "created_at",
        "answered_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    @admin.display(description="time offered", ordering="starts_at")
    def offered_time(self, offer):
        return clinic_time(offer.starts_at)
