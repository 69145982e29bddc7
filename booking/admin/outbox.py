"""
The outbox in the admin: every email the clinic sent or will send.
"""

from django.contrib import admin, messages

from booking.models import (
    OutboundEmail,
)
from booking.services import emails


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "booking", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["booking"]
    search_fields = ["booking__reference"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "booking",
        "kind",
        "to",
        "subject",
        "body",
        "calendar",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "consultation_date",
        "created_at",
        "sent_at",
    ]
    actions = ["send_now"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send selected emails now", permissions=["change"])
    def send_now(self, request, queryset):
        selected = len(queryset)
        queued = emails.send_now(list(queryset.values_list("pk", flat=True)))
        # The task worker sends them; the list shows each one's state as it changes.
        self.message_user(
            request,
            f"{queued} of {selected} email(s) queued to send now "
            "(sent and superseded emails are not sent again).",
            messages.INFO,
        )
