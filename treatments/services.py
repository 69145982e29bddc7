"""The content app's writes that do more than save a row."""

import logging
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from .photographs import Photograph
from .renditions import make_renditions, remove_original_and_renditions

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotographSaved:
    """
    What saving a photograph did: the photograph as saved, and the name of
    the original its new file replaced (None when the file stayed, or for a
    new photograph), which is removed from storage with its renditions once
    the save commits.
    """

    photograph: Photograph
    replaced: str | None = None


def save_photograph(*, photograph):
    """
    Save `photograph` (a new file, if the form gave it one, already cleaned
    by renditions.clean_original) and make its renditions now, so that no visitor's request ever makes one.
    A new file or a moved focal point makes the renditions it needs; those
    made before for the same file and focal point are reused as they are.
    The row records them in the same transaction, so a page never names a
    rendition the row does not list.

    A new file replaces the old one on storage too: the old original and
    every rendition of it are removed after the save commits (a rollback
    keeps them, as the row still names them). Returns a PhotographSaved.
    """
    with transaction.atomic():
        previous = None
        if photograph.pk is not None:
            # Locked until commit: of two replacements at once, the second
            # reads the first one's new file as the file it replaces (and
            # removes it), instead of both reading the same old one and
            # leaving the first one's new file behind with no row naming it.
            previous = (
                Photograph.objects.select_for_update()
                .filter(pk=photograph.pk)
                .values("image", "renditions")
                .first()
            )
        photograph.save()  # stores a new file under its own name first
        photograph.renditions = make_renditions(
            photograph.image.name,
            crop=photograph.crop,
            focal_x=photograph.focal_x,
            focal_y=photograph.focal_y,
            source_width=photograph.width,
        )
        photograph.save(update_fields=["renditions", "updated_at"])
        replaced = None
        if previous and previous["image"] != photograph.image.name:
            replaced = previous["image"]
            _remove_files_after_commit([(replaced, previous["renditions"])])
    return PhotographSaved(photograph, replaced=replaced)


def delete_photographs(*, photographs):
    """
    Delete photographs (the admin's delete, one or a selection) and, once
    the delete commits, their originals and renditions from storage. The
    pages that showed one show none in its place (their links are SET_NULL).
    Returns the names of their originals (each removed unless another row
    still names it).
    """
    originals = []
    with transaction.atomic():
        for photograph in photographs:
            originals.append((photograph.image.name, photograph.renditions))
            # One by one, as the admin deletes: each delete's signals run
            # (the page cache's among them).
            photograph.delete()
        _remove_files_after_commit(originals)
    return [name for name, _renditions in originals]


def _remove_files_after_commit(originals):
    """
    Once the transaction commits, remove each (original name, recorded
    renditions) from storage, unless a row still names that original: an
    upload always gets a name of its own (photograph_upload_to), but a row
    made in code or a shell can point at another's file, and renditions are
    named after their original, so they are shared as well. Robust: a
    failure is logged, never an error for the staff whose change is saved.
    """
    if originals:
        transaction.on_commit(partial(_remove_unreferenced_files, originals), robust=True)


def _remove_unreferenced_files(originals):
    names = [name for name, _renditions in originals]
    still_shown = set(Photograph.objects.filter(image__in=names).values_list("image", flat=True))
    for name, renditions in originals:
        if name in still_shown:
            logger.info("Kept %s and its renditions: another photograph still shows it", name)
            continue
        remove_original_and_renditions(name, recorded=renditions)
