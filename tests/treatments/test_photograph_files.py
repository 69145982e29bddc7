"""
A photograph's files on storage follow its row: a new file over a
photograph, or its delete, removes the old original and every rendition of
it once the change commits, never before, never one another row still
shows, and a storage that fails to delete never fails the change.
"""

import logging

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.urls import reverse
from easy_thumbnails.models import Source, Thumbnail

from tests.support.html import parse_html
from tests.support.photographs import add_photograph, jpeg_bytes, upload
from treatments.models import Photograph, Treatment
from treatments.renditions import clean_original
from treatments.services import save_photograph

pytestmark = pytest.mark.django_db


def stored(media):
    return {str(path.relative_to(media)) for path in media.rglob("*") if path.is_file()}


def files_of(photograph):
    return {photograph.image.name} | {r["name"] for r in photograph.renditions}


def change_url(photograph):
    return reverse("admin:treatments_photograph_change", args=[photograph.pk])


def change(client, photograph, **fields):
    data = {
        "title": photograph.title,
        "crop": photograph.crop,
        "alt_text": photograph.alt_text,
        "focal_x": photograph.focal_x,
        "focal_y": photograph.focal_y,
    } | fields
    return client.post(change_url(photograph), data)


@pytest.fixture
def photograph_a(staff_client, media, django_capture_on_commit_callbacks):
    """
    Photograph A, added through the admin and saved again with another
    focal point: renditions of both focal points are on storage, only the
    second's on its row.
    """
    with django_capture_on_commit_callbacks(execute=True):
        assert add_photograph(staff_client, upload(jpeg_bytes(1300, 900))).status_code == 302
        photograph = Photograph.objects.get(title="Treatment room")
        assert change(staff_client, photograph, focal_x=20).status_code == 302
    photograph.refresh_from_db()
    assert len(stored(media)) == 1 + 2 * len(photograph.renditions)
    return photograph


def test_a_new_file_removes_the_old_original_and_all_its_renditions_once_saved(
    staff_client, client, media, photograph_a, django_capture_on_commit_callbacks
):
    a_files = stored(media)
    Treatment.objects.filter(slug="medical-grade-facial").update(photograph=photograph_a)

    with django_capture_on_commit_callbacks() as after_commit:
        response = change(
            staff_client, photograph_a, image=upload(jpeg_bytes(1400, 1000, colour=(20, 90, 60)))
        )
        assert response.status_code == 302
        assert a_files <= stored(media), "nothing is removed before the change commits"
    for callback in after_commit:
        callback()

    photograph_b = Photograph.objects.get(pk=photograph_a.pk)
    assert photograph_b.image.name != photograph_a.image.name
    assert stored(media) == files_of(photograph_b)
    assert not a_files & stored(media)
    # easy-thumbnails' records of A go with its files.
    assert not Source.objects.filter(name=photograph_a.image.name).exists()
    assert Thumbnail.objects.filter(source__name=photograph_b.image.name).count() == len(
        photograph_b.renditions
    )
    # The page shows B, and its every picture is on storage.
    picture = parse_html(client.get("/treatments/medical-grade-facial/").content).find("picture")
    shown = {
        candidate.split()[0].removeprefix("/media/")
        for element in [*picture.find_all("source"), picture.find("img")]
        for candidate in element.get("srcset").split(",")
    }
    assert shown == {r["name"] for r in photograph_b.renditions}


@pytest.mark.parametrize("how", ["delete page", "delete selected action"])
def test_deleting_a_photograph_removes_its_original_and_all_its_renditions(
    staff_client, media, photograph_a, how, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        if how == "delete page":
            response = staff_client.post(
                reverse("admin:treatments_photograph_delete", args=[photograph_a.pk]),
                {"post": "yes"},
            )
        else:
            response = staff_client.post(
                reverse("admin:treatments_photograph_changelist"),
                {"action": "delete_selected", "_selected_action": [photograph_a.pk], "post": "yes"},
            )

    assert response.status_code == 302
    assert not Photograph.objects.filter(pk=photograph_a.pk).exists()
    assert stored(media) == set()
    assert not Source.objects.filter(name=photograph_a.image.name).exists()


def test_a_rolled_back_change_keeps_the_old_files(
    media, photograph_a, django_capture_on_commit_callbacks
):
    a_files = stored(media)
    photograph = Photograph.objects.get(pk=photograph_a.pk)
    photograph.image = clean_original(upload(jpeg_bytes(1400, 1000, colour=(20, 90, 60))))

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        saved = save_photograph(photograph=photograph)
        assert saved.replaced == photograph_a.image.name
        raise RuntimeError("something later in the same transaction failed")

    photograph.refresh_from_db()
    assert photograph.image.name == photograph_a.image.name
    assert a_files <= stored(media)


def test_a_file_another_photograph_still_shows_is_kept_until_none_does(
    staff_client, media, photograph_a, django_capture_on_commit_callbacks
):
    # Uploads never share a name, but a row made in code can name another's file.
    sharing = Photograph.objects.create(
        title="The same file",
        image=photograph_a.image.name,
        width=photograph_a.width,
        height=photograph_a.height,
        alt_text="A treatment room by a bright window.",
        renditions=photograph_a.renditions,
    )
    a_files = stored(media)

    with django_capture_on_commit_callbacks(execute=True):
        change(staff_client, photograph_a, image=upload(jpeg_bytes(1400, 1000)))
    assert a_files <= stored(media), "the other photograph still shows them"

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:treatments_photograph_delete", args=[sharing.pk]), {"post": "yes"}
        )
    assert not a_files & stored(media)


@pytest.mark.django_db(transaction=True)
def test_a_storage_failing_to_delete_is_logged_and_the_new_file_still_saved(
    staff_client, media, caplog, monkeypatch
):
    # Committed for real: the removal runs inside the admin's request, as in production.
    assert add_photograph(staff_client, upload(jpeg_bytes(1300, 900))).status_code == 302
    photograph_a = Photograph.objects.get(title="Treatment room")
    a_files = stored(media)

    def fail(storage, name):
        raise OSError(f"the storage is unavailable: {name}")

    monkeypatch.setattr(FileSystemStorage, "delete", fail)
    with caplog.at_level(logging.ERROR, logger="treatments"):
        response = change(staff_client, photograph_a, image=upload(jpeg_bytes(1400, 1000)))

    assert response.status_code == 302
    photograph_b = Photograph.objects.get(pk=photograph_a.pk)
    assert photograph_b.image.name != photograph_a.image.name
    assert files_of(photograph_b) <= stored(media)
    assert a_files <= stored(media), "what could not be removed is still there"
    logged = [r.getMessage() for r in caplog.records if r.name == "treatments.renditions"]
    assert sorted(logged) == sorted(
        f"Could not remove {name} from storage; remove it by hand" for name in a_files
    )
