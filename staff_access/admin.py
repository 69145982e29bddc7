"""
Superusers see who has set up two-factor sign-in and reset it for a
colleague who lost their phone. django-otp's own device admin (which would
show the secret keys, and let anyone with its permissions add a device for
someone else) is replaced by this one.
"""

from django.contrib import admin, messages
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .models import AuthenticatorApp


class SuperusersOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Only through the reset action, which records it.
        return False


if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(AuthenticatorApp)
class AuthenticatorAppAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ["user", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields
    actions = ["reset_two_factor_sign_in"]

    @admin.action(
        description="Reset two-factor sign-in of the selected staff (they set it up again)"
    )
    def reset_two_factor_sign_in(self, request, queryset):
        reset = 0
        for device in queryset.select_related("user"):
            reset += services.reset_second_factor(user=device.user, reset_by=request.user)
        self.message_user(
            request,
            f"Two-factor sign-in reset for {reset} staff member(s): each sets up an "
            "authenticator app again at their next sign-in.",
            messages.SUCCESS,
        )
