"""
Who read which health form: HealthFormRead, one row per display of a
booking's health answers to staff, kept as written.

- On PostgreSQL a trigger refuses every UPDATE and DELETE on the table
  (SQLSTATE 23001, restrict_violation: Django raises IntegrityError). SQLite
  gets the same refusal from booking/sqlite.py after every migrate, since
  SQLite drops a table's triggers when Django rebuilds it.
- Clinical leads may view the records (superusers see everything); no group
  has, and no permission exists, to add, change or delete one.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

TABLE = "booking_healthformread"
REFUSE = f"""
CREATE FUNCTION {TABLE}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'health_form_reads_are_kept: % on {TABLE} is refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER {TABLE}_no_update_or_delete
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse_change();
"""
ALLOW = f"""
DROP TRIGGER IF EXISTS {TABLE}_no_update_or_delete ON {TABLE};
DROP FUNCTION IF EXISTS {TABLE}_refuse_change();
"""


def refuse_update_and_delete(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE, params=None)


def allow_update_and_delete(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW, params=None)


def clinical_leads_see_the_reads(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="booking", codename="view_healthformread")
    group, _ = Group.objects.get_or_create(name="Clinical leads")
    group.permissions.add(view)


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0023_queued_tasks_follow_the_move"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HealthFormRead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "booking_reference",
                    models.CharField(
                        help_text="The booking's reference, kept should the booking be deleted.",
                        max_length=12,
                        verbose_name="booking reference",
                    ),
                ),
                (
                    "reader_username",
                    models.CharField(
                        help_text="The account's username when it read the form, kept should the account go.",
                        max_length=150,
                        verbose_name="staff member",
                    ),
                ),
                (
                    "read_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="read at"
                    ),
                ),
                (
                    "page",
                    models.CharField(
                        choices=[("booking_page", "The booking's page in the admin")], max_length=20
                    ),
                ),
                (
                    "booking",
                    models.ForeignKey(
                        db_constraint=False,
                        help_text="The booking whose health answers were shown (it may since have been deleted).",
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="health_form_reads",
                        to="booking.consultationbooking",
                    ),
                ),
                (
                    "reader",
                    models.ForeignKey(
                        db_constraint=False,
                        help_text="The staff account the answers were shown to (it may since have been deleted).",
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "health form read",
                "verbose_name_plural": "health form reads",
                "ordering": ["-read_at", "-pk"],
                "default_permissions": ("view",),
                "indexes": [
                    models.Index(fields=["booking_reference"], name="health_form_read_reference"),
                    models.Index(fields=["reader", "read_at"], name="health_form_read_reader"),
                ],
            },
        ),
        migrations.RunPython(refuse_update_and_delete, allow_update_and_delete),
        migrations.RunPython(clinical_leads_see_the_reads, migrations.RunPython.noop),
    ]
