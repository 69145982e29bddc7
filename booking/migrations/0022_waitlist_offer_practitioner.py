"""
An offer names the practitioner whose time it offers (issue 23), and offers
already sent are given theirs where it can be known:

- An offer to an entry that named a practitioner: that practitioner (the
  only one whose times it was ever offered).
- An offer to an "any practitioner" entry made from a freed time: the
  practitioner of the FreedTime, recorded before the offer, whose range holds
  the offer's start. When
  several ranges hold it (a closure lifted frees everyone's day; hours
  changed free a whole horizon), the one handled at the moment the offer was
  made is preferred (the task stamps both with one clock), then those who
  hold the consultation type; if exactly one is left, it is theirs.
- Otherwise (no FreedTime or several left; an "any" offer made by hand,
  which no FreedTime made) it stays empty. A claim of such a legacy offer
  books "any practitioner" free at that time, as claims did before, and the
  column stays nullable for those rows. Every offer made from now on names
  its practitioner (booking/services/offers.py, and its tests).
"""

import django.db.models.deletion
from django.db import migrations, models


def _holds(kind, person):
    """ConsultationType.is_held_by, on the historical models."""
    named = set(kind.practitioners.values_list("pk", flat=True))
    return (
        person.is_active
        and (person.is_medical_provider or not kind.needs_medical_provider)
        and (not named or person.pk in named)
    )


def fill_practitioners(apps, schema_editor):
    WaitlistOffer = apps.get_model("booking", "WaitlistOffer")
    FreedTime = apps.get_model("booking", "FreedTime")
    offers = WaitlistOffer.objects.filter(practitioner__isnull=True).select_related(
        "entry__consultation_type"
    )
    for offer in offers.iterator():
        entry = offer.entry
        if entry.practitioner_id is not None:
            chosen = entry.practitioner_id
        elif offer.offered_by_id is not None:
            chosen = None  # Offered by hand: no freed time says whose.
        else:
            chosen = _freed_practitioner(FreedTime, offer, entry.consultation_type)
        if chosen is not None:
            WaitlistOffer.objects.filter(pk=offer.pk).update(practitioner_id=chosen)


def _freed_practitioner(FreedTime, offer, kind):
    freed = list(
        # Only freed times recorded before the offer: a later one cannot have made it.
        FreedTime.objects.filter(
            starts_at__lte=offer.starts_at,
            ends_at__gt=offer.starts_at,
            created_at__lte=offer.created_at,
        ).select_related("practitioner")
    )
    if len(freed) > 1:
        freed = [row for row in freed if row.handled_at == offer.created_at] or freed
    people = {row.practitioner_id: row.practitioner for row in freed}
    if len(people) > 1:
        people = {pk: person for pk, person in people.items() if _holds(kind, person)}
    return next(iter(people)) if len(people) == 1 else None


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0021_screening_rule_months_bound"),
    ]

    operations = [
        migrations.AddField(
            model_name="waitlistoffer",
            name="practitioner",
            field=models.ForeignKey(
                blank=True,
                help_text="Who the consultation is with: the practitioner whose time was offered.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="waitlist_offers",
                to="booking.practitioner",
            ),
        ),
        migrations.RunPython(fill_practitioners, migrations.RunPython.noop, elidable=True),
    ]
