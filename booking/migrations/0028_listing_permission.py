"""
Least privilege for the team and the consultation types (issue 20):
- A permission of its own, "can change how practitioners and consultation
  types are listed and set up", guards a practitioner's web address and
  whether they are on the team page, and a type's web address, treatment and
  before-care days. Content editors keep the words (bios, credentials, names,
  descriptions, prices) and see those fields read-only; the Front desk, who
  add practitioners and types and run the schedule, hold it.
- The Front desk's permissions on opening hours go: the model was replaced by
  each practitioner's working hours (0007), and a grant on a model that no
  longer exists is one nobody can review.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

LISTING = "set_up_listings"
OPENING_HOURS = [f"{action}_openinghours" for action in ("view", "add", "change", "delete")]


def _listing_permission(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(content_type__app_label="booking", codename=LISTING)


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make
    # sure the new one exists now so the group can be given it.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    front_desk, _ = Group.objects.get_or_create(name="Front desk")
    front_desk.permissions.add(_listing_permission(apps))
    front_desk.permissions.remove(
        *Permission.objects.filter(content_type__app_label="booking", codename__in=OPENING_HOURS)
    )


def revoke(apps, schema_editor):
    # The opening hours' permissions are not given back: their model is gone.
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Front desk"):
        group.permissions.remove(_listing_permission(apps))


class Migration(migrations.Migration):
    dependencies = [("booking", "0027_practitioner_portrait")]

    operations = [
        migrations.AlterModelOptions(
            name="practitioner",
            options={
                "ordering": ["display_order", "name"],
                "permissions": [
                    (
                        "set_up_listings",
                        "Can change how practitioners and consultation types are listed and set up",
                    )
                ],
                "verbose_name": "practitioner",
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
