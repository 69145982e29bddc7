"""
JSON-LD for search engines. The data is built here, from settings and
models, so templates only place it; the JSON is escaped the same way as
Django's json_script, so no content can close the <script> element.
"""

import json

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _json_ld(data):
    payload = json.dumps(data, ensure_ascii=False).translate(_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))


@register.simple_tag
def medical_business_ld():
    clinic = settings.CLINIC
    return _json_ld(
        {
            "@context": "https://schema.org",
            "@type": "MedicalBusiness",
            "name": clinic["name"],
            "url": settings.SITE_URL + "/",
            "telephone": clinic["phone"],
            "email": clinic["email"],
            "address": {
                "@type": "PostalAddress",
                "streetAddress": clinic["street_address"],
                "addressLocality": clinic["locality"],
                "addressRegion": clinic["region"],
                "postalCode": clinic["postal_code"],
                "addressCountry": clinic["country"],
            },
        }
    )


@register.simple_tag
def faq_page_ld(faqs):
    return _json_ld(
        {
            "@context": "https://schema.org",
            "@type": "FAQPage",
            "mainEntity": [
                {
                    "@type": "Question",
                    "name": faq.question,
                    "acceptedAnswer": {"@type": "Answer", "text": faq.answer},
                }
                for faq in faqs
            ],
        }
    )
