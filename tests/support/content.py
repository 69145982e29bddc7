"""
Small helpers that add content on top of the seed article, which every test
database already holds (the data migration loads it).
"""

from datetime import time
from itertools import count

from booking.models import ConsultationType, Practitioner, WorkingHours
from treatments.models import (
    FAQ,
    ComparisonAspect,
    ComparisonValue,
    DecisionFactor,
    SkinConcern,
    Treatment,
    TreatmentPoint,
)

PROFESSIONAL = "professional-facial"
MEDICAL = "medical-grade-facial"

_sequence = count(1)


def make_treatment(**fields):
    n = next(_sequence)
    defaults = {
        "name": f"Test facial {n}",
        "slug": f"test-facial-{n}",
        "summary": f"Summary of test facial {n}.",
        "introduction": f"Introduction to test facial {n}.",
        "meta_description": f"About test facial {n}.",
        "display_order": 10 + n,
    }
    return Treatment.objects.create(**defaults | fields)


def make_faq(**fields):
    n = next(_sequence)
    defaults = {
        "question": f"Test question {n}?",
        "answer": f"Test answer {n}.",
        "position": 100 + n,
    }
    return FAQ.objects.create(**defaults | fields)


def make_concern(**fields):
    n = next(_sequence)
    defaults = {
        "label": f"Test concern {n}",
        "slug": f"test-concern-{n}",
        "reason": f"Reason for test concern {n}.",
        "position": 100 + n,
    }
    return SkinConcern.objects.create(**defaults | fields)


def add_a_lot_of_content():
    """
    Grows every list the public pages show, so a query-count test can tell a
    page that costs the same whatever its size from one that does not.
    """
    treatments = [*Treatment.objects.all(), make_treatment(), make_treatment()]
    FAQ.objects.bulk_create(
        FAQ(
            question=f"Extra question {n}?",
            answer=f"Extra answer {n}.",
            treatment=treatments[n % len(treatments)] if n % 3 else None,
            position=100 + n,
        )
        for n in range(200)
    )
    SkinConcern.objects.bulk_create(
        SkinConcern(
            label=f"Extra concern {n}",
            slug=f"extra-concern-{n}",
            recommended_treatment=treatments[n % 2] if n % 5 else None,
            reason=f"Extra reason {n}.",
            position=100 + n,
        )
        for n in range(20)
    )
    aspects = ComparisonAspect.objects.bulk_create(
        ComparisonAspect(name=f"Extra aspect {n}", position=100 + n) for n in range(30)
    )
    ComparisonValue.objects.bulk_create(
        ComparisonValue(aspect=aspect, treatment=treatment, text=f"{aspect.name}, {treatment}")
        for aspect in aspects
        for treatment in treatments
    )
    TreatmentPoint.objects.bulk_create(
        TreatmentPoint(
            treatment=treatment, section=section, text=f"Extra point {n}", position=100 + n
        )
        for treatment in treatments
        for section in TreatmentPoint.Section.values
        for n in range(10)
    )
    DecisionFactor.objects.bulk_create(
        DecisionFactor(name=f"Extra factor {n}", position=100 + n) for n in range(10)
    )
    # The team page and the booking form list the practitioners and the
    # consultation types; the form works out everyone's times.
    people = Practitioner.objects.bulk_create(
        Practitioner(
            name=f"Extra Practitioner{n}",
            slug=f"extra-practitioner-{n}",
            role="Licensed esthetician" if n % 2 else "Registered nurse",
            bio=f"Extra bio {n}.",
            is_medical_provider=not n % 2,
            display_order=100 + n,
        )
        for n in range(12)
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=person, weekday=weekday, starts_at=start, ends_at=end)
        for person in people
        for weekday in range(6)
        for start, end in [(time(8), time(12)), (time(13), time(18))]
    )
    types = ConsultationType.objects.bulk_create(
        ConsultationType(
            name=f"Extra consultation {n}",
            slug=f"extra-consultation-{n}",
            treatment=treatments[n % len(treatments)],
            duration_minutes=30 + 15 * (n % 3),
            needs_medical_provider=not n % 3,
            price_text="Complimentary",
            description=f"Extra description {n}.",
            display_order=100 + n,
        )
        for n in range(12)
    )
    for n, consultation_type in enumerate(types[:6]):
        consultation_type.practitioners.set(people[n : n + 4])
