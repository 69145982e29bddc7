from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class StaffAccessConfig(AppConfig):
    name = "staff_access"
    verbose_name = "Staff sign-in"

    def ready(self):
        from . import lockout, sessions

        user_logged_in.connect(sessions.start_staff_session, dispatch_uid="start-staff-session")
        user_logged_in.connect(
            lockout.clear_failures_when_signed_in, dispatch_uid="clear-sign-in-failures"
        )
