"""The environment the site's own processes get under the production settings."""

import os
import secrets


def production_environment(**values):
    """The environment for the site's processes under the production settings."""
    passed_on = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "BOOKING_", "TASK_"))
    }
    return passed_on | {
        "DJANGO_SETTINGS_MODULE": "clinic_site.settings.production",
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        # Plain HTTP on loopback; behind nginx, as deploy/ runs the app.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_PROXY_SSL_HEADER": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "BOOKING_MIN_FILL_SECONDS": "0",
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
        **values,
    }
