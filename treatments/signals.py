from django.apps import apps
from django.db.models.signals import m2m_changed, post_delete, post_save

from . import caching
from .models import ContentVersion


def content_changed(**kwargs):
    caching.content_changed()


def connect():
    # Any change to any content model can show on any page (the frame shows
    # shared blocks), so every change invalidates every cached page.
    # Bulk updates through QuerySet.update() send no signals: edit content
    # through the admin or model instances.
    for model in apps.get_app_config("treatments").get_models():
        if model is ContentVersion:
            continue  # The version itself, not content.
        uid = model.__name__
        post_save.connect(content_changed, sender=model, dispatch_uid=f"content-save-{uid}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"content-delete-{uid}")
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                content_changed,
                sender=field.remote_field.through,
                dispatch_uid=f"content-m2m-{uid}-{field.name}",
            )
