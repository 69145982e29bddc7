"""The content app's writes that do more than save a row."""

from django.db import transaction

from .renditions import make_renditions


def save_photograph(photograph):
    """
    Save `photograph` (a new file, if the form gave it one, already cleaned
    by renditions.clean_original) and make its renditions now, so that no visitor's request ever makes one.
    A new file or a moved focal point makes the renditions it needs; those
    made before for the same file and focal point are reused as they are.
    The row records them in the same transaction, so a page never names a
    rendition the row does not list.
    """
    with transaction.atomic():
        photograph.save()  # stores a new file under its own name first
        photograph.renditions = make_renditions(
            photograph.image.name,
            crop=photograph.crop,
            focal_x=photograph.focal_x,
            focal_y=photograph.focal_y,
            source_width=photograph.width,
        )
        photograph.save(update_fields=["renditions", "updated_at"])
    return photograph
