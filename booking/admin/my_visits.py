"""
"My visits" in the admin: clients' requests to delete their data, which
staff carry out here, and the marketing choices clients made.
"""

from django.contrib import admin, messages

from booking.models import ErasureRequest, MarketingChoice
from booking.services import my_visits


@admin.register(ErasureRequest)
class ErasureRequestAdmin(admin.ModelAdmin):
    """Written by clients from their page; staff carry a request out with the action."""

    list_display = ["__str__", "email", "status", "requested_at", "due_by", "done_at", "done_by"]
    list_filter = ["status"]
    list_select_related = ["done_by"]
    search_fields = ["email"]
    readonly_fields = ["email", "status", "requested_at", "due_by", "done_at", "done_by", "outcome"]
    fields = readonly_fields
    actions = ["carry_out"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Carry out: cancel what is ahead and anonymise (keeping medical records)",
        permissions=["change"],
    )
    def carry_out(self, request, queryset):
        done = 0
        for erasure_request in queryset.filter(status=ErasureRequest.Status.WAITING):
            my_visits.carry_out_erasure(erasure_request=erasure_request, by=request.user)
            done += 1
        self.message_user(
            request, f"{done} erasure request(s) carried out.", level=messages.SUCCESS
        )


@admin.register(MarketingChoice)
class MarketingChoiceAdmin(admin.ModelAdmin):
    list_display = ["email", "marketing_emails", "source", "made_at"]
    list_filter = ["marketing_emails", "source"]
    search_fields = ["email"]
    readonly_fields = list_display
    fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
