"""
A NUL character in a request: PostgreSQL refuses any query that carries one
(DataError), so a session cookie or an admin list filter holding one was a
500 with a traceback in the log, for anyone, signed in or not. No browser
sends one: the site answers its own 400 page (404 for a path) before
anything reaches the database, on SQLite as on PostgreSQL (these tests run
in both passes).
"""

import logging

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.every_database]

BAD_REQUEST_PAGE = "We could not understand that request"


def assert_bad_request_page(response, caplog):
    assert response.status_code == 400, f"answered {response.status_code}"
    assert BAD_REQUEST_PAGE in response.content.decode()
    assert "Content-Security-Policy" in response.headers
    alarming = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not alarming, [record.getMessage() for record in alarming]
    assert not any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize(
    ("changelist", "query"),
    [
        ("/admin/booking/consultationbooking/", "status__exact=%00"),
        ("/admin/booking/consultationbooking/", "q=%00"),
        ("/admin/booking/consultationbooking/", "day=%00"),
        ("/admin/booking/outboundemail/", "status__exact=%00"),
        ("/admin/booking/outboundemail/", "kind__exact=%00"),
        ("/admin/treatments/faq/", "is_published__exact=%00"),
        ("/admin/treatments/treatment/", "q=a%00b"),
        ("/admin/booking/consultationbooking/", "%00=1"),
    ],
)
def test_nul_in_an_admin_list_filter_gets_the_400_page(admin_client, caplog, changelist, query):
    response = admin_client.get(f"{changelist}?{query}")

    assert_bad_request_page(response, caplog)


@pytest.mark.parametrize("path", ["/", "/book/", "/faqs/", "/admin/", "/admin/login/"])
@pytest.mark.parametrize(
    "cookie",
    [
        "sessionid=abcdefgh\x00ijklmnop",
        # A quoted cookie value's octal escape becomes a NUL once parsed,
        # though the header itself holds none.
        'sessionid="abcdefgh\\000ijklmnop"',
        "messages=\x00",
    ],
    ids=["raw", "octal escape", "other cookie"],
)
def test_cookie_holding_nul_gets_the_400_page_without_signing_in(client, caplog, path, cookie):
    response = client.get(path, HTTP_COOKIE=cookie)

    assert_bad_request_page(response, caplog)


def test_nul_in_a_header_gets_the_400_page(client, caplog):
    # django-axes records a failed sign-in's user agent in the database.
    response = client.post(
        "/admin/login/",
        {"username": "desk", "password": "guess"},
        HTTP_USER_AGENT="Mozilla\x00",
    )

    assert_bad_request_page(response, caplog)


@pytest.mark.parametrize(
    "path",
    [
        "/treatments/%00/",
        "/book/manage/%00/",
        "/book/received/%00/",
        "/admin/auth/user/%00/change/",
        "/%00",
    ],
)
def test_nul_in_the_path_gets_the_404_page(admin_client, caplog, path):
    response = admin_client.get(path)

    assert response.status_code == 404, f"answered {response.status_code}"
    assert "We could not find that page" in response.content.decode()
    assert "Content-Security-Policy" in response.headers
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_request_without_nul_is_served_as_before(client):
    assert client.get("/book/?treatment=medical-grade-facial&from=2030-01-07").status_code == 200
    assert client.get("/faqs/", HTTP_COOKIE="sessionid=abcdefghijklmnop").status_code == 200
