"""A fresh clinic takes bookings straight away: weekdays 9:00–17:00, one at a time."""

from datetime import time

from django.db import migrations


def create_defaults(apps, schema_editor):
    BookingRules = apps.get_model("booking", "BookingRules")
    OpeningHours = apps.get_model("booking", "OpeningHours")
    BookingRules.objects.get_or_create(pk=1)
    if not OpeningHours.objects.exists():
        OpeningHours.objects.bulk_create(
            OpeningHours(weekday=weekday, starts_at=time(9), ends_at=time(17))
            for weekday in range(5)
        )


def remove_defaults(apps, schema_editor):
    apps.get_model("booking", "OpeningHours").objects.all().delete()
    apps.get_model("booking", "BookingRules").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
