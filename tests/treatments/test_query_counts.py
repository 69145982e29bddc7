"""
Each content page costs a fixed number of queries, however much content
staff add: lists are fetched in one go, never one query per row. (What a
booking costs is tests/booking/bookings/test_booking_query_counts.py.)
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.content import add_a_lot_of_content
from treatments.models import SkinConcern

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]

CONTENT_PAGES = [
    "/",
    "/treatments/",
    "/treatments/professional-facial/",
    "/treatments/medical-grade-facial/",
    "/compare/",
    "/faqs/",
    "/guide/",
    "/guide/?concerns=acne-scars&concerns=congestion&sensitivity=very-sensitive&goal=long-term-change",
    "/guide/?concerns=no-such-concern&goal=",
    "/book/",
    "/book/?treatment=medical-grade-facial",
    "/book/?practitioner=daniel-okafor",
    "/book/?type=professional-facial-consultation&practitioner=maya-chen",
    "/privacy/",
    "/team/",
    "/sitemap.xml",
]


def count_queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", CONTENT_PAGES)
def test_page_costs_the_same_queries_with_ten_times_the_content(
    client, django_assert_num_queries, path
):
    client.get(path)  # Anything a first request caches is not the page's cost.
    with_seed_content = count_queries(client, path)

    add_a_lot_of_content()

    with django_assert_num_queries(with_seed_content):
        client.get(path)


def test_guide_result_costs_the_same_queries_however_many_concerns_are_chosen(
    client, django_assert_num_queries
):
    add_a_lot_of_content()
    answers = {"sensitivity": "very-sensitive", "goal": "long-term-change"}
    client.get("/guide/", answers | {"concerns": "acne-scars"})
    with CaptureQueriesContext(connection) as one_concern:
        client.get("/guide/", answers | {"concerns": "acne-scars"})

    every_concern = list(SkinConcern.objects.values_list("slug", flat=True))
    assert len(every_concern) == 28
    with django_assert_num_queries(len(one_concern)):
        client.get("/guide/", answers | {"concerns": every_concern})
