"""Image files for the photograph tests: good ones, and each kind the upload refuses."""

import struct
import zlib
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

GPS_IFD = 0x8825
MAKE = 0x010F


def jpeg_bytes(width=1600, height=1000, *, colour=(200, 150, 140), with_location=False):
    image = Image.new("RGB", (width, height), colour)
    exif = Image.Exif()
    if with_location:
        exif[MAKE] = "Clinic Camera"
        # 40°45' N, 73°59' W: where the photograph was taken.
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (40.0, 45.0, 0.0), 3: "W", 4: (73.0, 59.0, 0.0)})
    out = BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def halves_jpeg(width=1600, height=400):
    """Red on the left half, blue on the right: which half a crop kept shows in its colour."""
    image = Image.new("RGB", (width, height), (220, 0, 0))
    image.paste((0, 0, 220), (width // 2, 0, width, height))
    out = BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def png_declaring(width, height):
    """
    A decompression bomb's header: a few bytes that declare a huge picture.
    Decoding it would allocate width × height pixels; the upload must refuse
    it from the header alone.
    """

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


def upload(content, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def add_photograph(client, image, **fields):
    """Add a photograph through the admin, as staff do: `client` is signed in as staff."""
    data = {
        "title": "Treatment room",
        "crop": "landscape",
        "alt_text": "A treatment room by a bright window.",
        "focal_x": 50,
        "focal_y": 50,
        "image": image,
    } | fields
    return client.post(reverse("admin:treatments_photograph_add"), data)
