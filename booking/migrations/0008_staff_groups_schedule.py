"""
The staff groups' share of the models that replaced the opening hours (see
0003_staff_groups): the front desk runs the schedule (practitioners, their
hours and time off, consultation types); content editors write what clients
read about them (bios, descriptions). booking/admin.py shows each group the
other's fields read-only. Neither may delete a practitioner or a type, which
bookings keep pointing at: staff deactivate them instead.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ["view", "add", "change", "delete"]
GRANTS = {
    "Front desk": {
        "practitioner": ["view", "add", "change"],
        "workinghours": ALL,
        "timeoff": ALL,
        "consultationtype": ["view", "add", "change"],
    },
    "Content editors": {
        "practitioner": ["view", "change"],
        "consultationtype": ["view", "change"],
    },
}


def _permissions(apps, grants):
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model, actions in grants.items() for action in actions]
    found = list(
        Permission.objects.filter(content_type__app_label="booking", codename__in=codenames)
    )
    assert len(found) == len(codenames), "missing permissions"
    return found


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations have run.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, grants in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*_permissions(apps, grants))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, grants in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, grants))


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0007_one_practitioner_one_time"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
