from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Consultation bookings"

    def ready(self):
        from . import signals, sqlite

        signals.connect()
        sqlite.connect(self)
