"""
The shared version numbers in Redis (clinic_site/versions.py): a request
reads each at most once, sees its own changes at once and another
process's from its next request; and the cache's counter
(clinic_site/cache.py) starts and raises a number in one round trip.
These run in the pass with Redis, as production keeps them.
"""

from unittest import mock

import pytest
import redis.connection
from django.core.cache import cache

from clinic_site.cache import RedisCache, incr_or_add
from clinic_site.versions import Remembered, SharedVersion, read_once

pytestmark = pytest.mark.django_db

FIRST = SharedVersion("test-first-version", None)
SECOND = SharedVersion("test-second-version", None)


@pytest.fixture(autouse=True)
def in_redis():
    from django.core.cache import caches

    assert isinstance(caches["default"], RedisCache), "this pass keeps the numbers in Redis"


@pytest.fixture
def round_trips():
    """How many times this process sent something to Redis."""
    with mock.patch.object(
        redis.connection.Connection,
        "send_packed_command",
        autospec=True,
        side_effect=redis.connection.Connection.send_packed_command,
    ) as sent:
        yield sent


class Kept:
    """Something a process keeps between changes, and how many times it was read."""

    def __init__(self, value):
        self.value, self.reads = value, 0
        self.remembered = Remembered([FIRST, SECOND], self.read, enabled=lambda: True)

    def read(self):
        self.reads += 1
        return self.value


def test_a_request_reads_the_numbers_once_for_everything_it_keeps(round_trips):
    kept = [Kept("rules"), Kept("hours"), Kept("choices")]
    for each in kept:
        each.remembered()  # What the process kept from an earlier request.
    round_trips.reset_mock()

    with read_once():
        values = [each.remembered() for each in kept]

    assert values == ["rules", "hours", "choices"]
    assert round_trips.call_count == 1
    assert [each.reads for each in kept] == [1, 1, 1]


def test_without_a_request_each_call_reads_the_numbers(round_trips):
    kept = Kept("rules")
    kept.remembered()
    round_trips.reset_mock()

    for _ in range(3):
        kept.remembered()

    assert round_trips.call_count == 3


def test_another_processs_change_is_seen_by_the_next_request():
    kept = Kept("old hours")
    with read_once():
        assert kept.remembered() == "old hours"
        # Another process commits new hours and raises the number.
        kept.value = "new hours"
        cache.incr(FIRST.cache_key)
        assert kept.remembered() == "old hours"  # Read as the request began.

    with read_once():
        assert kept.remembered() == "new hours"


def test_a_requests_own_change_is_seen_at_once():
    kept = Kept("old hours")
    with read_once():
        assert kept.remembered() == "old hours"
        kept.value = "new hours"
        SECOND.bump_cached()  # This request's change, committed.

        assert kept.remembered() == "new hours"


def test_raising_a_number_is_one_round_trip(round_trips):
    FIRST.bump_cached()  # Redis had none: it starts from the clock.
    started = cache.get(FIRST.cache_key)
    round_trips.reset_mock()

    FIRST.bump_cached()

    assert round_trips.call_count == 1
    assert cache.get(FIRST.cache_key) == started + 1
    assert started > 1_000_000_000_000_000  # Microseconds since 1970: never a small number.


def redis_ttl(key):
    client = cache._cache.get_client(write=True)
    return client.ttl(cache.make_and_validate_key(key))


def test_the_counter_starts_from_initial_for_the_timeout_and_counts_up(round_trips):
    counted = [incr_or_add("test-counter", initial=0, timeout=60) for _ in range(3)]

    assert counted == [1, 2, 3]
    assert round_trips.call_count == 3
    assert cache.get("test-counter") == 3
    # The period is set by the call that starts the counter.
    assert 0 < redis_ttl("test-counter") <= 60
    cache.delete("test-counter")
    assert incr_or_add("test-counter", initial=10, timeout=None) == 11
    assert redis_ttl("test-counter") == -1  # Kept until deleted.
