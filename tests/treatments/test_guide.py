"""
“Which facial is right for me?”: the suggestion logic (treatments.guide)
and the page that asks the questions and shows the answer.
"""

import pytest

from tests.support.content import MEDICAL, PROFESSIONAL, make_concern, make_treatment
from tests.support.html import parse_html
from treatments.guide import recommend
from treatments.models import ContentBlock, SkinConcern, SkinGoal, SkinSensitivity, Treatment

pytestmark = pytest.mark.django_db

NO_SUCH_CONCERN = "One of the concerns chosen is not on our list. Please choose again."
NO_SUCH_SENSITIVITY = "That answer about sensitivity is not on our list. Please choose again."
NO_SUCH_GOAL = "That goal is not on our list. Please choose again."
NO_CONCERN = "Choose at least one thing you would like to improve."
NO_SENSITIVITY = "Tell us how sensitive your skin is."
NO_GOAL = "Tell us whether you are after a short-term glow or long-term change."


def answers(*, concerns, sensitivity, goal):
    """The guide's answer rows for the given slugs, as the form hands them over."""
    return {
        "concerns": [SkinConcern.objects.for_guide().get(slug=slug) for slug in concerns],
        "sensitivity": SkinSensitivity.objects.for_guide().get(slug=sensitivity),
        "goal": SkinGoal.objects.for_guide().get(slug=goal),
    }


def reasons_of(model, *slugs):
    return [model.objects.get(slug=slug).reason for slug in slugs]


# recommend()


def test_recommend_suggests_the_treatment_most_answers_point_to():
    recommendation = recommend(
        **answers(concerns=["acne-scars"], sensitivity="very-sensitive", goal="long-term-change")
    )

    assert recommendation.treatment.slug == MEDICAL
    assert recommendation.reasons == [
        *reasons_of(SkinConcern, "acne-scars"),
        *reasons_of(SkinGoal, "long-term-change"),
    ]


def test_recommend_suggests_a_professional_facial_for_gentle_short_term_care():
    recommendation = recommend(
        **answers(
            concerns=["mild-dryness-or-dullness"],
            sensitivity="very-sensitive",
            goal="short-term-glow",
        )
    )

    assert recommendation.treatment.slug == PROFESSIONAL
    assert recommendation.reasons == [
        *reasons_of(SkinConcern, "mild-dryness-or-dullness"),
        *reasons_of(SkinSensitivity, "very-sensitive"),
        *reasons_of(SkinGoal, "short-term-glow"),
    ]


@pytest.mark.parametrize(
    ("concerns", "sensitivity", "goal", "expected"),
    [
        # Two each way: the goal decides.
        (["acne-scars", "uneven-tone"], "very-sensitive", "short-term-glow", PROFESSIONAL),
        (["mild-dryness-or-dullness", "acne-scars"], "very-sensitive", "long-term-change", MEDICAL),
    ],
)
def test_recommend_lets_the_goal_decide_a_tie(concerns, sensitivity, goal, expected):
    recommendation = recommend(**answers(concerns=concerns, sensitivity=sensitivity, goal=goal))
    assert recommendation.treatment.slug == expected


@pytest.mark.parametrize(("first", "expected"), [(PROFESSIONAL, PROFESSIONAL), (MEDICAL, MEDICAL)])
def test_recommend_breaks_a_tie_with_a_neutral_goal_by_display_order(first, expected):
    Treatment.objects.filter(slug=first).update(display_order=0)
    SkinGoal.objects.create(label="No preference", slug="no-preference", reason="Either.")

    recommendation = recommend(
        **answers(
            concerns=["acne-scars", "mild-dryness-or-dullness"],
            sensitivity="not-sensitive",
            goal="no-preference",
        )
    )

    assert recommendation.treatment.slug == expected


def test_recommend_without_any_pointing_answer_suggests_nothing():
    SkinConcern.objects.filter(slug="acne-scars").update(recommended_treatment=None)
    SkinGoal.objects.filter(slug="long-term-change").update(recommended_treatment=None)

    recommendation = recommend(
        **answers(concerns=["acne-scars"], sensitivity="not-sensitive", goal="long-term-change")
    )

    assert recommendation.treatment is None
    assert recommendation.reasons == []


def test_recommend_ignores_answers_pointing_to_an_unpublished_treatment():
    Treatment.objects.filter(slug=MEDICAL).update(is_published=False)

    recommendation = recommend(
        **answers(
            concerns=["acne-scars", "congestion"],
            sensitivity="very-sensitive",
            goal="long-term-change",
        )
    )

    assert recommendation.treatment.slug == PROFESSIONAL
    assert recommendation.reasons == reasons_of(SkinSensitivity, "very-sensitive")


def test_recommend_gives_reasons_only_from_answers_for_the_suggestion():
    recommendation = recommend(
        **answers(
            concerns=["acne-scars", "sensitive-skin", "congestion"],
            sensitivity="somewhat-sensitive",
            goal="long-term-change",
        )
    )

    assert recommendation.treatment.slug == MEDICAL
    assert recommendation.reasons == [
        *reasons_of(SkinConcern, "acne-scars", "congestion"),
        *reasons_of(SkinGoal, "long-term-change"),
    ]


# The guide page


def guide(client, query):
    response = client.get("/guide/", query)
    assert response.status_code == 200
    return parse_html(response.content)


def result_of(document):
    return document.find("section", class_="guide-result")


def error_messages(document):
    summary = document.find("div", class_="error-summary")
    return [] if summary is None else [li.text for li in summary.find_all("li")]


def offered_values(document, name):
    return [i.attrs["value"] for i in document.find("form").find_all("input", name=name)]


def test_guide_without_answers_shows_the_questions_and_no_result(client):
    document = guide(client, {})

    assert result_of(document) is None
    assert error_messages(document) == []
    assert offered_values(document, "concerns") == list(
        SkinConcern.objects.values_list("slug", flat=True)
    )
    assert offered_values(document, "sensitivity") == list(
        SkinSensitivity.objects.values_list("slug", flat=True)
    )
    assert offered_values(document, "goal") == list(SkinGoal.objects.values_list("slug", flat=True))
    form = document.find("form")
    assert form.attrs["method"] == "get"
    assert form.attrs["action"] == "/guide/"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"concerns": "acne-scars", "sensitivity": "very-sensitive", "goal": "long-term-change"},
            MEDICAL,
        ),
        (
            {
                "concerns": "mild-dryness-or-dullness",
                "sensitivity": "very-sensitive",
                "goal": "short-term-glow",
            },
            PROFESSIONAL,
        ),
        # A tie, two answers each way: the goal decides.
        (
            {
                "concerns": ["acne-scars", "uneven-tone"],
                "sensitivity": "very-sensitive",
                "goal": "short-term-glow",
            },
            PROFESSIONAL,
        ),
    ],
    ids=["medical-grade", "professional", "tie decided by the goal"],
)
def test_guide_suggests_a_treatment_and_offers_a_consultation_about_it(client, query, expected):
    treatment = Treatment.objects.get(slug=expected)

    result = result_of(guide(client, query))

    assert result.find("h2").text == f"Our suggestion: {treatment.name.lower()}"
    assert result.find("a", href=f"/book/?treatment={expected}") is not None
    assert result.find("a", href=treatment.get_absolute_url()) is not None
    consultation = ContentBlock.objects.get(key="consultation_decides")
    assert consultation.heading in result.text
    assert consultation.text in result.text


def test_guide_result_shows_the_reasons_held_in_the_database(client):
    SkinConcern.objects.filter(slug="acne-scars").update(
        reason="Scarring sits below the surface, where clinical treatments work."
    )

    result = result_of(
        guide(
            client,
            {"concerns": "acne-scars", "sensitivity": "very-sensitive", "goal": "long-term-change"},
        )
    )

    assert [li.text for li in result.find_all("li")] == [
        "Scarring sits below the surface, where clinical treatments work.",
        *reasons_of(SkinGoal, "long-term-change"),
    ]


def test_guide_result_keeps_the_answers_so_they_can_be_changed(client):
    document = guide(
        client,
        {
            "concerns": ["acne-scars", "congestion"],
            "sensitivity": "very-sensitive",
            "goal": "long-term-change",
        },
    )

    checked = [
        i.attrs["value"] for i in document.find("form").find_all("input") if "checked" in i.attrs
    ]
    assert checked == ["acne-scars", "congestion", "very-sensitive", "long-term-change"]


def test_guide_result_names_the_suggestion_in_the_page_title(client):
    document = guide(
        client,
        {"concerns": "acne-scars", "sensitivity": "very-sensitive", "goal": "long-term-change"},
    )
    assert document.find("title").text.startswith("Your suggestion: Medical-grade facial | ")


def test_guide_with_only_neutral_answers_says_they_point_both_ways(client):
    for model in [SkinConcern, SkinSensitivity, SkinGoal]:
        model.objects.update(recommended_treatment=None)

    result = result_of(
        guide(
            client,
            {"concerns": "acne-scars", "sensitivity": "very-sensitive", "goal": "long-term-change"},
        )
    )

    assert result.find("h2").text == "Your answers point both ways"
    assert result.find_all("li") == []
    [booking_link] = result.find_all("a")
    assert booking_link.attrs["href"] == "/book/"
    assert ContentBlock.objects.get(key="consultation_decides").text in result.text


VALID = {"concerns": "acne-scars", "sensitivity": "not-sensitive", "goal": "long-term-change"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (VALID | {"concerns": "no-such-concern"}, NO_SUCH_CONCERN),
        (VALID | {"concerns": ["acne-scars", "no-such-concern"]}, NO_SUCH_CONCERN),
        (VALID | {"sensitivity": "extremely"}, NO_SUCH_SENSITIVITY),
        (VALID | {"goal": "eternal-youth"}, NO_SUCH_GOAL),
        (VALID | {"goal": ""}, NO_GOAL),
        ({"goal": "long-term-change"}, NO_CONCERN),
        ({"concerns": "acne-scars", "goal": "long-term-change"}, NO_SENSITIVITY),
        (VALID | {"concerns": "x" * 100_000}, NO_SUCH_CONCERN),
        (VALID | {"goal": "g" * 100_000}, NO_SUCH_GOAL),
        (VALID | {"concerns": ["no-such-concern"] * 500}, NO_SUCH_CONCERN),
        (VALID | {"sensitivity": "très-sensible 🌶"}, NO_SUCH_SENSITIVITY),
        (VALID | {"goal": "\u202elong-term-change"}, NO_SUCH_GOAL),
        (VALID | {"concerns": "acne-scars\r\n"}, NO_SUCH_CONCERN),
        (VALID | {"goal": "\x01\x1b[31m"}, NO_SUCH_GOAL),
    ],
    ids=[
        "unknown concern",
        "one unknown concern among known ones",
        "unknown sensitivity",
        "unknown goal",
        "empty goal",
        "no concerns",
        "no sensitivity",
        "huge concern",
        "huge goal",
        "many unknown concerns",
        "unicode sensitivity",
        "right-to-left override",
        "line break",
        "control characters",
    ],
)
def test_guide_with_tampered_answers_shows_the_form_again_with_a_message(client, query, message):
    document = guide(client, query)

    assert result_of(document) is None
    assert message in error_messages(document)
    assert document.find("form", action="/guide/") is not None


@pytest.mark.parametrize(
    "query",
    [VALID | {"sensitivity": "not-\x00sensitive"}, VALID | {"concerns": "\x00"}],
    ids=["null in sensitivity", "null concern"],
)
def test_guide_with_a_null_character_in_the_address_gets_the_400_page(client, query):
    # Refused before any view reads it, like every request holding a NUL
    # (clinic_site/middleware.py; tests/site/test_nul_bytes.py).
    response = client.get("/guide/", query)

    assert response.status_code == 400
    assert "We could not understand that request" in response.content.decode()


def test_guide_with_an_undecodable_address_shows_the_form_again(client):
    response = client.get("/guide/?concerns=%ff%fe&sensitivity=not-sensitive&goal=%c3")

    assert response.status_code == 200
    document = parse_html(response.content)
    assert result_of(document) is None
    assert NO_SUCH_CONCERN in error_messages(document)
    assert NO_SUCH_GOAL in error_messages(document)


def test_error_summary_links_to_the_question_to_fix(client):
    document = guide(client, VALID | {"goal": ""})

    link = document.find("div", class_="error-summary").find("a")
    target = link.attrs["href"].removeprefix("#")
    assert document.find("input", id=target).attrs["name"] == "goal"


@pytest.mark.parametrize(
    ("model", "field", "message"),
    [
        (SkinConcern, "concerns", NO_SUCH_CONCERN),
        (SkinSensitivity, "sensitivity", NO_SUCH_SENSITIVITY),
        (SkinGoal, "goal", NO_SUCH_GOAL),
    ],
)
def test_guide_neither_offers_nor_accepts_an_answer_staff_have_hidden(
    client, model, field, message
):
    slug = VALID[field]
    model.objects.filter(slug=slug).update(is_published=False)

    assert slug not in offered_values(guide(client, {}), field)

    document = guide(client, VALID)
    assert result_of(document) is None
    assert error_messages(document) == [message]


def test_guide_offers_a_concern_staff_add(client):
    concern = make_concern(recommended_treatment=make_treatment())
    document = guide(client, {})
    assert concern.slug in offered_values(document, "concerns")
    assert concern.label in document.find("form").text
