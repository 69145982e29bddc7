"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault(
    "DJANGO_SETTINGS_MODULE", f"clinic_site.settings.{os.environ.get('DJANGO_ENV', 'production')}"
)

application = get_asgi_application()
