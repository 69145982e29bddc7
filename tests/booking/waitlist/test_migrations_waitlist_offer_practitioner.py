"""
Migration 0022 gives offers already sent the practitioner whose time they
offered, where that can be known (issue 23).

A database is migrated to 0021, given waitlist offers of every kind (to
named and "any" entries; made from one freed time, from several ranges at
once, by hand, from none), then migrated forward; each offer's practitioner
is checked. It runs in a process of its own on a database of its own, of
the run's kind.
"""

import pytest

from tests.support.migrations import run_scenario, throwaway_database

pytestmark = pytest.mark.every_database

SCENARIO = r"""
import json
from datetime import date, datetime, timedelta, timezone as tz

import django
django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("booking", "0021_screening_rule_months_bound")]
executor = MigrationExecutor(connection)
executor.migrate(BEFORE)
old = executor.loader.project_state(BEFORE).apps
Practitioner = old.get_model("booking", "Practitioner")
Kind = old.get_model("booking", "ConsultationType")
Entry = old.get_model("booking", "WaitlistEntry")
Freed = old.get_model("booking", "FreedTime")
Offer = old.get_model("booking", "WaitlistOffer")
User = old.get_model("auth", "User")

eve = Practitioner.objects.create(name="Eve", slug="eve-m", role="Esthetician", display_order=90)
nora = Practitioner.objects.create(name="Nora", slug="nora-m", role="NP", is_medical_provider=True,
                                   display_order=91)
tom = Practitioner.objects.create(name="Tom", slug="tom-m", role="NP", is_medical_provider=True,
                                  display_order=92)
plain = Kind.objects.create(name="Plain", slug="plain-m", duration_minutes=30)
medical = Kind.objects.create(name="Medical", slug="medical-m", duration_minutes=30,
                              needs_medical_provider=True)
desk = User.objects.create(username="desk-m", is_staff=True)

day = datetime(2030, 3, 4, 15, 0, tzinfo=tz.utc)
made = datetime(2030, 3, 1, 12, 0, tzinfo=tz.utc)
later = made + timedelta(minutes=5)

def freed(person, hour, *, hours=1, handled=made):
    Freed.objects.create(practitioner=person, starts_at=day + timedelta(hours=hour),
                         ends_at=day + timedelta(hours=hour + hours), handled_at=handled,
                         created_at=handled)

def offer(case, hour, *, kind=plain, practitioner=None, created=made, by=None):
    entry = Entry.objects.create(
        consultation_type=kind, practitioner=practitioner, weekdays="0123456",
        parts_of_day="morning,afternoon,evening", earliest_day=date(2030, 3, 1),
        latest_day=date(2030, 3, 30), full_name=case, email=f"{case}@example.com",
        phone="+12125550100", consent_given_at=made, privacy_policy_version="test")
    starts_at = day + timedelta(hours=hour)
    Offer.objects.create(entry=entry, starts_at=starts_at, expires_at=starts_at - timedelta(hours=12),
                         created_at=created, offered_by=by)

# A cancellation of Eve's at hour 1; a closure lifted for Eve and Nora at
# hours 3-4; Eve's and Tom's hours changed at different moments over hours 5-6.
freed(eve, 1)
freed(eve, 3, hours=2)
freed(nora, 3, hours=2)
freed(eve, 5, hours=2, handled=made)
freed(tom, 5, hours=2, handled=later)

offer("named", 0, practitioner=eve)                    # no freed time needed: hers
offer("any-one-freed", 1)                              # Eve's cancellation
offer("any-by-hand", 1, by=desk)                       # by hand: no freed time made it
offer("any-two-freed-one-holds", 3, kind=medical)      # Eve cannot hold it: Nora
offer("any-two-freed-both-hold", 3)                    # either: unknown
offer("any-none-freed", 8)                             # nothing freed then: unknown
offer("any-made-with-one-of-two", 5, created=later)    # made when Tom's was handled
# Tom's time freed at hour 10 after an offer of that hour was made (whatever
# made the offer is gone): his freed time cannot have made it.
freed(tom, 10, handled=later)
offer("any-freed-only-after", 10)

executor.loader.build_graph()
executor = MigrationExecutor(connection)
executor.migrate(executor.loader.graph.leaf_nodes())

from booking.models import WaitlistOffer
print(json.dumps({
    offer.entry.full_name: offer.practitioner.slug if offer.practitioner else None
    for offer in WaitlistOffer.objects.select_related("entry", "practitioner")
}))
"""


@pytest.fixture(scope="module")
def migrated():
    with throwaway_database("offer_practitioner") as url:
        yield run_scenario(SCENARIO, url)


def test_offers_already_sent_get_the_practitioner_whose_time_they_offered(migrated):
    assert migrated["named"] == "eve-m"
    assert migrated["any-one-freed"] == "eve-m"
    assert migrated["any-two-freed-one-holds"] == "nora-m"
    assert migrated["any-made-with-one-of-two"] == "tom-m"


def test_offers_whose_practitioner_cannot_be_known_stay_empty_and_claim_any(migrated):
    assert migrated["any-by-hand"] is None
    assert migrated["any-two-freed-both-hold"] is None
    assert migrated["any-none-freed"] is None
    assert migrated["any-freed-only-after"] is None
    assert len(migrated) == 8
