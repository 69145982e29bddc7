"""
Care texts approved by a clinical lead: a permission of its own, "can
approve care texts for sending", given to the Clinical leads. Without it
the "awaiting review" box is read-only, and a change to a type's before-care
or aftercare text ticks it again, so no wording a content editor wrote is
emailed to clients unreviewed. Texts already approved stay so.

To correct the texts they approve, the Clinical leads are given the right
to change consultation types (they could only view them). That reaches the
type's words too (name, description, price, display order), as it does for
content editors; the schedule and listing fields stay read-only to them.

Also: the outbox's kind of the email that confirms a "Delete my data"
request, and a help text that named an old module.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GRANTED = ["approve_care_texts", "change_consultationtype"]


def _granted(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="booking", codename__in=GRANTED)


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make
    # sure the new one exists now so the group can be given it.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    clinical_leads, _ = Group.objects.get_or_create(name="Clinical leads")
    clinical_leads.permissions.add(*_granted(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Clinical leads"):
        group.permissions.remove(*_granted(apps))


class Migration(migrations.Migration):
    dependencies = [("booking", "0029_working_hours_never_overlap")]

    operations = [
        migrations.AlterModelOptions(
            name="consultationtype",
            options={
                "ordering": ["display_order", "name"],
                "permissions": [("approve_care_texts", "Can approve care texts for sending")],
                "verbose_name": "consultation type",
            },
        ),
        migrations.AlterField(
            model_name="consultationtype",
            name="care_texts_need_review",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "While ticked, neither care text is sent. The site came with example texts: "
                    "have them checked by the clinic's practitioners, then untick. Only a "
                    "clinical lead may untick it; a change to the texts by anyone else ticks "
                    "it again."
                ),
                verbose_name="care texts are examples awaiting review",
            ),
        ),
        migrations.RunPython(grant, revoke),
        # "Delete my data" tells the address when it will be done (booking/services/my_visits.py).
        migrations.AlterField(
            model_name="outboundemail",
            name="kind",
            field=models.CharField(
                choices=[
                    ("receipt", "Receipt to client"),
                    ("clinic_alert", "New-booking alert to clinic"),
                    ("confirmation", "Confirmation to client"),
                    ("rescheduled", "New time to client"),
                    ("cancellation", "Cancellation to client"),
                    ("decline", "Decline to client"),
                    ("reminder", "Reminder to client"),
                    ("client_change", "Client's cancel or move, to clinic"),
                    ("before_care", "Before-care to client"),
                    ("aftercare", "Aftercare to client"),
                    ("waitlist_joined", "Waitlist: joined, to client"),
                    ("waitlist_offer", "Waitlist: a freed time offered, to client"),
                    ("erasure_requested", "Delete-my-data request received, to client"),
                ],
                max_length=20,
            ),
        ),
        # A help text that named the module where the snapshot used to live.
        migrations.AlterField(
            model_name="questionnaireversion",
            name="content",
            field=models.JSONField(
                editable=False,
                help_text=(
                    "The questions and rules as published "
                    "(booking/services/screening.py, snapshot())."
                ),
            ),
        ),
    ]
