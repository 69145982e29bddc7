"""
From one anonymous kind of slot to people and consultation types.

- Three example consultation types (for the clinic to replace): a skin
  assessment, a professional facial consultation and a medical-grade facial
  consultation that needs a medical provider.
- A clinic with no bookings yet gets two example practitioners (an
  esthetician and a nurse practitioner) on the current consultation hours.
- A clinic with bookings gets "Practitioner 1..N" for its capacity N, on the
  current hours (more if older bookings overlap in a way N seats never
  allowed), and every booking is given a practitioner and a type. Their
  times are kept exactly; they keep no turnover, which they were booked
  without. Nothing else on a booking, its history or its emails changes.
"""

from django.db import migrations

ACTIVE = ["requested", "confirmed"]

TYPES = [
    {
        "slug": "skin-assessment",
        "name": "Skin assessment",
        "treatment": None,
        "duration_minutes": 30,
        "price_text": "Complimentary",
        "description": "Not sure yet? We look at your skin with you and suggest what suits it.",
        "needs_medical_provider": False,
    },
    {
        "slug": "professional-facial-consultation",
        "name": "Professional facial consultation",
        "treatment": "professional-facial",
        "duration_minutes": 30,
        "price_text": "Complimentary",
        "description": "With a licensed esthetician: your skin, your goals and which professional facial fits.",
        "needs_medical_provider": False,
    },
    {
        "slug": "medical-grade-facial-consultation",
        "name": "Medical-grade facial consultation",
        "treatment": "medical-grade-facial",
        "duration_minutes": 45,
        "price_text": "$50, credited to your treatment",
        "description": "With a medical provider: your skin history, suitability and a treatment plan under medical oversight.",
        "needs_medical_provider": True,
    },
]

EXAMPLE_PRACTITIONERS = [
    {
        "name": "Maya Chen",
        "slug": "maya-chen",
        "role": "Licensed esthetician",
        "bio": "Example practitioner: replace with your own team in the staff admin.",
        "is_medical_provider": False,
    },
    {
        "name": "Daniel Okafor",
        "slug": "daniel-okafor",
        "role": "Nurse practitioner, NP-C",
        "bio": "Example practitioner: replace with your own team in the staff admin.",
        "is_medical_provider": True,
    },
]


def forwards(apps, schema_editor):
    BookingRules = apps.get_model("booking", "BookingRules")
    OpeningHours = apps.get_model("booking", "OpeningHours")
    Practitioner = apps.get_model("booking", "Practitioner")
    WorkingHours = apps.get_model("booking", "WorkingHours")
    ConsultationType = apps.get_model("booking", "ConsultationType")
    Booking = apps.get_model("booking", "ConsultationBooking")
    Treatment = apps.get_model("treatments", "Treatment")

    types = {}
    for position, fields in enumerate(TYPES, start=1):
        treatment = (
            Treatment.objects.filter(slug=fields["treatment"]).first()
            if fields["treatment"]
            else None
        )
        types[fields["treatment"]] = ConsultationType.objects.create(
            **{**fields, "treatment": treatment},
            turnover_minutes=10,
            grid_minutes=15,
            display_order=position,
        )

    rules = BookingRules.objects.filter(pk=1).first()
    capacity = rules.capacity if rules else 1
    hours = list(OpeningHours.objects.values_list("weekday", "starts_at", "ends_at"))

    def add_practitioner(**fields):
        practitioner = Practitioner.objects.create(**fields)
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=practitioner, weekday=weekday, starts_at=start, ends_at=end)
            for weekday, start, end in hours
        )
        return practitioner

    if not Booking.objects.exists():
        for position, fields in enumerate(EXAMPLE_PRACTITIONERS, start=1):
            add_practitioner(**fields, display_order=position)
        return

    def numbered(n):
        # Every seat could hold any consultation, so each of them may still;
        # unpublished until the clinic names them.
        return add_practitioner(
            name=f"Practitioner {n}",
            slug=f"practitioner-{n}",
            role="Practitioner (enter their name and credentials)",
            is_medical_provider=True,
            is_published=False,
            display_order=n,
        )

    practitioners = [numbered(n) for n in range(1, capacity + 1)]
    busy_until = {}  # practitioner pk -> end of their latest active booking
    for booking in Booking.objects.order_by("starts_at", "pk"):
        booking.consultation_type = types.get(
            booking.treatment.slug if booking.treatment_id else None, types[None]
        )
        booking.blocks_until = booking.ends_at
        if booking.status in ACTIVE:
            # The seat's practitioner if free, else the first who is; a new
            # one if none is (only older overlapping bookings can need it).
            preferred = practitioners[min(booking.seat, len(practitioners)) - 1]
            candidates = [preferred, *(p for p in practitioners if p != preferred)]
            free = [
                p
                for p in candidates
                if busy_until.get(p.pk, booking.starts_at) <= booking.starts_at
            ]
            practitioner = free[0] if free else None
            if practitioner is None:
                practitioner = numbered(len(practitioners) + 1)
                practitioners.append(practitioner)
            busy_until[practitioner.pk] = max(
                busy_until.get(practitioner.pk, booking.ends_at), booking.ends_at
            )
        else:
            practitioner = practitioners[min(booking.seat, len(practitioners)) - 1]
        booking.practitioner = practitioner
        booking.save(update_fields=["consultation_type", "practitioner", "blocks_until"])


def backwards(apps, schema_editor):
    Practitioner = apps.get_model("booking", "Practitioner")
    OpeningHours = apps.get_model("booking", "OpeningHours")
    BookingRules = apps.get_model("booking", "BookingRules")
    Booking = apps.get_model("booking", "ConsultationBooking")
    first = Practitioner.objects.order_by("display_order", "pk").first()
    if first is not None and not OpeningHours.objects.exists():
        OpeningHours.objects.bulk_create(
            OpeningHours(weekday=window.weekday, starts_at=window.starts_at, ends_at=window.ends_at)
            for window in first.working_hours.all()
        )
    BookingRules.objects.filter(pk=1).update(capacity=max(1, Practitioner.objects.count()))
    Booking.objects.update(practitioner=None, consultation_type=None, blocks_until=None)
    apps.get_model("booking", "ConsultationType").objects.all().delete()
    Practitioner.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0005_practitioners_and_types"),
        ("treatments", "0002_seed_article"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
