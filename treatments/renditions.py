"""
What happens to a photograph's file: checking an upload, removing its
metadata, and making its renditions.

easy-thumbnails does the resizing and cropping (its `scale_and_crop` with a
`target` keeps the focal point in view), names each rendition after its
original and options, writes it to the default storage and records it in
its own tables, so a rendition already made is never made again. The one
thing it cannot do alone is write AVIF: it passes JPEG's numeric
`subsampling` to every encoder, which Pillow's AVIF encoder refuses, so
renditions are asked for with the string form both accept.
"""

import logging
import warnings
from io import BytesIO
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from easy_thumbnails.files import get_thumbnailer
from easy_thumbnails.utils import get_storage_hash
from PIL import Image, ImageOps, UnidentifiedImageError

from .photographs import FORMATS, SHAPES

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Pixels, not bytes, are what a decoder allocates: a 40-megapixel photograph
# is already more than any page needs, and a "decompression bomb" (a small
# file declaring a huge picture) is refused from its header, before decoding.
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "AVIF": "AVIF", "MPO": "JPEG"}
ORIGINAL_QUALITY = 90
# AVIF takes Pillow's own default quality (75 on its scale, smaller than
# WebP at 78): easy-thumbnails passes a quality to JPEG and WebP only.
QUALITY = {"jpg": 80, "webp": 78, "avif": 75}


def check_upload(upload):
    """
    Refuse what is not a photograph we can show, each with a message staff can
    act on. Returns the opened image (header read, not decoded).
    """
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            "This file is %(size).1f MB: a photograph can be at most 10 MB. "
            "Export it smaller (1280 to 2400 pixels wide is plenty).",
            code="too_large",
            params={"size": size / 1024 / 1024},
        )
    upload.seek(0)
    head = upload.read(512).lstrip()
    upload.seek(0)
    if head[:5] in (b"<?xml", b"<svg ") or b"<svg" in head.lower():
        raise ValidationError(
            "SVG drawings are not accepted (they can carry scripts): upload a JPEG, PNG, "
            "WebP or AVIF photograph.",
            code="svg",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_too_many_pixels_message(), code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise ValidationError(
            "This file is not a photograph we can read: upload a JPEG, PNG, WebP or AVIF image.",
            code="not_an_image",
        ) from None
    if image.format not in ACCEPTED_FORMATS:
        raise ValidationError(
            "%(format)s images are not accepted: upload a JPEG, PNG, WebP or AVIF photograph.",
            code="format",
            params={"format": image.format or "This kind of"},
        )
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ValidationError(_too_many_pixels_message(width, height), code="too_many_pixels")
    return image


def _too_many_pixels_message(width=None, height=None):
    size = f" ({width:,} × {height:,} pixels)" if width else ""
    return (
        f"This image is too large to process{size}: a photograph can be at most 40 megapixels, "
        "e.g. 7,700 × 5,100. Export it smaller."
    )


def clean_original(upload):
    """
    The photograph as the site keeps it: turned upright, in sRGB-ish RGB, saved
    afresh as a JPEG without any metadata: no EXIF (camera, time, GPS
    location), no XMP, no comments. Raises ValidationError for a file that
    only fails when decoded (truncated or corrupt).
    """
    image = check_upload(upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            image = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError):
        raise ValidationError(
            "This image is damaged or incomplete: export it again and upload the new file.",
            code="corrupt",
        ) from None
    if image.mode != "RGB":
        # Transparent parts become white, as they would show on the page.
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    # A new image holds pixels only: nothing of the upload's info survives.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    out = BytesIO()
    clean.save(out, format="JPEG", quality=ORIGINAL_QUALITY, optimize=True, progressive=True)
    return ContentFile(out.getvalue(), name="photograph.jpg")


def make_renditions(name, *, crop, focal_x, focal_y, source_width):
    """
    Every width and format of the original stored at `name` in the shape
    `crop` (SHAPES), made once
    (easy-thumbnails returns a rendition it made before without making it
    again) and described for the photograph's row: shape, format, width,
    height and the stored name.
    """
    thumbnailer = get_thumbnailer(default_storage, relative_name=name)
    thumbnailer.thumbnail_preserve_extensions = False
    made = []
    for shape in [SHAPES[crop]]:
        widths = [w for w in shape.widths if w <= source_width] or [shape.widths[0]]
        for width in widths:
            for extension, _mime in FORMATS:
                thumbnailer.thumbnail_extension = extension
                rendition = thumbnailer.get_thumbnail(
                    {
                        "size": (width, shape.height_for(width)),
                        "crop": True,
                        "target": (focal_x, focal_y),
                        "quality": QUALITY[extension],
                        "subsampling": "4:2:0",
                    }
                )
                made.append(
                    {
                        "shape": shape.name,
                        "format": extension,
                        "width": rendition.width,
                        "height": rendition.height,
                        "name": rendition.name,
                    }
                )
    return made


def remove_original_and_renditions(name, *, recorded=()):
    """
    Remove from storage the original stored at `name` and every rendition
    made of it: those easy-thumbnails recorded (for any shape or focal point
    the photograph ever had, not only the ones its row lists now) and those
    in `recorded` (the row's own list, in case easy-thumbnails' records were
    lost), then easy-thumbnails' records of what was removed.

    A file the storage fails to delete is logged with its name and left
    where it is (with its record, so it can still be found): the photograph's
    change is saved already, and a file left over costs storage, never a
    page. Returns the names removed.
    """
    thumbnailer = get_thumbnailer(default_storage, relative_name=name)
    source = thumbnailer.get_source_cache()
    # Only the records of renditions in the storage they are written to now,
    # as easy-thumbnails' own delete_thumbnails does: a name recorded for
    # another storage is not a file in this one.
    made = (
        source.thumbnails.filter(storage_hash=get_storage_hash(thumbnailer.thumbnail_storage))
        if source
        else []
    )
    renditions = sorted({thumbnail.name for thumbnail in made} | {r["name"] for r in recorded})
    # The renditions first: if the storage fails half-way, what is left is
    # still an original with (some of) its renditions, found from its name.
    files = [(thumbnailer.thumbnail_storage, rendition) for rendition in renditions]
    files.append((default_storage, name))
    removed = []
    for storage, file_name in files:
        try:
            storage.delete(file_name)
        except Exception:
            # Any storage's error (OSError on disk, botocore's on S3).
            logger.exception("Could not remove %s from storage; remove it by hand", file_name)
        else:
            removed.append(file_name)
    if source:
        source.thumbnails.filter(name__in=removed).delete()
        if name in removed and not source.thumbnails.exists():
            source.delete()
    return removed


SEED_FOLDER = Path(__file__).resolve().parent / "seed_photographs"


def seed_photograph(model, filename, **fields):
    """
    One of the example pictures drawn for this project
    (scripts/draw_seed_photographs.py), stored and rendered as an upload
    would be, marked “example — replace”. For the data migrations, which
    pass their historical Photograph model.
    """
    with (SEED_FOLDER / filename).open("rb") as source:
        original = clean_original(File(source, name=filename))
    photograph = model(is_example=True, **fields)
    photograph.image.save(original.name, original, save=False)
    photograph.renditions = make_renditions(
        photograph.image.name,
        crop=photograph.crop,
        focal_x=photograph.focal_x,
        focal_y=photograph.focal_y,
        source_width=photograph.width,
    )
    photograph.save()
    return photograph
