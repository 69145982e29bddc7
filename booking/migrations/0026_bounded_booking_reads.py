"""
Indexes that keep what a booking reads bounded however long the history grows
(the per-contact limit, time off ahead, the day sheet's new-client flag), and what an email says stored with it,
for the task worker to write it (booking/services/email_content.py).
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0025_my_visits"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundemail",
            name="context",
            field=models.JSONField(
                blank=True,
                default=dict,
                editable=False,
                help_text="What the booking looked like when the email was written: the task worker writes the subject, text and calendar file from it when it sends the email.",
                verbose_name="what the email says",
            ),
        ),
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
            model_name="consultationbooking",
            index=models.Index(fields=["email", "starts_at"], name="booking_email_time_idx"),
        ),
        migrations.AddIndex(
            model_name="timeoff",
            index=models.Index(fields=["practitioner", "ends_at"], name="time_off_until_idx"),
        ),
    ]
