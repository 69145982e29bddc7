"""
The article's content, rendered from the database: the home page, both
treatment pages, the comparison table, the guide's decision section, the
FAQs and the shared blocks of copy. Also the site's 404 page.
"""

from pathlib import Path

import pytest
from django.conf import settings

from tests.support.content import MEDICAL, PROFESSIONAL, make_faq, make_treatment
from tests.support.html import parse_html
from tests.support.pages import PUBLIC_PAGES
from treatments.models import (
    FAQ,
    ComparisonAspect,
    ContentBlock,
    DecisionFactor,
    SitePage,
    Treatment,
    TreatmentPoint,
)

pytestmark = pytest.mark.django_db

# A copy of the article the seed migration loads, kept with the tests so they
# check the site against the words the clinic signed off.
ARTICLE = Path(__file__).resolve().parents[1] / "data" / "facials-article.txt"

# The article's headings. The site uses its own headings (“What it is best
# for”), so only the lines under them are expected word for word.
ARTICLE_HEADINGS = [
    "Understanding Professional Facials",
    "What Professional Facials Typically Include",
    "What Professional Facials Are Best For",
    "What Are Medical-Grade Facials?",
    "How Medical-Grade Facials Work",
    "Key Differences Between Professional Facials and Medical-Grade Facials",
    "Depth of Treatment",
    "Products Used",
    "Customization",
    "Results",
    "How Providers Decide Between Professional vs Medical-Grade Facials",
    "Results, Frequency & Expectations",
    "Safety & Considerations",
    "FAQs: Medical-Grade Facials vs Professional Facials",
]

# Lines the site words differently on purpose, with the text that stands in
# for them and the page it is on.
STAND_INS = {
    # The seed migration added the comma the article was missing.
    "Professional facials usually involve steps designed to cleanse exfoliate and refresh the skin, such as:": (
        "/treatments/professional-facial/",
        "Professional facials usually involve steps designed to cleanse, exfoliate and refresh the skin, such as:",
    ),
}

# The article's “Key differences” bullets (and the two on results and
# frequency) became cells of the comparison table: (row, column, cell).
COMPARISON_CELLS = {
    "Professional facials focus on the surface and top layers of the skin": (
        "Depth of treatment",
        PROFESSIONAL,
        "Focus on the surface and top layers of the skin",
    ),
    "Medical-grade facials work deeper within the layers of the skin": (
        "Depth of treatment",
        MEDICAL,
        "Work deeper within the layers of the skin",
    ),
    "Professional facials use cosmetic skincare products": (
        "Products used",
        PROFESSIONAL,
        "Cosmetic skincare products",
    ),
    "Medical-grade facials use clinically tested, higher-strength formulations": (
        "Products used",
        MEDICAL,
        "Clinically tested, higher-strength formulations",
    ),
    "Professional facials are often standardized": (
        "Customization",
        PROFESSIONAL,
        "Often standardized",
    ),
    "Medical-grade facials are typically a customized facial approach": (
        "Customization",
        MEDICAL,
        "Typically a customized facial approach",
    ),
    "Professional facials deliver short-term results": (
        "Results",
        PROFESSIONAL,
        "Short-term results",
    ),
    "Medical-grade facials focus on gradual, long-term improvement": (
        "Results",
        MEDICAL,
        "Gradual, long-term improvement",
    ),
    "Professional facials provide immediate but temporary improvements and can be repeated regularly": (
        "Frequency and expectations",
        PROFESSIONAL,
        "Immediate but temporary improvements; can be repeated regularly",
    ),
    "Medical-grade facials often require a series of treatments, with results building gradually over time": (
        "Frequency and expectations",
        MEDICAL,
        "Often a series of treatments, with results building gradually over time",
    ),
}


def article_lines():
    """The article's non-heading lines, without list bullets or FAQ numbers."""
    lines = []
    for line in ARTICLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line in ARTICLE_HEADINGS:
            continue
        if line.startswith("- "):
            line = line[2:]
        number, dot, rest = line.partition(". ")
        lines.append(rest if dot and number.isdigit() else line)
    return lines


def visible_text(client, path):
    return parse_html(client.get(path).content).find("body").text


def comparison_table(document):
    """{row heading: {column heading: cell text}}, from the page's <table>."""
    table = document.find("table")
    columns = [th.text for th in table.find("thead").find_all("th")]
    rows = {}
    for row in table.find("tbody").find_all("tr"):
        cells = [td.text for td in row.find_all("td")]
        rows[row.find("th").text] = dict(zip(columns, cells, strict=True))
    return rows


def section(document, section_id):
    """The <section> labelled by the heading with `section_id`, or None."""
    return document.find("section", **{"aria-labelledby": section_id})


def paragraphs(text):
    return [paragraph.strip() for paragraph in text.split("\n\n") if paragraph.strip()]


# The article, end to end


def test_only_the_articles_headings_are_left_out_of_the_line_by_line_check():
    text = ARTICLE.read_text(encoding="utf-8").splitlines()
    assert all(heading in text for heading in ARTICLE_HEADINGS)
    # A sentence or a lead-in (“such as:”) is content, never a heading.
    assert not [heading for heading in ARTICLE_HEADINGS if heading.endswith((".", ":"))]
    assert len(article_lines()) == 61


def test_every_line_of_the_article_appears_on_the_site(client):
    site_text = "\n".join(visible_text(client, path) for path in PUBLIC_PAGES)
    missing = [
        line
        for line in article_lines()
        if line not in site_text and line not in STAND_INS and line not in COMPARISON_CELLS
    ]
    assert missing == []


@pytest.mark.parametrize("line", STAND_INS)
def test_reworded_article_line_appears_in_its_site_wording(client, line):
    path, stand_in = STAND_INS[line]
    assert stand_in in visible_text(client, path)


@pytest.mark.parametrize("line", COMPARISON_CELLS)
def test_article_key_difference_is_a_cell_of_the_comparison_table(get_page, line):
    row, slug, cell = COMPARISON_CELLS[line]
    table = comparison_table(get_page("/compare/"))
    assert table[row][Treatment.objects.get(slug=slug).name] == cell


# Page by page


def test_home_page_shows_the_introduction_and_both_treatment_summaries(get_page):
    main = get_page("/").find("main")
    intro = SitePage.objects.get(key="home").introduction
    rendered_paragraphs = [p.text for p in main.find_all("p")]
    for paragraph in paragraphs(intro):
        assert paragraph in rendered_paragraphs
    for treatment in Treatment.objects.published():
        link = main.find("a", href=treatment.get_absolute_url())
        assert link.text == treatment.name
        assert treatment.summary in main.text


def test_treatment_list_links_every_published_treatment_with_its_summary(get_page):
    main = get_page("/treatments/").find("main")
    treatments = list(Treatment.objects.published())
    assert [article.find("h2").text for article in main.find_all("article")] == [
        t.name for t in treatments
    ]
    for treatment in treatments:
        assert main.find("a", href=treatment.get_absolute_url()) is not None
        assert treatment.summary in main.text


@pytest.mark.parametrize("slug", [PROFESSIONAL, MEDICAL])
def test_treatment_page_lists_its_points_in_order_section_by_section(get_page, slug):
    treatment = Treatment.objects.get(slug=slug)
    document = get_page(treatment.get_absolute_url())
    for section_id, kind in [
        ("includes", TreatmentPoint.Section.INCLUDES),
        ("best-for", TreatmentPoint.Section.BEST_FOR),
        ("components", TreatmentPoint.Section.COMPONENTS),
    ]:
        expected = list(
            treatment.points.filter(section=kind)
            .order_by("position", "pk")
            .values_list("text", flat=True)
        )
        rendered = section(document, section_id)
        if expected:
            assert [li.text for li in rendered.find_all("li")] == expected
        else:
            # An empty list gets no heading either.
            assert rendered is None


def test_treatment_page_follows_the_order_staff_give_the_points(get_page):
    treatment = Treatment.objects.get(slug=PROFESSIONAL)
    steps = list(treatment.points.filter(section=TreatmentPoint.Section.INCLUDES))
    for position, step in enumerate(reversed(steps)):
        step.position = position
        step.save()

    rendered = section(get_page(treatment.get_absolute_url()), "includes")

    assert [li.text for li in rendered.find_all("li")] == [s.text for s in reversed(steps)]


@pytest.mark.parametrize("slug", [PROFESSIONAL, MEDICAL])
def test_treatment_page_shows_its_introduction_limits_and_safety_notes(get_page, slug):
    treatment = Treatment.objects.get(slug=slug)
    document = get_page(treatment.get_absolute_url())
    main = document.find("main")
    assert main.find("h1").text == treatment.name
    for paragraph in paragraphs(treatment.introduction):
        assert paragraph in main.text
    for section_id, text in [
        ("not-designed-for", treatment.not_designed_for),
        ("how-it-works", treatment.how_it_works),
        ("oversight", treatment.oversight),
        ("downtime", treatment.downtime),
        ("frequency", treatment.frequency),
        ("results", treatment.results),
        ("safety", treatment.safety_notes),
    ]:
        assert text
        assert section(document, section_id).find("p").text == text


def test_professional_facial_page_shows_the_lead_in_and_summary_around_its_steps(get_page):
    treatment = Treatment.objects.get(slug=PROFESSIONAL)
    rendered = section(get_page(treatment.get_absolute_url()), "includes")
    assert [p.text for p in rendered.find_all("p")] == [
        treatment.includes_lead,
        treatment.includes_summary,
    ]


def test_medical_grade_facial_page_says_what_it_can_help_address(get_page):
    treatment = Treatment.objects.get(slug=MEDICAL)
    rendered = section(get_page(treatment.get_absolute_url()), "best-for")
    assert treatment.best_for_summary in rendered.text


def test_treatment_page_shows_only_its_own_published_faqs(get_page):
    treatment = Treatment.objects.get(slug=MEDICAL)
    hidden = make_faq(treatment=treatment, question="An unpublished question?", is_published=False)
    other = FAQ.objects.filter(treatment__slug=PROFESSIONAL).first()

    rendered = section(get_page(treatment.get_absolute_url()), "treatment-faqs")

    questions = [h3.text for h3 in rendered.find_all("h3")]
    assert questions == list(
        FAQ.objects.published().filter(treatment=treatment).values_list("question", flat=True)
    )
    assert len(questions) == 4
    assert hidden.question not in questions
    assert other.question not in questions


def test_treatment_page_offers_a_consultation_about_that_treatment(get_page):
    treatment = Treatment.objects.get(slug=MEDICAL)
    main = get_page(treatment.get_absolute_url()).find("main")
    assert main.find("a", href=f"/book/?treatment={MEDICAL}") is not None


def test_comparison_table_has_a_column_per_treatment_and_a_row_per_aspect_in_order(get_page):
    table = get_page("/compare/").find("table")

    column_headings = table.find("thead").find_all("th")
    assert [th.attrs.get("scope") for th in column_headings] == ["col", "col"]
    assert [th.text for th in column_headings] == ["Professional facial", "Medical-grade facial"]

    rows = table.find("tbody").find_all("tr")
    row_headings = [row.find("th") for row in rows]
    assert all(th.attrs.get("scope") == "row" for th in row_headings)
    assert [th.text for th in row_headings] == list(
        ComparisonAspect.objects.values_list("name", flat=True)
    )
    assert len(rows) == 7
    assert all(len(row.find_all("td")) == 2 for row in rows)
    assert table.find("caption").text


def test_comparison_table_follows_the_row_order_staff_give_it(get_page):
    last = ComparisonAspect.objects.last()
    last.position = 0
    last.save()

    table = comparison_table(get_page("/compare/"))

    assert next(iter(table)) == last.name


def test_comparison_table_shows_every_cell_from_the_database(get_page):
    table = comparison_table(get_page("/compare/"))
    for aspect in ComparisonAspect.objects.prefetch_related("values__treatment"):
        for value in aspect.values.all():
            assert table[aspect.name][value.treatment.name] == value.text


def test_guide_page_lists_the_four_decision_factors_and_the_providers_guidance(get_page):
    factors = section(get_page("/guide/"), "factors-heading")
    decision = ContentBlock.objects.get(key="decision")

    assert [li.text for li in factors.find_all("li")] == list(
        DecisionFactor.objects.values_list("name", flat=True)
    )
    assert len(factors.find_all("li")) == 4
    assert factors.find("h2").text == decision.heading
    assert decision.text in factors.text


def test_faq_page_shows_the_seven_questions_and_answers_in_order(get_page):
    faqs = get_page("/faqs/").find("main").find_all("section", class_="faq")

    expected = list(FAQ.objects.published().values_list("question", "answer"))
    assert len(expected) == 7
    assert [(faq.find("h2").text, faq.find("p").text) for faq in faqs] == expected


def test_faq_page_leaves_out_unpublished_questions(get_page):
    hidden = make_faq(question="Should not be seen?", is_published=False)
    assert hidden.question not in get_page("/faqs/").text


def test_home_page_shows_the_safety_and_disclaimer_blocks(get_page):
    document = get_page("/")
    # The safety note is part of the trust block ("Who will see you"), so a
    # level below its heading.
    for key, heading in [("safety", "h3"), ("disclaimer", "h2")]:
        block = ContentBlock.objects.get(key=key)
        rendered = section(document, f"block-{key}")
        assert rendered.find(heading).text == block.heading
        assert [p.text for p in rendered.find_all("p")] == paragraphs(block.text)


def test_comparison_page_shows_the_disclaimer_and_the_decision_guidance(get_page):
    document = get_page("/compare/")
    assert (
        ContentBlock.objects.get(key="disclaimer").text
        in section(document, "block-disclaimer").text
    )
    guidance = section(document, "block-decision")
    assert ContentBlock.objects.get(key="decision").text in guidance.text
    assert guidance.find("a", href="/guide/") is not None


@pytest.mark.parametrize("path", [path for path in PUBLIC_PAGES if path != "/book/"])
def test_page_ends_with_the_call_to_action(get_page, path):
    block = ContentBlock.objects.get(key="call_to_action")
    rendered = section(get_page(path), "cta-heading")
    assert rendered.find("h2").text == block.heading
    assert [p.text for p in rendered.find_all("p")] == paragraphs(block.text)
    assert rendered.find("a", href="/book/").text == block.link_text


def test_booking_page_does_not_repeat_the_call_to_action(get_page):
    # The booking page is where the call to action leads.
    assert section(get_page("/book/"), "cta-heading") is None


def test_edited_content_block_shows_on_every_page_that_uses_it(get_page):
    ContentBlock.objects.filter(key="call_to_action").update(text="Come and see us.")
    for path in ["/", "/faqs/", "/treatments/medical-grade-facial/"]:
        assert section(get_page(path), "cta-heading").find("p").text == "Come and see us."


# Not found


@pytest.fixture
def unpublished_treatment():
    return make_treatment(slug="draft-facial", is_published=False)


@pytest.mark.parametrize(
    "path",
    ["/treatments/no-such-facial/", "/treatments/draft-facial/", "/no-such-page/"],
    ids=["unknown treatment", "unpublished treatment", "unknown address"],
)
def test_missing_page_answers_404_with_the_sites_own_page(client, unpublished_treatment, path):
    response = client.get(path)

    assert response.status_code == 404
    document = parse_html(response.content)
    assert document.find("h1").text == "We could not find that page"
    assert document.find("title").text == f"Page not found | {settings.CLINIC['name']}"
    assert document.find("meta", name="robots").attrs["content"] == "noindex"
    assert document.find("link", rel="canonical") is None
    # The site's frame, so the visitor can find their way on.
    assert document.find("nav", **{"aria-label": "Main"}) is not None
    assert document.find("main").find("a", href="/book/") is not None


def test_unpublishing_a_treatment_takes_its_page_down(client):
    Treatment.objects.filter(slug=MEDICAL).update(is_published=False)
    assert client.get(f"/treatments/{MEDICAL}/").status_code == 404
    assert client.get(f"/treatments/{PROFESSIONAL}/").status_code == 200
