from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save

from .caching import bump_content_version


def connect():
    # Any change to any content model can show on any page (the frame shows
    # shared blocks), so every change invalidates every cached page.
    # Bulk updates through QuerySet.update() send no signals: edit content
    # through the admin or model instances.
    for model in apps.get_app_config("treatments").get_models():
        post_save.connect(
            bump_content_version, sender=model, dispatch_uid=f"content-save-{model.__name__}"
        )
        post_delete.connect(
            bump_content_version, sender=model, dispatch_uid=f"content-delete-{model.__name__}"
        )
    m2m_changed.connect(bump_content_version, dispatch_uid="content-m2m")
