"""
WSGI entry point for gunicorn and other WSGI servers. Servers run production
settings unless DJANGO_ENV (or DJANGO_SETTINGS_MODULE) says otherwise.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault(
    "DJANGO_SETTINGS_MODULE", f"clinic_site.settings.{os.environ.get('DJANGO_ENV', 'production')}"
)

application = get_wsgi_application()
