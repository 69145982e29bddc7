"""
Draws the seed content's example pictures with Pillow, into
treatments/seed_photographs/: soft illustrations (a treatment room, the two
facials, two practitioners' portraits) made for this project, so they are
licence-clean and nothing is downloaded. The migrations load them marked
“example — replace”; the clinic uploads its own photographs over them.

    .venv/bin/python scripts/draw_seed_photographs.py

The output is committed; run this again only to change the drawings (the
same code draws the same pixels).
"""

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "treatments" / "seed_photographs"

# The clinic's palette (static/scss/_tokens.scss): sage, clay, sand, ink.
SAGE = (120, 146, 128)
SAGE_LIGHT = (196, 212, 198)
CLAY = (196, 132, 108)
SAND = (240, 228, 214)
CREAM = (250, 246, 240)
INK = (38, 52, 58)
SKIN = [(236, 196, 170), (178, 122, 92), (214, 164, 132), (120, 78, 58)]


def gradient(size, top, bottom):
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(height - 1, 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    return image


def soft(image, radius):
    return image.filter(ImageFilter.GaussianBlur(radius))


def bokeh(image, seed, count, colours, radius=(20, 90)):
    # Colour and coverage are blurred apart: blurring one RGBA layer would
    # darken every edge towards its transparent black.
    rng = random.Random(seed)
    colour = Image.new("RGB", image.size, (255, 255, 255))
    mask = Image.new("L", image.size, 0)
    paint, cover = ImageDraw.Draw(colour), ImageDraw.Draw(mask)
    for _ in range(count):
        r = rng.randint(*radius)
        x, y = rng.randint(0, image.width), rng.randint(0, image.height)
        paint.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice(colours))
        cover.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(40, 110))
    image.paste(soft(colour, 18), (0, 0), soft(mask, 18))
    return image


def plant(draw, x, y, scale=1.0):
    draw.rounded_rectangle((x - 40 * scale, y, x + 40 * scale, y + 90 * scale), 14, fill=CLAY)
    for angle in range(-3, 4):
        dx = angle * 26 * scale
        draw.ellipse(
            (
                x + dx - 22 * scale,
                y - 150 * scale + abs(angle) * 25 * scale,
                x + dx + 22 * scale,
                y - 20 * scale,
            ),
            fill=SAGE,
        )


def bottle(draw, x, y, colour, height=150):
    draw.rounded_rectangle((x, y - height, x + 60, y), 16, fill=colour)
    draw.rectangle((x + 18, y - height - 34, x + 42, y - height), fill=INK)
    draw.rounded_rectangle((x + 10, y - height * 0.65, x + 50, y - height * 0.3), 6, fill=CREAM)


def treatment_room(size=(1280, 853)):
    image = gradient(size, SAND, CREAM)
    draw = ImageDraw.Draw(image)
    # A window of soft daylight, a treatment bed, towels, a plant, bottles.
    draw.rounded_rectangle((760, 90, 1150, 470), 24, fill=(255, 252, 244))
    draw.line((955, 90, 955, 470), fill=SAND, width=10)
    draw.line((760, 280, 1150, 280), fill=SAND, width=10)
    draw.rounded_rectangle((120, 520, 900, 600), 30, fill=SAGE_LIGHT)
    draw.rectangle((170, 600, 200, 760), fill=INK)
    draw.rectangle((820, 600, 850, 760), fill=INK)
    for i, colour in enumerate((CREAM, SAND, CREAM)):
        draw.rounded_rectangle(
            (160 + i * 16, 470 - i * 22, 420 - i * 16, 520 - i * 22), 18, fill=colour
        )
    plant(draw, 1080, 640, 1.2)
    bottle(draw, 560, 520, CLAY, 120)
    bottle(draw, 640, 520, SAGE, 150)
    image = bokeh(soft(image, 2), 1, 14, [(255, 255, 255), SAND])
    return image


def facial(kind, size=(960, 640)):
    calm = kind == "professional"
    top, bottom = (SAND, CREAM) if calm else ((226, 236, 238), (248, 250, 250))
    image = gradient(size, top, bottom)
    draw = ImageDraw.Draw(image)
    skin = SKIN[0] if calm else SKIN[2]
    # A client resting, seen from above the head: hair, face, a towel band.
    draw.ellipse((300, 170, 660, 560), fill=INK)
    draw.ellipse((340, 230, 620, 560), fill=skin)
    draw.rounded_rectangle((320, 190, 640, 270), 40, fill=CREAM)
    draw.arc((400, 380, 460, 410), 200, 340, fill=INK, width=5)
    draw.arc((500, 380, 560, 410), 200, 340, fill=INK, width=5)
    draw.arc((445, 470, 515, 500), 20, 160, fill=CLAY, width=6)
    if calm:
        # A mask being brushed on, a bowl, a candle.
        draw.ellipse((380, 300, 580, 420), fill=(*SAGE_LIGHT,))
        draw.ellipse((700, 470, 880, 560), fill=SAGE)
        draw.ellipse((715, 480, 865, 530), fill=SAGE_LIGHT)
        draw.rounded_rectangle((90, 430, 150, 560), 10, fill=CREAM)
        draw.ellipse((108, 395, 132, 430), fill=(246, 196, 120))
    else:
        # A clinical light panel and a serum dropper.
        draw.rounded_rectangle((560, 40, 900, 170), 26, fill=INK)
        for i in range(6):
            draw.ellipse((590 + i * 50, 85, 620 + i * 50, 115), fill=(255, 170, 160))
        draw.rectangle((120, 360, 150, 520), fill=(210, 226, 232))
        draw.ellipse((112, 330, 158, 372), fill=INK)
        bottle(draw, 780, 600, SAGE, 130)
    glow = [(255, 240, 220), (255, 255, 255)] if calm else [(255, 190, 180), (220, 240, 255)]
    return bokeh(soft(image, 2), 2 if calm else 3, 10, glow, (15, 60))


def portrait(seed, skin, hair, top, size=(480, 600)):
    image = gradient(size, SAGE_LIGHT, CREAM) if seed % 2 else gradient(size, SAND, CREAM)
    draw = ImageDraw.Draw(image)
    cx = size[0] // 2
    # Shoulders, neck, hair behind, face, hair in front: an illustration, not a person.
    draw.rounded_rectangle((cx - 190, 430, cx + 190, 700), 120, fill=top)
    draw.rectangle((cx - 40, 340, cx + 40, 450), fill=skin)
    if seed % 2:
        draw.ellipse((cx - 135, 90, cx + 135, 420), fill=hair)
    draw.ellipse((cx - 100, 130, cx + 100, 380), fill=skin)
    if seed % 2:
        draw.pieslice((cx - 118, 100, cx + 118, 300), 180, 360, fill=hair)
    else:
        draw.chord((cx - 108, 112, cx + 108, 250), 180, 360, fill=hair)
    draw.ellipse((cx - 52, 235, cx - 30, 252), fill=INK)
    draw.ellipse((cx + 30, 235, cx + 52, 252), fill=INK)
    draw.arc((cx - 36, 290, cx + 36, 325), 20, 160, fill=CLAY, width=5)
    draw.rounded_rectangle((cx - 60, 470, cx + 60, 520), 12, fill=CREAM)  # a name badge
    return bokeh(soft(image, 1.5), seed, 6, [(255, 255, 255)], (20, 50))


DRAWINGS = {
    "treatment-room.jpg": treatment_room,
    "professional-facial.jpg": lambda: facial("professional"),
    "medical-grade-facial.jpg": lambda: facial("medical"),
    "maya-chen.jpg": lambda: portrait(1, SKIN[2], INK, SAGE),
    "daniel-okafor.jpg": lambda: portrait(2, SKIN[3], (30, 24, 22), CLAY),
}


def main():
    OUT.mkdir(exist_ok=True)
    for name, draw in DRAWINGS.items():
        path = OUT / name
        draw().save(path, format="JPEG", quality=86, optimize=True, progressive=True)
        print(f"{path.relative_to(OUT.parent.parent)}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
