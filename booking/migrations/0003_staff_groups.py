"""
The two staff roles, with least privilege:

- Front desk runs bookings and availability. It cannot delete a booking
  (cancel or decline it instead, which keeps the record) and cannot edit
  the site's content.
- Content editors edit treatment content and FAQs, and see no bookings.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FRONT_DESK = {
    "consultationbooking": ["view", "change"],
    "bookingstatuschange": ["view"],
    "outboundemail": ["view", "change"],
    "openinghours": ["view", "add", "change", "delete"],
    "closure": ["view", "add", "change", "delete"],
    "bookingrules": ["view", "change"],
}
CONTENT_MODELS = [
    "treatment",
    "treatmentpoint",
    "comparisonaspect",
    "comparisonvalue",
    "decisionfactor",
    "skinconcern",
    "skinsensitivity",
    "skingoal",
    "faq",
    "sitepage",
    "contentblock",
]
ALL = ["view", "add", "change", "delete"]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations have run; make
    # sure they exist now so the groups can be given them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(app_label, grants):
        codenames = [f"{action}_{model}" for model, actions in grants.items() for action in actions]
        found = list(
            Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
        assert len(found) == len(codenames), "missing permissions"
        return found

    front_desk, _ = Group.objects.get_or_create(name="Front desk")
    front_desk.permissions.set(permissions("booking", FRONT_DESK))
    editors, _ = Group.objects.get_or_create(name="Content editors")
    editors.permissions.set(permissions("treatments", dict.fromkeys(CONTENT_MODELS, ALL)))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Front desk", "Content editors"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0002_default_hours"),
        ("treatments", "0002_seed_article"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
