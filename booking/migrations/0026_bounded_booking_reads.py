"""
Indexes that keep what a booking reads bounded however long the history grows:
the per-contact limit, and the busy times of bookings and time off ahead.
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0024_health_form_reads"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="consultationbooking",
            index=models.Index(
                django.db.models.functions.text.Upper("email"),
                models.F("starts_at"),
                condition=models.Q(("status", "requested")),
                name="booking_requested_email_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="consultationbooking",
            index=models.Index(
                condition=models.Q(("status", "requested")),
                fields=["phone", "starts_at"],
                name="booking_requested_phone_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="timeoff",
            index=models.Index(fields=["practitioner", "ends_at"], name="time_off_until_idx"),
        ),
    ]
