"""
What the content pages show of the team and the consultations without the
content app importing booking (the import contracts forbid it): the home
page's trust block asks here.

    {% load team %}
    {% team_on_home_page as practitioners %}
    {% consultation_fees as consultation_types %}
"""

from django import template

from booking.models import ConsultationType, Practitioner

register = template.Library()


@register.simple_tag
def team_on_home_page():
    # One query, portraits joined: the list is short (the team page's).
    return list(Practitioner.objects.on_team_page())


@register.simple_tag
def consultation_fees():
    """The consultations that state a price, as clients read it (“$50, credited to your treatment”)."""
    return list(ConsultationType.objects.bookable_online().exclude(price_text=""))
