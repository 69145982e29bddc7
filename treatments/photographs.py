"""
Photographs as content: an uploaded image with its words (alt text), its
focal point and the renditions made from it once, when it is saved.

A page never asks the storage whether a rendition exists: the names and
sizes of every rendition are recorded on the photograph's row
(`renditions`), so showing a photograph costs no query of its own when it
comes with the row it illustrates (`select_related`) and no file-system or
S3 call at all.
"""

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class Shape:
    """One way pages crop photographs: an aspect ratio and the widths made of it."""

    name: str
    ratio: tuple[int, int]
    widths: tuple[int, ...]

    def height_for(self, width):
        return round(width * self.ratio[1] / self.ratio[0])


# The crops pages show. A photograph is rendered in its own (Photograph.crop);
# the widths cover a phone at 1x to a desktop column at 2x, and are never
# upscaled past the original.
SHAPES = {
    "landscape": Shape("landscape", (3, 2), (400, 640, 960, 1280)),
    "portrait": Shape("portrait", (4, 5), (240, 360, 480, 720)),
}
# The order of <source> elements: a browser takes the first it can show.
FORMATS = (("avif", "image/avif"), ("webp", "image/webp"), ("jpg", "image/jpeg"))


def photograph_upload_to(instance, filename):
    # A fresh name for every upload: a rendition's name derives from its
    # original's, so a replaced photograph never shares a name (or a cached
    # copy in someone's browser) with the one it replaces.
    return f"photographs/{uuid.uuid4().hex}.jpg"


class PhotographQuerySet(models.QuerySet):
    def examples(self):
        return self.filter(is_example=True)


class Photograph(models.Model):
    """A photograph staff uploaded, ready for pages in the sizes and formats they ask for."""

    class Crop(models.TextChoices):
        LANDSCAPE = "landscape", "Wide, 3:2 (the home page, treatments)"
        PORTRAIT = "portrait", "Portrait, 4:5 (the team page)"

    title = models.CharField(
        max_length=120,
        help_text="For staff: what it shows, e.g. “Maya Chen, portrait” or “Treatment room”.",
    )
    image = models.ImageField(
        upload_to=photograph_upload_to,
        width_field="width",
        height_field="height",
        help_text=(
            "A JPEG, PNG, WebP or AVIF photograph, at most 10 MB and 40 megapixels; at least "
            "1280 pixels wide for a large picture. Location and camera details are removed."
        ),
    )
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    crop = models.CharField(
        max_length=10,
        choices=Crop,
        default=Crop.LANDSCAPE,
        help_text="The shape pages show it in; its sizes are made in that shape.",
    )
    alt_text = models.CharField(
        "alt text",
        max_length=250,
        blank=True,
        help_text=(
            "What the photograph shows, for people who cannot see it, e.g. “Maya Chen smiling "
            "in the treatment room”. Required unless the photograph is decorative."
        ),
    )
    is_decorative = models.BooleanField(
        "decorative",
        default=False,
        help_text="Tick only if the photograph adds nothing the text does not say: it is then hidden from screen readers.",
    )
    focal_x = models.PositiveSmallIntegerField(
        "focal point across (%)",
        default=50,
        help_text="Where the face or subject is, from the left edge (0) to the right (100): crops keep it in view.",
    )
    focal_y = models.PositiveSmallIntegerField(
        "focal point down (%)",
        default=50,
        help_text="From the top edge (0) to the bottom (100).",
    )
    is_example = models.BooleanField(
        "example — replace",
        default=False,
        help_text="An illustration that came with the site: replace it with the clinic's own photograph.",
    )
    renditions = models.JSONField(
        default=list,
        editable=False,
        help_text="The sizes and formats made from the photograph when it was saved.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PhotographQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = "photograph"
        constraints = [
            models.CheckConstraint(
                condition=Q(is_decorative=True) | ~Q(alt_text=""),
                name="photograph_alt_text_unless_decorative",
            ),
            models.CheckConstraint(
                condition=Q(focal_x__lte=100, focal_y__lte=100),
                name="photograph_focal_point_within_image",
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if not self.is_decorative and not self.alt_text.strip():
            raise ValidationError(
                {
                    "alt_text": "Describe what the photograph shows for people who cannot see it, "
                    "or tick “decorative” if it adds nothing the text does not say."
                }
            )
        for field in ("focal_x", "focal_y"):
            if getattr(self, field) is not None and getattr(self, field) > 100:
                raise ValidationError({field: "A focal point is a percentage: 0 to 100."})

    @property
    def alt(self):
        return "" if self.is_decorative else self.alt_text

    def sources(self, shape):
        """
        What a <picture> needs for `shape`: a `srcset` per format (best first)
        and the largest JPEG's URL, width and height. Read from the recorded
        renditions only. None when there are none (a photograph saved without
        the service, which the seed and the admin never do).
        """
        # A photograph of the other shape still shows, in its own crop.
        made = [r for r in self.renditions if r["shape"] == shape] or self.renditions
        if not made:
            return None
        srcsets = []
        for extension, mime in FORMATS:
            of_format = sorted(
                (r for r in made if r["format"] == extension), key=lambda r: r["width"]
            )
            if of_format:
                srcset = ", ".join(
                    f"{default_storage.url(r['name'])} {r['width']}w" for r in of_format
                )
                srcsets.append({"type": mime, "srcset": srcset, "fallback": of_format})
        fallback = srcsets[-1]["fallback"]
        # The <img> itself: the smallest JPEG at least 640 wide (or the
        # largest there is) for browsers that read neither srcset nor sizes.
        default = next((r for r in fallback if r["width"] >= 640), fallback[-1])
        return {
            "sources": srcsets[:-1],
            "srcset": srcsets[-1]["srcset"],
            "src": default_storage.url(default["name"]),
            "width": default["width"],
            "height": default["height"],
        }
