"""
`{% picture %}`: a photograph as a <picture> in AVIF, WebP and JPEG, every
width in a srcset, with the `sizes` the page gives and the width and height
that keep the layout still while it loads. Built from the renditions
recorded on the photograph's row: no query, no storage call.

    {% load pictures %}
    {% picture practitioner.portrait shape="portrait" sizes="(min-width: 768px) 12rem, 40vw" %}
    {% picture page.photograph sizes="100vw" priority=True class="hero-image" %}

`priority=True` is for the page's largest picture (its LCP): loaded at once
with `fetchpriority="high"`; every other picture is lazy. Put
`{% picture_preload photo sizes=… %}` for the same picture in the head.
"""

from django import template

register = template.Library()


@register.inclusion_tag("includes/picture.html")
def picture(photograph, *, sizes, shape="landscape", priority=False, css_class=""):
    sources = photograph.sources(shape) if photograph else None
    return {
        "photograph": photograph,
        "picture": sources,
        "sizes": sizes,
        "priority": priority,
        "css_class": css_class,
    }


@register.inclusion_tag("includes/picture_preload.html")
def picture_preload(photograph, *, sizes, shape="landscape"):
    sources = photograph.sources(shape) if photograph else None
    # The best format the page offers: a browser that cannot show it skips
    # the preload (its `type`) and finds its own source in the <picture>.
    first = (
        sources
        and (sources["sources"][:1] or [{"type": "image/jpeg", "srcset": sources["srcset"]}])[0]
    )
    return {"preload": first, "sizes": sizes}
