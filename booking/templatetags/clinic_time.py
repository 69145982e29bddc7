"""
`{{ booking.starts_at|clinic_time:"D j M, g:i A T" }}`: an instant as the
clinic's clock shows it, in the format of Django's `date` filter, with its
zone abbreviation (T) and offset (O, e) even in the hour that happens twice
when the clocks go back. Use it, not `date`, for every clinic time shown.

Django's `date` filter leaves T, O and e empty for a wall time that happens
twice (1:30 AM on the first Sunday of November is both EDT and EST), which
printed "1:30 AM (, clinic time)". The zone that applies is known from the
instant, so the time is formatted in a fixed-offset zone carrying that name.
"""

from datetime import timezone as fixed_offset

from django import template
from django.utils import dateformat, timezone

register = template.Library()


@register.filter
def clinic_time(value, format_string):
    if not value:
        return ""
    local = timezone.localtime(value)
    return dateformat.format(
        local.replace(tzinfo=fixed_offset(local.utcoffset(), local.tzname()), fold=0),
        format_string,
    )
