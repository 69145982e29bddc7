"""
The health questions in a real browser: answered with the keyboard alone,
checked ("Check my answers") to see what they mean before the request is
sent, and axe-clean in each state (asked, with errors, with the outcome).
"""

import pytest
from playwright.sync_api import expect

from booking.models import ConsultationBooking, ScreeningOutcome
from tests.support.browser import VISITOR, axe_violations, reference_on, tab_to, tab_to_id
from tests.support.screening import key, publish_example

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("axe_script"),
]

MEDICAL_PAGE = "/book/?type=medical-grade-facial-consultation&practitioner=daniel-okafor"
PREGNANT = "Are you pregnant, or could you be?"
INFECTION = "Do you have an active skin infection or a cold sore at the moment?"
RETINOID = (
    "Have you used a retinoid cream or serum (such as tretinoin or retinol) in the past week?"
)
PEEL = "When did you last have injectables or a chemical peel?"
ALLERGIES = "Do you have any known allergies? If so, which?"
ISOTRETINOIN = "When did you last take isotretinoin (for example Accutane)?"


def choose_with_arrows(page, field_id, presses):
    """Tab into a radio group (its first option) and move to an option with the arrow keys."""
    tab_to_id(page, f"{field_id}_0")
    for _ in range(presses):
        page.keyboard.press("ArrowDown")
    if presses == 0:
        page.keyboard.press("Space")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_health_questions_are_answered_with_the_keyboard_and_axe_clean(open_page, javascript):
    version = publish_example()
    field = {
        text: f"id_q_{key(version, text)}"
        for text in [PREGNANT, ISOTRETINOIN, INFECTION, RETINOID, PEEL, ALLERGIES]
    }
    # axe needs JavaScript: with it off, the journey proves the keyboard
    # booking works; the states it passes through (the same markup, no
    # htmx in a POST's page) are audited in the run with it on.
    page = open_page(MEDICAL_PAGE, javascript=javascript)
    # Step 4's first time, by keyboard: the request form (step 5) follows
    # with the questions, the consultation's card having said they would.
    expect(page.locator(".booking-card[aria-current]").first).to_contain_text(
        "A few health questions follow"
    )
    tab_to(page, lambda focus: "time-list-time" in focus["classes"])
    page.keyboard.press("Enter")
    page.locator("form#booking-request").wait_for()
    if javascript:
        expect(page.locator("#step-details")).to_be_focused()
    section = page.locator("fieldset.health-questions")
    expect(section.locator("legend").first).to_have_text("Health questions")
    assert not javascript or axe_violations(page) == []

    # Checked before anything is answered: the questions' errors, axe-clean.
    tab_to(page, lambda focus: "Check my answers" in focus["description"])
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(section.locator(".invalid-feedback").first).to_be_visible()
    expect(page.locator("#health-errors")).to_be_focused()
    assert not javascript or axe_violations(page) == []

    # Each question, by keyboard: arrows within a yes/no group (its first
    # option is "Yes"), typing in the text boxes, Space on the consent.
    choose_with_arrows(page, field[PREGNANT], 1)
    tab_to_id(page, field[ISOTRETINOIN])
    page.keyboard.type("2020-01-15")
    choose_with_arrows(page, field[INFECTION], 1)
    choose_with_arrows(page, field[RETINOID], 1)
    choose_with_arrows(page, field[PEEL], 0)
    tab_to_id(page, field[ALLERGIES])
    page.keyboard.type("Latex")
    tab_to_id(page, "id_health_consent")
    page.keyboard.press("Space")
    tab_to(page, lambda focus: "Check my answers" in focus["description"])
    page.keyboard.press("Enter")
    page.wait_for_load_state()

    outcome = page.locator("#health-outcome")
    expect(outcome).to_contain_text("Your practitioner will read your answers")
    expect(outcome).to_be_focused()
    expect(page.get_by_label("No").first).to_be_checked()
    expect(page.locator(f"#{field[ALLERGIES]}")).to_have_value("Latex")
    assert not javascript or axe_violations(page) == []

    # The client's details, then the request, by keyboard.
    for name, value in VISITOR.items():
        tab_to_id(page, f"id_{name}")
        page.keyboard.type(value)
    tab_to_id(page, "id_consent")
    page.keyboard.press("Space")
    tab_to(page, lambda focus: "Request this consultation" in focus["description"])
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Thank you — we have your request")
    booking = ConsultationBooking.objects.get(reference=reference_on(page))
    assert booking.screening.outcome == ScreeningOutcome.REVIEW
    assert booking.screening.answers[key(version, ALLERGIES)] == "Latex"
    assert booking.screening.answers[key(version, PREGNANT)] == "no"
    assert booking.screening.answers[key(version, ISOTRETINOIN)] == "2020-01-15"
