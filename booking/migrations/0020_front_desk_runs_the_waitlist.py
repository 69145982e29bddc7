"""
The front desk runs the waitlist: they see who waits and the offers made,
take people off the list and offer a time by hand (the change permission
on entries). Nobody adds entries in the admin (clients join with their
consent) and offers and freed times are written by the site only.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    "view_waitlistentry",
    "change_waitlistentry",
    "view_waitlistoffer",
    "view_freedtime",
]


def _permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="booking", codename__in=CODENAMES)


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make
    # sure they exist now so the group can be given them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    front_desk, _ = Group.objects.get_or_create(name="Front desk")
    front_desk.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Front desk"):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [("booking", "0019_waitlist")]

    operations = [migrations.RunPython(grant, revoke)]
