"""
Photographs as content: what the admin's upload refuses and why, what it
strips, the renditions made once when a photograph is saved, and the pages
showing them with srcset, sizes, width and height.
"""

from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from easy_thumbnails.models import Thumbnail
from PIL import Image

from tests.support.html import parse_html
from tests.support.photographs import (
    GPS_IFD,
    SVG,
    add_photograph,
    halves_jpeg,
    jpeg_bytes,
    png_declaring,
    upload,
)
from treatments.models import Photograph, SitePage, Treatment
from treatments.photographs import SHAPES

pytestmark = pytest.mark.django_db


def image_error(response):
    document = parse_html(response.content)
    assert response.status_code == 200, "the form is shown again with the reason"
    errors = document.find("div", class_="field-image")
    return errors.text if errors else ""


# What the upload refuses, each with a message staff can act on.


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (
            upload(b"Just some notes, not a photograph.", "notes.jpg"),
            "This file is not a photograph we can read",
        ),
        (upload(SVG, "logo.svg", "image/svg+xml"), "SVG drawings are not accepted"),
        (upload(SVG, "disguised.jpg"), "SVG drawings are not accepted"),
        (upload(png_declaring(30_000, 30_000), "huge.png", "image/png"), "at most 40 megapixels"),
        (
            upload(png_declaring(9_000, 9_000), "bomb.png", "image/png"),
            "(9,000 × 9,000 pixels): a photograph can be at most 40 megapixels",
        ),
    ],
    ids=["not-an-image", "svg", "svg-named-jpg", "decompression-bomb", "too-many-pixels"],
)
def test_upload_refuses_what_is_not_a_photograph_with_a_clear_message(
    staff_client, media, file, message
):
    before = Photograph.objects.count()

    response = add_photograph(staff_client, file)

    assert message in image_error(response)
    assert Photograph.objects.count() == before
    assert not any(media.rglob("*")), "nothing refused is stored"


def test_upload_refuses_a_30_mb_file_before_reading_it(staff_client, media):
    thirty_mb = jpeg_bytes(64, 64) + b"\0" * (30 * 1024 * 1024)

    response = add_photograph(staff_client, upload(thirty_mb, "huge.jpg"))

    assert "This file is 30.0 MB: a photograph can be at most 10 MB" in image_error(response)
    assert not any(media.rglob("*"))


def test_alt_text_is_required_unless_the_photograph_is_decorative(staff_client, media):
    refused = add_photograph(staff_client, upload(jpeg_bytes()), alt_text="")
    document = parse_html(refused.content)
    assert (
        "Describe what the photograph shows" in document.find("div", class_="field-alt_text").text
    )
    assert not Photograph.objects.filter(title="Treatment room").exists()

    accepted = add_photograph(staff_client, upload(jpeg_bytes()), alt_text="", is_decorative="on")
    assert accepted.status_code == 302
    assert Photograph.objects.get(title="Treatment room").alt == ""


@pytest.mark.every_database
def test_the_database_refuses_a_photograph_without_alt_text_that_is_not_decorative(media):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Photograph.objects.create(
            title="No words", image="photographs/x.jpg", width=1, height=1, alt_text=""
        )


# What is kept of an accepted upload.


def test_upload_strips_camera_and_location_data_and_makes_every_rendition(staff_client, media):
    with_location = jpeg_bytes(1600, 1000, with_location=True)
    assert Image.open(__import__("io").BytesIO(with_location)).getexif().get_ifd(GPS_IFD)

    response = add_photograph(staff_client, upload(with_location))

    assert response.status_code == 302
    photograph = Photograph.objects.get(title="Treatment room")
    stored = [photograph.image.path] + [media / r["name"] for r in photograph.renditions]
    for path in stored:
        with Image.open(path) as image:
            assert not image.getexif(), f"{path} keeps EXIF data"
            assert not image.info.get("exif")
            assert not image.info.get("xmp")
    # Every width of its shape up to the original's 1600, in every format.
    widths = [w for w in SHAPES["landscape"].widths if w <= 1600]
    assert sorted((r["format"], r["width"]) for r in photograph.renditions) == sorted(
        (f, w) for f in ("avif", "webp", "jpg") for w in widths
    )
    for rendition in photograph.renditions:
        with Image.open(media / rendition["name"]) as image:
            assert image.size == (rendition["width"], rendition["height"])
            assert (
                image.format == {"avif": "AVIF", "webp": "WEBP", "jpg": "JPEG"}[rendition["format"]]
            )
            assert rendition["height"] == SHAPES["landscape"].height_for(rendition["width"])


def test_a_small_original_is_never_upscaled(staff_client, media):
    add_photograph(staff_client, upload(jpeg_bytes(500, 400)))

    photograph = Photograph.objects.get(title="Treatment room")
    assert {r["width"] for r in photograph.renditions} == {400}


@pytest.mark.parametrize(("focal_x", "kept"), [(0, "red"), (100, "blue")])
def test_the_focal_point_decides_what_a_crop_keeps(staff_client, media, focal_x, kept):
    # A wide picture cropped to a portrait keeps a sliver: the focal point's.
    add_photograph(
        staff_client, upload(halves_jpeg()), crop="portrait", focal_x=focal_x, focal_y=50
    )

    photograph = Photograph.objects.get(title="Treatment room")
    [jpeg] = [r for r in photograph.renditions if r["format"] == "jpg" and r["width"] == 240]
    with Image.open(media / jpeg["name"]) as image:
        red, _, blue = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert (red > blue) == (kept == "red")


# Made once: on save, never by a visitor's request.


def test_renditions_are_made_once_when_saved_and_never_again(staff_client, client, media):
    recorded_before = Thumbnail.objects.count()  # the seed's
    add_photograph(staff_client, upload(jpeg_bytes(1300, 900)))
    photograph = Photograph.objects.get(title="Treatment room")
    made = len(photograph.renditions)
    files = sorted(p.name for p in media.rglob("*") if p.is_file())
    assert made == 12
    assert len(files) == made + 1  # and the original
    assert Thumbnail.objects.count() == recorded_before + made

    # Saving it again without a new file or focal point makes none.
    change = reverse("admin:treatments_photograph_change", args=[photograph.pk])
    response = staff_client.post(
        change,
        {
            "title": "Treatment room, again",
            "crop": "landscape",
            "alt_text": photograph.alt_text,
            "focal_x": 50,
            "focal_y": 50,
        },
    )
    assert response.status_code == 302
    # Showing it on pages makes none either.
    Treatment.objects.filter(slug="medical-grade-facial").update(photograph=photograph)
    for _ in range(3):
        assert client.get("/treatments/medical-grade-facial/").status_code == 200

    assert sorted(p.name for p in media.rglob("*") if p.is_file()) == files
    assert Thumbnail.objects.count() == recorded_before + made


def test_pages_never_ask_the_storage_about_a_photograph(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a page asked the storage about a file")

    for method in ("exists", "open", "size", "listdir", "get_modified_time"):
        monkeypatch.setattr(FileSystemStorage, method, refuse)

    for path in ["/", "/treatments/", "/treatments/professional-facial/", "/team/"]:
        response = client.get(path)
        assert response.status_code == 200
        assert b"<picture>" in response.content


# Shown with srcset, sizes, width and height.


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/", 5), ("/treatments/", 2), ("/treatments/medical-grade-facial/", 1), ("/team/", 2)],
)
def test_pages_show_the_seed_photographs_with_srcset_sizes_width_and_height(client, path, expected):
    document = parse_html(client.get(path).content)

    pictures = document.find("main").find_all("picture")
    assert len(pictures) == expected
    for picture in pictures:
        types = [source.get("type") for source in picture.find_all("source")]
        assert types == ["image/avif", "image/webp"]
        img = picture.find("img")
        assert img.get("src").startswith("/media/photographs/")
        assert img.get("src").endswith(".jpg")
        for source in [*picture.find_all("source"), img]:
            candidates = [part.strip().split() for part in source.get("srcset").split(",")]
            assert all(len(c) == 2 and c[1].endswith("w") for c in candidates)
            assert source.get("sizes")
        assert int(img.get("width")) > 0 and int(img.get("height")) > 0
        assert img.get("alt"), "the seed's photographs all say what they show"


def test_the_home_hero_is_preloaded_and_fetched_first_other_pictures_wait(client):
    document = parse_html(client.get("/").content)

    [preload] = document.find_all("link", rel="preload")
    hero = document.find("img", class_="hero-image")
    assert preload.get("as") == "image"
    assert preload.get("fetchpriority") == "high"
    assert preload.get("type") == "image/avif"
    assert preload.get("imagesizes") == hero.get("sizes")
    assert hero.get("fetchpriority") == "high" and hero.get("loading") is None
    others = [img for img in document.find_all("img") if img is not hero]
    assert others and all(img.get("loading") == "lazy" for img in others)


def test_a_decorative_photograph_is_hidden_from_screen_readers(client):
    photograph = SitePage.objects.get(key="home").photograph
    photograph.is_decorative = True
    photograph.save()

    hero = parse_html(client.get("/").content).find("img", class_="hero-image")

    assert hero.get("alt") == ""


def test_a_page_without_its_photograph_still_renders(client):
    Treatment.objects.filter(slug="professional-facial").update(photograph=None)

    response = client.get("/treatments/professional-facial/")

    assert response.status_code == 200
    assert b"<picture>" not in response.content


@pytest.mark.every_database
def test_the_seed_photographs_are_examples_to_replace():
    seeded = {
        "home": SitePage.objects.get(key="home").photograph,
        "professional": Treatment.objects.get(slug="professional-facial").photograph,
        "medical": Treatment.objects.get(slug="medical-grade-facial").photograph,
    }
    assert all(photograph and photograph.is_example for photograph in seeded.values())
    assert Photograph.objects.examples().count() == 5  # with the two portraits
    for photograph in Photograph.objects.all():
        assert photograph.renditions
        assert Path(photograph.image.path).exists()


# Served safely under `make run` and `make audit` (nginx does it in production).


def test_media_are_served_as_images_that_run_nothing(client):
    photograph = SitePage.objects.get(key="home").photograph
    avif = next(r for r in photograph.renditions if r["format"] == "avif")

    response = client.get(f"/media/{avif['name']}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/avif"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "immutable" in response["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    [
        "/media/photographs/logo.svg",
        "/media/photographs/page.html",
        "/media/../manage.py",
        "/media/other/x.jpg",
        "/media/photographs/missing.jpg",
    ],
)
def test_media_hands_out_nothing_but_the_photographs(client, path):
    assert client.get(path).status_code == 404
