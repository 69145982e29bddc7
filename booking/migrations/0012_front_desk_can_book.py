"""
The front desk books callers from the admin (the “Book a caller” page and the
day sheet's free times), which asks for the add permission on bookings. They
still cannot delete one: cancelling or declining keeps the record.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAME = "add_consultationbooking"


def _add_permission(apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(content_type__app_label="booking", codename=CODENAME)


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make
    # sure they exist now so the group can be given one.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    front_desk, _ = Group.objects.get_or_create(name="Front desk")
    front_desk.permissions.add(_add_permission(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Front desk"):
        group.permissions.remove(_add_permission(apps))


class Migration(migrations.Migration):
    dependencies = [("booking", "0011_front_desk")]

    operations = [migrations.RunPython(grant, revoke)]
