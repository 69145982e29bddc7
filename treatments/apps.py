from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "Treatment content"

    def ready(self):
        from . import signals

        signals.connect()
