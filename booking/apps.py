from contextlib import suppress

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def retire_cached_pages(**kwargs):
    """
    A migration can change what pages show (a data migration rewrites the
    privacy page, say) without the signals that raise the versions: raise
    both, so no page cached by the release before is served after it.
    """
    from treatments.caching import CONTENT

    from .cache_versions import AVAILABILITY, SCHEDULE

    for version in (CONTENT, AVAILABILITY, SCHEDULE):
        # Neither the cache nor the table there: nothing cached to retire.
        with suppress(Exception):
            version.changed()


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Consultation bookings"

    def ready(self):
        from . import signals, sqlite

        signals.connect()
        sqlite.connect(self)
        post_migrate.connect(retire_cached_pages, sender=self, dispatch_uid="retire-cached-pages")
