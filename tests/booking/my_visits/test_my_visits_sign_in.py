"""
Signing in to "My visits" without a password: the address form answers
everyone alike, the emailed link works once for 30 minutes, and the session
it starts holds only the address, lasts 7 days and is never a staff one.
"""

import re
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from booking.models import SignInLink
from booking.services import my_visits
from booking.views.client_session import SESSION_KEY
from tests.support.booking import book, clinic_clock, main_text, page
from tests.support.my_visits import MY_VISITS, SIGN_IN, link_path, sign_in_as

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/my-visits/link/[^\s]+/)")
SAME_ANSWER = "If we hold bookings for this address, we have emailed you a link."


def emailed_link(address):
    for message in mail.outbox:
        if address in message.to:
            return LINK.search(message.body)[1]
    raise AssertionError(f"no link emailed to {address}")


@pytest.fixture
def client_booking():
    return book(email="Ada.Quinterra@Example.com")


def test_the_footer_and_booking_emails_lead_to_my_visits(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(email="Ada.Quinterra@Example.com")
    document = page(client.get("/"))
    footer = document.find("footer")
    assert any(link.attrs.get("href") == MY_VISITS for link in footer.find_all("a"))
    receipt = next(message for message in mail.outbox if "Ada.Quinterra" in message.to[0])
    assert "/my-visits/" in receipt.body


def test_the_answer_is_identical_for_a_client_and_a_stranger(client_booking):
    answers = []
    for address in ["ada.quinterra@example.com", "nobody.here@example.com"]:
        browser = Client()
        browser.get(MY_VISITS)  # the form, and its CSRF cookie
        with mock.patch("booking.services.my_visits.send_sign_in_link") as task:
            posted = browser.post(SIGN_IN, {"email": address})
        landing = browser.get(posted.url)
        answers.append(
            {
                "status": (posted.status_code, landing.status_code),
                "location": posted.headers.get("Location"),
                "headers": {
                    name: (posted.headers.get(name), landing.headers.get(name))
                    for name in ["Content-Type", "Cache-Control", "Retry-After", "Vary"]
                },
                "cookies": sorted(posted.cookies),
                "body": (posted.content, landing.content),
                # One task queued either way: the worker decides whether to send.
                "tasks": [call.args for call in task.enqueue.call_args_list],
            }
        )
    client_answer, stranger_answer = answers
    assert client_answer["tasks"] == [("ada.quinterra@example.com",)]
    assert stranger_answer["tasks"] == [("nobody.here@example.com",)]
    del client_answer["tasks"], stranger_answer["tasks"]
    assert client_answer == stranger_answer
    assert client_answer["status"] == (302, 200)
    assert SAME_ANSWER in main_text(page(landing))


def test_the_worker_emails_a_link_to_a_client_and_nothing_to_a_stranger(client, client_booking):
    mail.outbox.clear()
    client.post(SIGN_IN, {"email": "  ADA.quinterra@example.COM "})
    client.post(SIGN_IN, {"email": "nobody.here@example.com"})
    assert [message.to for message in mail.outbox] == [["ada.quinterra@example.com"]]
    assert SignInLink.objects.count() == 1
    # Only the secret's hash is stored: the link's token is nowhere in the table.
    token = emailed_link("ada.quinterra@example.com").split("/")[-2]
    assert not SignInLink.objects.filter(token_hash=token).exists()


def test_the_link_signs_in_once_and_a_replay_is_refused_with_a_new_link_form(
    client, client_booking
):
    client.post(SIGN_IN, {"email": client_booking.email})
    path = emailed_link(client_booking.email.lower())
    # Opening the link (a mail scanner does) signs nobody in and uses nothing.
    shown = client.get(path)
    assert shown.status_code == 200
    assert page(shown).find("button").text == "Sign in"
    assert client.get(MY_VISITS).content.count(client_booking.reference.encode()) == 0
    signed_in = client.post(path)
    assert signed_in.status_code == 302 and signed_in.url == MY_VISITS
    assert client_booking.reference in main_text(page(client.get(MY_VISITS)))

    replay = Client().post(path)
    assert replay.status_code == 410
    assert "This link has been used" in main_text(page(replay))
    assert page(replay).find("input", name="email") is not None
    assert Client().get(path).status_code == 410


def test_an_expired_link_is_refused_with_a_clear_page(client, client_booking):
    _, token = SignInLink.issue(client_booking.email)
    with clinic_clock(timezone.now() + timedelta(minutes=31)):
        refused = client.post(link_path(token))
    assert refused.status_code == 410
    assert "This link has expired" in main_text(page(refused))
    assert SESSION_KEY not in client.session


def test_a_link_still_works_at_twenty_nine_minutes(client, client_booking):
    _, token = SignInLink.issue(client_booking.email)
    with clinic_clock(timezone.now() + timedelta(minutes=29)):
        assert client.post(link_path(token)).status_code == 302


@pytest.mark.parametrize(
    "token", ["made-up", "x" * 300, "%00", "../../admin", "ÄÖÜ", "' OR 1=1 --"]
)
def test_a_tampered_or_made_up_link_is_refused_never_a_500(client, client_booking, token):
    _, real = SignInLink.issue(client_booking.email)
    for candidate in [token, real[:-1] + ("A" if real[-1] != "A" else "B")]:
        for method in (client.get, client.post):
            response = method(f"/my-visits/link/{candidate}/")
            assert response.status_code in {404, 400}, (candidate, response.status_code)
    assert SESSION_KEY not in client.session


def test_a_link_opened_in_a_second_browser_leaves_the_first_signed_in(client_booking):
    _, token = SignInLink.issue(client_booking.email)
    first, second = Client(), Client()
    assert first.post(link_path(token)).status_code == 302
    refused = second.post(link_path(token))
    assert refused.status_code == 410
    assert client_booking.reference not in refused.content.decode()
    assert client_booking.reference in main_text(page(first.get(MY_VISITS)))
    assert "Email me a link" in main_text(page(second.get(MY_VISITS)))


def test_a_link_for_another_address_signs_in_for_that_address_only(client_booking):
    other = book(email="bo.other@example.com")
    browser = sign_in_as(Client(), "bo.other@example.com")
    assert other.reference in main_text(page(browser.get(MY_VISITS)))
    sign_in_as(browser, "ada.quinterra@example.com")
    text = main_text(page(browser.get(MY_VISITS)))
    assert client_booking.reference in text
    assert other.reference not in text


def test_two_uses_of_one_link_sign_in_once(client_booking):
    _, token = SignInLink.issue(client_booking.email)
    assert my_visits.use_sign_in_link(token=token) == client_booking.email.lower()
    with pytest.raises(my_visits.LinkRefused) as refusal:
        my_visits.use_sign_in_link(token=token)
    assert refusal.value.reason == "used"


def test_the_session_holds_only_the_address_and_ends_after_seven_days(client, client_booking):
    before = client.cookies.get("sessionid")
    sign_in_as(client, client_booking.email)
    session = client.session
    assert dict(session) == {
        SESSION_KEY: {"email": "ada.quinterra@example.com", "until": mock.ANY},
        "_session_expiry": mock.ANY,
    }
    cookie = client.cookies["sessionid"]
    assert before is None or cookie.value != before.value
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) in {7 * 24 * 3600 - 1, 7 * 24 * 3600}
    with clinic_clock(timezone.now() + timedelta(days=6, hours=23)):
        assert client_booking.reference in main_text(page(client.get(MY_VISITS)))
    with clinic_clock(timezone.now() + timedelta(days=7, minutes=1)):
        assert "Email me a link" in main_text(page(client.get(MY_VISITS)))


def test_sign_out_ends_the_sign_in(client, client_booking):
    sign_in_as(client, client_booking.email)
    response = client.post("/my-visits/sign-out/", follow=True)
    assert "You are signed out" in main_text(page(response))
    assert SESSION_KEY not in client.session
    assert client_booking.reference not in client.get(MY_VISITS).content.decode()


def test_a_client_session_is_not_a_staff_session(client, client_booking):
    sign_in_as(client, client_booking.email)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your email address."),
        ("a" * 300 + "@example.com", "Ensure this value has at most 254 characters"),
        ("not an address", "Enter an email address like name@example.com."),
        ("ada\u200b@example.com", "invisible control characters"),
        ('"<script>"@example.com', "without quotation marks"),
        ("ada@[127.0.0.1]", "not an IP address"),
        ("' OR 1=1 --@example.com", "Enter an email address like name@example.com."),
    ],
)
def test_a_huge_or_hostile_address_gets_a_clear_message(client, typed, message):
    with mock.patch("booking.services.my_visits.send_sign_in_link") as task:
        response = client.post(SIGN_IN, {"email": typed})
    assert response.status_code == 200
    assert message in main_text(page(response))
    task.enqueue.assert_not_called()


@override_settings(MY_VISITS_LINKS_PER_ADDRESS=2, MY_VISITS_LINKS_PER_IP=50)
def test_links_are_limited_per_address_with_retry_after(client, client_booking):
    for _ in range(2):
        assert client.post(SIGN_IN, {"email": "ada.quinterra@example.com"}).status_code == 302
    refused = client.post(SIGN_IN, {"email": "ADA.Quinterra@example.com"})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "900"
    # Another address from the same connection is not held back by it.
    assert client.post(SIGN_IN, {"email": "bo.other@example.com"}).status_code == 302


@override_settings(MY_VISITS_LINKS_PER_ADDRESS=50, MY_VISITS_LINKS_PER_IP=3)
def test_links_are_limited_per_ip_address(client):
    for n in range(3):
        assert client.post(SIGN_IN, {"email": f"person{n}@example.com"}).status_code == 302
    refused = client.post(SIGN_IN, {"email": "person9@example.com"})
    assert refused.status_code == 429
    assert "Please wait a few minutes" in main_text(page(refused))
    other_ip = Client(REMOTE_ADDR="192.0.2.9")
    assert other_ip.post(SIGN_IN, {"email": "person9@example.com"}).status_code == 302


def test_bookings_belong_to_their_address_in_any_case_and_follow_a_staff_correction(client):
    mine = book(email="Ada.Quinterra@Example.com")
    typo = book(email="ada.quinterr@example.com")
    sign_in_as(client, "ada.quinterra@example.com")
    text = main_text(page(client.get(MY_VISITS)))
    assert mine.reference in text and typo.reference not in text
    # Staff correct the typo in the admin: the booking moves with the correction.
    typo.email = "ADA.QUINTERRA@example.com"
    typo.save()
    assert typo.reference in main_text(page(client.get(MY_VISITS)))
    mine.email = "someone.else@example.com"
    mine.save()
    assert mine.reference not in main_text(page(client.get(MY_VISITS)))


# A sign-in email the mail server did not take: tried again later with a new
# link (production's task backend runs a task at a given time), never logged
# with the address, given up after the last try or a permanent refusal, and
# never retried for a fault of ours (a template that does not render).


def mail_server_failing(error, times):
    """The test mail backend's send, refusing the first `times` messages as a server might."""
    real_send = EmailBackend.send_messages
    left = [times]

    def send_messages(backend, messages):
        if left[0]:
            left[0] -= 1
            raise error
        return real_send(backend, messages)

    return send_messages


def sign_in_tries():
    """The sign-in email's tasks, in the order queued: (status, run_after, attempt asked for)."""
    rows = DBTaskResult.objects.filter(task_path__endswith="send_sign_in_link")
    return [
        (row.status, row.run_after, row.args_kwargs["kwargs"].get("attempt", 1))
        for row in rows.order_by("enqueued_at")
    ]


def let_the_next_try_run():
    """The worker runs a task only once its time has come: bring it forward."""
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())


def test_a_sign_in_email_the_mail_server_refused_is_sent_later_with_a_working_link(
    client, client_booking, database_tasks, run_worker, caplog
):
    failing = mail_server_failing(
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), 2
    )
    with mock.patch.object(EmailBackend, "send_messages", failing):
        my_visits.request_sign_in_link(email="ada.quinterra@example.com")
        asked_at = timezone.now()
        run_worker()
        [_, (_, second_try_at, _)] = sign_in_tries()
        # The second try is due a minute after the first; the third, four after the second.
        assert second_try_at - asked_at > timedelta(seconds=59)
        let_the_next_try_run()
        moved_at = timezone.now()
        run_worker()

        tries = sign_in_tries()
        assert [(status, attempt) for status, _, attempt in tries] == [
            ("SUCCESSFUL", 1),
            ("SUCCESSFUL", 2),
            ("READY", 3),
        ]
        assert tries[2][1] - moved_at > timedelta(minutes=3, seconds=59)
        assert mail.outbox == []
        # Each try issued a link of its own; the failed ones are left to expire.
        assert SignInLink.objects.count() == 2

        let_the_next_try_run()
        run_worker()

    [message] = mail.outbox
    assert SignInLink.objects.count() == 3
    response = client.post(emailed_link("ada.quinterra@example.com"))
    assert response.status_code == 302 and response.url == MY_VISITS
    warnings = [
        record.getMessage() for record in caplog.records if "sign-in email" in record.getMessage()
    ]
    assert len(warnings) == 2 and all("SMTPServerDisconnected" in text for text in warnings)
    assert not any("quinterra" in record.getMessage().lower() for record in caplog.records)


def test_a_sign_in_email_is_given_up_after_its_last_try(
    client_booking, database_tasks, run_worker, caplog
):
    failing = mail_server_failing(smtplib.SMTPServerDisconnected("down"), 99)
    with mock.patch.object(EmailBackend, "send_messages", failing):
        my_visits.request_sign_in_link(email="ada.quinterra@example.com")
        for _ in range(len(my_visits.SIGN_IN_RETRY_MINUTES) + 2):
            run_worker()
            let_the_next_try_run()

    attempts = [attempt for _, _, attempt in sign_in_tries()]
    assert attempts == list(range(1, len(my_visits.SIGN_IN_RETRY_MINUTES) + 2))
    assert mail.outbox == []
    assert SignInLink.objects.count() == len(my_visits.SIGN_IN_RETRY_MINUTES) + 1
    [given_up] = [record for record in caplog.records if "given up" in record.getMessage()]
    assert given_up.levelname == "ERROR"


def test_a_sign_in_email_refused_for_good_is_not_tried_again(
    client_booking, database_tasks, run_worker
):
    no_such_mailbox = smtplib.SMTPRecipientsRefused(
        {"ada.quinterra@example.com": (550, b"5.1.1 No such mailbox")}
    )
    with mock.patch.object(EmailBackend, "send_messages", mail_server_failing(no_such_mailbox, 1)):
        my_visits.request_sign_in_link(email="ada.quinterra@example.com")
        run_worker()

    assert [attempt for _, _, attempt in sign_in_tries()] == [1]


def test_without_a_backend_that_runs_tasks_later_a_failed_sign_in_email_is_logged(
    client_booking, caplog
):
    # The test settings' ImmediateBackend runs tasks at once and cannot run one later.
    failing = mail_server_failing(smtplib.SMTPServerDisconnected("down"), 1)
    with mock.patch.object(EmailBackend, "send_messages", failing):
        my_visits.request_sign_in_link(email="ada.quinterra@example.com")

    assert mail.outbox == []
    assert any("given up" in record.getMessage() for record in caplog.records)


def test_a_sign_in_email_that_cannot_be_written_is_not_taken_for_a_mail_server_failure(
    client_booking, database_tasks, run_worker
):
    with mock.patch(
        "booking.services.my_visits.render_to_string", side_effect=ValueError("a template bug")
    ):
        my_visits.request_sign_in_link(email="ada.quinterra@example.com")
        run_worker()

    [(status, _, attempt)] = sign_in_tries()
    assert (status, attempt) == ("FAILED", 1)
