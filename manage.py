#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    # With no environment at all the site runs in local mode on a SQLite file;
    # DJANGO_ENV=production (or DJANGO_SETTINGS_MODULE) selects production.
    os.environ.setdefault(
        "DJANGO_SETTINGS_MODULE", f"clinic_site.settings.{os.environ.get('DJANGO_ENV', 'local')}"
    )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
