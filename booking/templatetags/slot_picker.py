"""
`{{ field|slot_days }}`: the slot picker's radio buttons for one week, a
fieldset per clinic day (see booking/bookings/includes/slot_picker.html).

Written in Python rather than as a template loop: a week holds a radio for
every start time on the type's grid (about 140 with the seeded hours, several
hundred for a clinic open long days), and the template loop, at a dozen
variable lookups per radio, was most of the booking page's time.
"""

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def slot_days(field):
    week = field.field.week
    if not week:
        return ""
    chosen = field.value()
    zone = timezone.get_current_timezone()
    name, radio = escape(field.html_name), escape(field.auto_id)
    html = []
    for day_number, (day, slots) in enumerate(week.days):
        html.append(
            '<fieldset class="slot-day mb-3">\n'
            f'<legend class="fs-6 fw-semibold">{escape(format_date(day, "l j F"))}</legend>\n'
        )
        for number, slot in enumerate(slots):
            # The first radio ends in _0, like Django's own radio groups, so
            # the error summary can link to it.
            radio_id = (
                f"{radio}_0" if day_number == number == 0 else f"{radio}_{day_number}_{number}"
            )
            value = slot.value
            checked = " checked" if value == chosen else ""
            html.append(
                '<div class="form-check form-check-inline slot-option">'
                f'<input class="form-check-input" type="radio" name="{name}" id="{radio_id}" '
                f'value="{value}"{checked}> '
                f'<label class="form-check-label" for="{radio_id}">{escape(slot.clock_in(zone))}</label>'
                "</div>\n"
            )
        html.append("</fieldset>\n")
    return mark_safe("".join(html))
