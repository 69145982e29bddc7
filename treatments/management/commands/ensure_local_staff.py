from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "admin"


class Command(BaseCommand):
    help = "Local mode only: create a staff account for the admin if none exists, and say how to sign in."

    def handle(self, *args, **options):
        # A known password is only acceptable on a laptop serving 127.0.0.1.
        if not getattr(settings, "LOCAL_MODE", False):
            raise CommandError("ensure_local_staff only runs with the local settings.")
        User = get_user_model()
        if not User.objects.filter(username=USERNAME).exists():
            User.objects.create_superuser(USERNAME, email="", password=PASSWORD)
            self.stdout.write(f"Created the local staff account “{USERNAME}”.")
        admin_url = f"{settings.SITE_URL}/{settings.ADMIN_URL}"
        self.stdout.write(
            self.style.SUCCESS(
                f"Staff admin: {admin_url} — sign in as {USERNAME} / {PASSWORD} (local mode only); "
                "the first sign-in sets up two-factor sign-in with an authenticator app."
            )
        )
