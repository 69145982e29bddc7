"""
Content pages (and the guide's results) are cached whole, as they are sent:
gzipped, with their ETag and Cache-Control. An edit invalidates them at once.
"""

import gzip
import re
from unittest import mock

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.test import Client
from django.views.generic import TemplateView

from clinic_site import versions
from tests.support.booking import BOOK_URL, filled_booking_form, make_booking, received_booking, utc
from tests.support.local_site import Site
from treatments import caching
from treatments.models import FAQ, ContentBlock, SkinConcern, SkinGoal, Treatment

pytestmark = [pytest.mark.django_db]

MAX_AGE = 120
CACHED_PAGES = [
    "/",
    "/treatments/",
    "/treatments/professional-facial/",
    "/treatments/medical-grade-facial/",
    "/compare/",
    "/faqs/",
    "/guide/",
    "/guide/?concerns=acne-scars&sensitivity=very-sensitive&goal=long-term-change",
    "/privacy/",
    "/team/",
]
RESULT = "/guide/?concerns=acne-scars&concerns=congestion&sensitivity=very-sensitive&goal=long-term-change"


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.CONTENT_CACHE_SECONDS = 60
    settings.CONTENT_CACHE_MAX_AGE = MAX_AGE
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stored(monkeypatch):
    """The keys of the pages stored in the cache during the test, in order."""
    keys = []
    real_store = caching.store

    def spy(key, page, seconds):
        keys.append(key)
        real_store(key, page, seconds)

    monkeypatch.setattr(caching, "store", spy)
    return keys


def directives(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def body(response):
    if response.get("Content-Encoding") == "gzip":
        return gzip.decompress(response.content)
    return response.content


def test_a_cached_content_page_costs_no_query_but_the_content_version(
    client, django_assert_num_queries
):
    """
    With Redis (CI's PostgreSQL pass) the version is in Redis: no query at
    all. With a per-process memory cache it is one row of the database, the
    only place every process sees (treatments/caching.py).
    """
    first = client.get("/compare/")
    expected = 1 if versions.in_database() else 0
    with django_assert_num_queries(expected) as captured:
        second = client.get("/compare/")
    assert second.status_code == 200
    assert second.content == first.content
    assert all("treatments_contentversion" in query["sql"] for query in captured.captured_queries)


def test_an_edit_in_the_admin_shows_on_the_next_request(
    client, staff_client, django_capture_on_commit_callbacks
):
    client.get("/faqs/")
    faq = FAQ.objects.get(question__startswith="Do medical-grade facials have downtime")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/admin/treatments/faq/{faq.pk}/change/",
            {
                "question": faq.question,
                "answer": "Usually a day or two of mild redness.",
                "treatment": faq.treatment_id or "",
                "position": faq.position,
                "is_published": "on",
            },
        )
    assert response.status_code == 302
    assert "Usually a day or two of mild redness." in client.get("/faqs/").content.decode()


def test_a_change_to_a_shared_block_reaches_every_cached_page(
    client, django_capture_on_commit_callbacks
):
    client.get("/")
    client.get("/treatments/professional-facial/")
    block = ContentBlock.objects.get(key=ContentBlock.Key.CALL_TO_ACTION)
    block.heading = "Talk to our skin team"
    with django_capture_on_commit_callbacks(execute=True):
        block.save()
    assert "Talk to our skin team" in client.get("/").content.decode()
    assert (
        "Talk to our skin team" in client.get("/treatments/professional-facial/").content.decode()
    )


def test_unpublishing_a_treatment_takes_its_cached_page_down(
    client, django_capture_on_commit_callbacks
):
    assert client.get("/treatments/medical-grade-facial/").status_code == 200
    treatment = Treatment.objects.get(slug="medical-grade-facial")
    treatment.is_published = False
    with django_capture_on_commit_callbacks(execute=True):
        treatment.save()
    assert client.get("/treatments/medical-grade-facial/").status_code == 404


def test_an_edit_to_a_practitioner_reaches_the_cached_team_page(
    client, django_capture_on_commit_callbacks
):
    from booking.models import Practitioner

    assert "Maya Chen" in client.get("/team/").content.decode()
    maya = Practitioner.objects.get(slug="maya-chen")
    maya.is_published = False
    with django_capture_on_commit_callbacks(execute=True):
        maya.save()
    assert "Maya Chen" not in client.get("/team/").content.decode()


def test_the_booking_form_is_never_served_from_the_cache(client):
    token = re.compile(r'name="form_token" value="([^"]+)"')
    step_five = re.search(
        r'class="time-list-time" href="([^"#]+)', client.get("/book/").content.decode()
    )
    step_five = step_five.group(1).replace("&amp;", "&")
    first = token.search(client.get(step_five).content.decode()).group(1)
    second = token.search(client.get(step_five).content.decode()).group(1)
    assert first != second


def test_an_unchanged_page_revisited_with_its_etag_gets_304(client):
    first = client.get("/treatments/")
    etag = first["ETag"]
    again = client.get("/treatments/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_a_booking_does_not_invalidate_the_content_cache(django_capture_on_commit_callbacks):
    before = caching.CONTENT.current()
    with django_capture_on_commit_callbacks(execute=True):
        booking = make_booking(starts_at=utc(2030, 1, 7, 14), full_name="Ana")
    with django_capture_on_commit_callbacks(execute=True):
        booking.concerns.set(SkinConcern.objects.all()[:2])
    assert caching.CONTENT.current() == before


# Edits made outside the process serving the pages: a management command, a
# shell, another worker. Without Redis each process has its own memory cache,
# so the content version has to live where every process sees it.

EDIT_AN_FAQ = """
from treatments.models import FAQ
faq = FAQ.objects.get(question__startswith="Do medical-grade facials have downtime")
faq.answer = "Edited from another process: a day or two of mild redness."
faq.save()
"""


def test_an_edit_from_another_process_shows_on_the_next_request_without_redis(
    tmp_path, sqlite_site
):
    # The local settings with no REDIS_URL (as `make run`), each process with its
    # own memory cache, pages cached for the default ten minutes.
    site = Site(tmp_path, DATABASE_URL=f"sqlite:///{sqlite_site.path}")
    site.start()
    try:
        visitor = site.visitor()
        before = visitor.get("/faqs/")
        assert before.status == 200
        assert visitor.get("/faqs/").text == before.text  # served from the cache now

        site.manage("shell", "-c", EDIT_AN_FAQ)

        after = visitor.get("/faqs/")
        assert "Edited from another process" in after.text
    finally:
        site.stop()


# How a cached page is sent


@pytest.mark.parametrize("path", CACHED_PAGES)
def test_a_cached_page_is_sent_as_it_was_the_first_time(client, path):
    """The first response (rendered) and the next (from the cache) are the same, headers and all."""
    first = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    again = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})

    assert first.status_code == again.status_code == 200
    assert first.templates and not again.templates  # rendered once
    assert again.content == first.content
    assert dict(again.headers) == dict(first.headers)


def test_a_cached_page_is_stored_gzipped_with_its_etag(client):
    client.get("/compare/")
    plain = client.get("/compare/")
    with (
        mock.patch("django.middleware.gzip.compress_string") as gzips,
        mock.patch("django.middleware.http.set_response_etag") as hashes,
    ):
        zipped = client.get("/compare/", headers={"Accept-Encoding": "gzip"})
    gzips.assert_not_called()
    hashes.assert_not_called()

    assert zipped["Content-Encoding"] == "gzip"
    assert zipped["Content-Length"] == str(len(zipped.content))
    assert gzip.decompress(zipped.content) == plain.content
    assert "Content-Encoding" not in plain
    # One ETag for both encodings, so it is weak; the same on every hit.
    assert zipped["ETag"] == plain["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', zipped["ETag"])
    assert client.get("/compare/", headers={"Accept-Encoding": "gzip"})["ETag"] == zipped["ETag"]
    assert zipped["Vary"] == plain["Vary"] == "Accept-Encoding"


def test_a_cached_page_revisited_with_its_etag_gets_304(client):
    first = client.get("/faqs/", headers={"Accept-Encoding": "gzip"})
    for encoding in ("gzip", "identity"):
        again = client.get(
            "/faqs/", headers={"Accept-Encoding": encoding, "If-None-Match": first["ETag"]}
        )
        assert again.status_code == 304
        assert again.content == b""
        assert again["ETag"] == first["ETag"]
        assert directives(again) == {"public", f"max-age={MAX_AGE}"}
    changed = client.get("/faqs/", headers={"If-None-Match": 'W/"something-else"'})
    assert changed.status_code == 200


@pytest.mark.parametrize("path", CACHED_PAGES)
def test_content_pages_may_be_kept_by_browsers_and_shared_caches(client, path):
    for response in (client.get(path), client.get(path)):
        assert directives(response) == {"public", f"max-age={MAX_AGE}"}
        assert response["Vary"] == "Accept-Encoding"
        assert "Set-Cookie" not in response


def test_booking_and_staff_pages_stay_private_and_unstored(staff_client):
    visitor = Client()
    shown = visitor.get(BOOK_URL)
    _, data = filled_booking_form(visitor)
    booked = visitor.post(BOOK_URL, data)
    booking = received_booking(booked)
    received = visitor.get(booked.url)
    managed = visitor.get(booking.get_manage_url())
    staff = [
        staff_client.get("/admin/"),
        staff_client.get("/admin/booking/consultationbooking/"),
        staff_client.get("/admin/treatments/faq/"),
    ]
    signed_out = Client().get("/admin/login/")

    for response in (shown, booked, received, managed, *staff, signed_out):
        assert response.status_code in (200, 302)
        assert {"private", "no-store"} <= directives(response), response.get("Cache-Control")
        assert "public" not in directives(response)


def test_a_visitor_with_a_session_gets_the_cached_page_without_touching_it(staff_client):
    Client().get("/treatments/")  # cached by a visitor without a session
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load") as load:
        response = staff_client.get("/treatments/")
    load.assert_not_called()
    assert response.status_code == 200
    assert not response.templates  # from the cache
    assert "Set-Cookie" not in response
    assert "Cookie" not in response["Vary"]


def test_the_cache_read_is_one_round_trip_with_redis(client, django_assert_num_queries):
    if versions.in_database():
        pytest.skip("runs with REDIS_URL (CI's PostgreSQL pass): one MGET of the version and page")
    client.get("/compare/")
    with (
        mock.patch.object(cache, "get", side_effect=AssertionError("a second read")),
        mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many,
        django_assert_num_queries(0),
    ):
        assert client.get("/compare/").status_code == 200
    get_many.assert_called_once()


def test_a_page_stored_under_an_older_version_is_never_served(
    client, django_capture_on_commit_callbacks
):
    first = client.get("/faqs/")
    block = ContentBlock.objects.get(key=ContentBlock.Key.CALL_TO_ACTION)
    block.heading = "Talk to our skin team"
    with django_capture_on_commit_callbacks(execute=True):
        block.save()
    again = client.get("/faqs/", headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert "Talk to our skin team" in again.content.decode()


def test_the_page_cache_unavailable_renders_the_page(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(caching, "read", broken)
    monkeypatch.setattr(caching, "store", broken)
    response = client.get("/compare/")
    assert response.status_code == 200
    assert "public" not in directives(response)


# The guide's results


def test_a_guide_result_is_served_from_the_cache_the_second_time(
    client, django_assert_max_num_queries
):
    first = client.get(RESULT)
    with django_assert_max_num_queries(1 if versions.in_database() else 0):
        again = client.get(RESULT)
    assert again.status_code == 200
    assert again.content == first.content
    assert 'id="result-heading"' in again.content.decode()


def test_the_same_answers_in_another_order_share_one_cached_result(client, stored):
    first = client.get(RESULT)
    for same in (
        "/guide/?goal=long-term-change&concerns=congestion&sensitivity=very-sensitive&concerns=acne-scars",
        "/guide/?concerns=congestion&concerns=acne-scars&concerns=congestion&sensitivity=very-sensitive&goal=long-term-change",
        f"{RESULT}&utm_source=newsletter",
    ):
        assert client.get(same).content == first.content
    assert len(stored) == 1


def test_different_answers_get_their_own_result(client, stored):
    professional = client.get(
        "/guide/?concerns=mild-dryness-or-dullness&sensitivity=very-sensitive&goal=short-term-glow"
    )
    medical = client.get(RESULT)
    assert "Our suggestion: professional facial" in professional.content.decode()
    assert "Our suggestion: medical-grade facial" in medical.content.decode()
    assert len(set(stored)) == 2


def test_an_edit_to_an_answer_reaches_the_cached_result(client, django_capture_on_commit_callbacks):
    client.get(RESULT)
    goal = SkinGoal.objects.get(slug="long-term-change")
    goal.reason = "Lasting change comes from treatments that work below the surface."
    with django_capture_on_commit_callbacks(execute=True):
        goal.save()
    assert goal.reason in client.get(RESULT).content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "concerns=no-such-concern&sensitivity=very-sensitive&goal=long-term-change",
        "concerns=acne-scars&goal=long-term-change",
        "sensitivity=very-sensitive",
        "utm_source=newsletter",
        "concerns=" + "x" * 5000 + "&sensitivity=very-sensitive&goal=long-term-change",
        "&".join(f"concerns=c{n}" for n in range(200))
        + "&sensitivity=very-sensitive&goal=long-term-change",
    ],
    ids=["unknown", "missing", "partial", "unrelated", "long", "many"],
)
def test_answers_the_form_refuses_are_shown_with_errors_and_never_cached(client, stored, query):
    for _ in range(2):
        response = client.get(f"/guide/?{query}")
        assert response.status_code == 200
        assert 'id="error-summary"' in response.content.decode()
        assert "public" not in directives(response)
    assert stored == []


@pytest.mark.parametrize(
    "query",
    [
        "concerns=acne-scars%00&sensitivity=very-sensitive&goal=long-term-change",
        "&".join(f"concerns=c{n}" for n in range(1200)),
    ],
    ids=["nul", "too-many-fields"],
)
def test_a_guide_query_refused_outright_is_a_400_and_never_cached(client, stored, query):
    assert client.get(f"/guide/?{query}").status_code == 400
    assert stored == []


def test_a_guide_result_key_is_bounded_whatever_the_answers():
    from django.test import RequestFactory

    from treatments.views import GuideView

    request = RequestFactory().get(
        "/guide/", {"concerns": ["a" * 90] * 3 + ["b" * 90], "sensitivity": "c" * 99, "goal": "d"}
    )
    key = GuideView.page_cache_key(request)
    assert len(key) < 100


# The guide's form loads each list of answers once


def test_the_guide_form_loads_each_list_of_answers_once(
    client, settings, django_assert_num_queries
):
    """Three lists, one query each, for showing the choices and checking the answers alike."""
    settings.CONTENT_CACHE_SECONDS = 0  # rendered every time
    every_concern = list(SkinConcern.objects.values_list("slug", flat=True))
    with django_assert_num_queries(6) as captured:  # + the page, the shared blocks, the factors
        response = client.get(
            "/guide/",
            {
                "concerns": every_concern,
                "sensitivity": "very-sensitive",
                "goal": "long-term-change",
            },
        )
    assert response.status_code == 200
    answer_tables = ("treatments_skinconcern", "treatments_skinsensitivity", "treatments_skingoal")
    for table in answer_tables:
        assert sum(table in query["sql"].split(" WHERE ")[0] for query in captured) == 1
    assert not any("CURSOR" in query["sql"] for query in captured)


def test_the_redis_cache_builds_its_client_once():
    """Django's builds a redis.Redis for every call; clinic_site.cache keeps one per pool."""
    from clinic_site.cache import RedisCache

    backend = RedisCache("redis://127.0.0.1:6379/0;redis://127.0.0.1:6379/1", {})
    client = backend._cache
    writer = client.get_client(write=True)
    assert client.get_client(write=True) is writer
    assert client.get_client("key", write=True) is writer
    readers = {id(client.get_client()) for _ in range(20)}
    assert len(readers) == 1  # the one other server's
    assert client.get_client().connection_pool is client._pools[1]
    assert writer.connection_pool is client._pools[0]


class PlainPage(caching.CachedPageMixin, TemplateView):
    template_name = "robots.txt"


class SessionPage(PlainPage):
    def get_context_data(self, **kwargs):
        self.request.session.get("seen")
        return super().get_context_data(**kwargs)


def with_session(request):
    SessionMiddleware(lambda request: None).process_request(request)
    return request


def test_the_view_caches_by_itself_without_the_middleware(rf, stored):
    first = PlainPage.as_view()(with_session(rf.get("/plain/")))
    again = PlainPage.as_view()(with_session(rf.get("/plain/")))
    assert first.status_code == again.status_code == 200
    assert stored == [caching.page_key("/plain/")]
    assert again.content == first.content
    assert directives(again) == {"public", f"max-age={MAX_AGE}"}


def test_a_page_that_read_the_visitors_session_is_never_stored(rf, stored):
    response = SessionPage.as_view()(with_session(rf.get("/session/")))
    assert response.status_code == 200
    assert stored == []
    assert "public" not in directives(response)
