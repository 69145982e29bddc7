"""
Loads the clinic's article (“Professional facials vs medical-grade facials”)
as content, so a fresh database shows the whole article. From here on staff
own the words and edit them in the admin.
"""

from django.db import migrations

PROFESSIONAL = "professional-facial"
MEDICAL = "medical-grade-facial"

TREATMENTS = [
    {
        "slug": PROFESSIONAL,
        "name": "Professional facial",
        "display_order": 1,
        "summary": (
            "Professional facials are commonly offered at spas and skincare studios. These treatments "
            "focus on maintaining the skin’s surface through relaxation-based care and gentle skin renewal."
        ),
        "introduction": (
            "Professional facials are commonly offered at spas and skincare studios. These treatments "
            "focus on maintaining the skin’s surface through relaxation-based care and gentle skin renewal."
        ),
        "includes_lead": (
            "Professional facials usually involve steps designed to cleanse, exfoliate and refresh the "
            "skin, such as:"
        ),
        "includes_summary": (
            "These treatments focus on the top layers of the skin and are meant to improve texture and "
            "appearance temporarily."
        ),
        "best_for_summary": "",
        "not_designed_for": (
            "Professional facials are typically safe for all skin types, but they are not designed to "
            "treat deeper concerns such as acne scars, advanced signs of aging, or persistent skin issues."
        ),
        "how_it_works": (
            "Professional facials focus on the surface and top layers of the skin, using cosmetic "
            "skincare products in a standardized routine."
        ),
        "oversight": "Commonly offered at spas and skincare studios.",
        "downtime": "None to speak of: the treatment works on the surface of the skin.",
        "frequency": "Can be repeated regularly.",
        "results": "Immediate but temporary improvements; short-term results.",
        "safety_notes": (
            "Professional facials are generally low risk and suitable for most skin types, though "
            "results are limited to surface-level improvement."
        ),
        "meta_description": (
            "What a professional (spa) facial includes, what it is best for, and where its limits lie: "
            "gentle surface care with short-term results."
        ),
        "points": {
            "includes": [
                "A deep cleanse to remove surface impurities",
                "Light exfoliation for removing dead skin cells",
                "Masks or serums to support skin hydration",
                "Facial massage to promote circulation",
                "Moisturizer and sun protection",
            ],
            "best_for": [
                "General skin maintenance",
                "Mild dryness or dullness",
                "Sensitive skin that needs gentle care",
                "Short-term glowing skin",
                "Relaxation and stress relief",
            ],
            "components": [],
        },
    },
    {
        "slug": MEDICAL,
        "name": "Medical-grade facial",
        "display_order": 2,
        "summary": (
            "Medical-grade facials are treatments designed to address skin concerns at a deeper level, "
            "using clinical-strength skincare products and advanced techniques under medical oversight."
        ),
        "introduction": (
            "Medical-grade facials—sometimes referred to as grade facials—are treatments designed to "
            "address skin concerns at a deeper level. These treatments are performed using "
            "clinical-strength skincare products and advanced techniques under medical oversight.\n\n"
            "Medical-grade facials are treatments designed to improve skin health over time, not just on "
            "the surface. They are often used as part of a long-term skincare plan."
        ),
        "includes_lead": "",
        "includes_summary": "",
        "components_lead": "Common components may include:",
        "best_for_summary": (
            "Medical-grade facials can help address concerns such as acne scars, uneven tone, "
            "congestion, and visible signs of aging."
        ),
        "not_designed_for": (
            "Neither option replaces medical treatment for serious skin conditions, and not every "
            "treatment is suitable for all skin types."
        ),
        "how_it_works": (
            "Unlike spa facials, medical-grade facials target multiple layers of the skin, not just the "
            "surface. These treatments are customized based on skin type, concerns, and goals."
        ),
        "oversight": "Performed using clinical-strength products and advanced techniques under medical oversight.",
        "downtime": "Most have minimal downtime, though this depends on the specific treatment used.",
        "frequency": "Frequency varies, but many are performed in a series for best results.",
        "results": (
            "Medical-grade facials often require a series of treatments, with results building "
            "gradually over time."
        ),
        "safety_notes": (
            "Medical-grade facials use clinically evaluated ingredients and technologies, often under "
            "medical supervision. Information about skincare treatment safety and regulation is "
            "available through the U.S. Food and Drug Administration."
        ),
        "meta_description": (
            "How medical-grade facials work, what they include and what they treat: clinical-strength, "
            "customized care for long-term improvement."
        ),
        "points": {
            "includes": [],
            "best_for": [
                "Acne scars",
                "Uneven tone",
                "Congestion",
                "Visible signs of aging",
            ],
            "components": [
                "Advanced exfoliation techniques such as chemical peels",
                "Clinical-strength ingredients like hyaluronic acid for hydration",
                "LED light therapy to support skin healing and balance",
                "Devices or methods that improve cell turnover and collagen response",
            ],
        },
    },
]

# (aspect, professional facial, medical-grade facial)
COMPARISON = [
    (
        "Depth of treatment",
        "Focus on the surface and top layers of the skin",
        "Work deeper within the layers of the skin",
    ),
    (
        "Products used",
        "Cosmetic skincare products",
        "Clinically tested, higher-strength formulations",
    ),
    ("Customization", "Often standardized", "Typically a customized facial approach"),
    ("Results", "Short-term results", "Gradual, long-term improvement"),
    (
        "Frequency and expectations",
        "Immediate but temporary improvements; can be repeated regularly",
        "Often a series of treatments, with results building gradually over time",
    ),
    (
        "Downtime",
        "None to speak of",
        "Most have minimal downtime, depending on the specific treatment used",
    ),
    (
        "Supervision and safety",
        "Generally low risk and suitable for most skin types; results limited to surface-level improvement",
        "Clinically evaluated ingredients and technologies, often under medical supervision",
    ),
]

DECISION_FACTORS = [
    "The type and severity of skin issues",
    "Whether concerns are surface-level or deeper",
    "Long-term skincare goals",
    "Skin sensitivity and tolerance",
]

# (label, slug, recommended treatment, reason)
SKIN_CONCERNS = [
    (
        "Acne scars",
        "acne-scars",
        MEDICAL,
        "For ongoing conditions such as acne scars, medical-grade facials are often recommended.",
    ),
    (
        "Advanced signs of aging",
        "advanced-signs-of-aging",
        MEDICAL,
        "Advanced signs of aging are a deeper concern, which medical-grade facials are designed to "
        "address; professional facials are not.",
    ),
    (
        "Uneven tone",
        "uneven-tone",
        MEDICAL,
        "Medical-grade facials can help address uneven tone with clinical-strength ingredients.",
    ),
    (
        "Congestion",
        "congestion",
        MEDICAL,
        "Medical-grade facials can help address congestion, with advanced exfoliation such as "
        "chemical peels.",
    ),
    (
        "Mild dryness or dullness",
        "mild-dryness-or-dullness",
        PROFESSIONAL,
        "Mild dryness or dullness is what professional facials do best, with masks or serums that "
        "support skin hydration.",
    ),
    (
        "Sensitive skin",
        "sensitive-skin",
        PROFESSIONAL,
        "For sensitive skin care, professional facials may be sufficient: they give sensitive skin "
        "the gentle care it needs.",
    ),
    (
        "Relaxation and stress relief",
        "relaxation-and-stress-relief",
        PROFESSIONAL,
        "Professional facials are built around relaxation-based care, with facial massage to "
        "promote circulation.",
    ),
    (
        "General maintenance",
        "general-maintenance",
        PROFESSIONAL,
        "For routine maintenance and hydration, professional facials may be sufficient.",
    ),
]

SKIN_SENSITIVITIES = [
    (
        "Not particularly sensitive",
        "not-sensitive",
        None,
        "Skin that tolerates most products well suits either option.",
    ),
    (
        "Somewhat sensitive",
        "somewhat-sensitive",
        None,
        "Medical-grade facials can suit sensitive skin when properly customized, though not every "
        "treatment is suitable for all skin types.",
    ),
    (
        "Very sensitive or easily irritated",
        "very-sensitive",
        PROFESSIONAL,
        "Professional facials are gentle and typically safe for all skin types.",
    ),
]

SKIN_GOALS = [
    (
        "A short-term glow",
        "short-term-glow",
        PROFESSIONAL,
        "Professional facials deliver immediate but temporary improvements and can be repeated "
        "regularly.",
    ),
    (
        "Long-term change in my skin",
        "long-term-change",
        MEDICAL,
        "Medical-grade facials focus on gradual, long-term improvement and are often part of a "
        "long-term skincare plan.",
    ),
]

FAQS = [
    (
        "What makes a facial “medical-grade”?",
        "Medical-grade facials use clinical-strength ingredients and technologies under medical oversight.",
        MEDICAL,
    ),
    (
        "Are medical-grade facials better than spa facials?",
        "Not necessarily. The best option depends on your skin goals and concerns.",
        None,
    ),
    (
        "Do medical-grade facials have downtime?",
        "Most have minimal downtime, though this depends on the specific treatment used.",
        MEDICAL,
    ),
    (
        "How often should medical-grade facials be done?",
        "Frequency varies, but many are performed in a series for best results.",
        MEDICAL,
    ),
    (
        "Can professional facials improve acne or aging?",
        "They may help temporarily, but deeper concerns often require medical-grade treatments.",
        PROFESSIONAL,
    ),
    (
        "Are medical-grade facials safe for sensitive skin?",
        "Yes, when properly customized, though not every treatment is suitable for all skin types.",
        MEDICAL,
    ),
    (
        "How do I know which facial is right for me?",
        "The best choice depends on your skin condition, goals, and long-term skincare plan.",
        None,
    ),
]

PAGES = [
    {
        "key": "home",
        "title": "Professional vs medical-grade facials",
        "heading": "Professional facials vs medical-grade facials",
        "meta_description": (
            "Compare professional (spa) facials with medical-grade facials: depth, products, results "
            "and downtime. Find what suits your skin and book a consultation."
        ),
        "introduction": (
            "Facials are often viewed as a simple way to refresh the skin, but not all facials work the "
            "same way. Many people compare professional facials vs medical-grade treatments when trying "
            "to address specific skin issues, improve skin hydration, or manage visible signs of aging.\n\n"
            "While both options are designed to support healthier-looking skin, the key differences come "
            "down to how deeply they treat the skin, the types of skincare products used, and whether "
            "results are short-term or long term. Understanding these differences can help you choose a "
            "treatment that aligns with your skin goals—not just a temporary glow."
        ),
    },
    {
        "key": "treatments",
        "title": "Our facials",
        "heading": "Our facials",
        "meta_description": (
            "The two kinds of facial we offer: professional facials for surface care and medical-grade "
            "facials for deeper, long-term change."
        ),
        "introduction": (
            "Both options are designed to support healthier-looking skin. They differ in how deeply they "
            "treat the skin, the products used, and whether results are short-term or long term."
        ),
    },
    {
        "key": "comparison",
        "title": "Key differences: professional vs medical-grade facials",
        "heading": "Key differences between professional facials and medical-grade facials",
        "meta_description": (
            "Side by side: depth of treatment, products, customization, results, frequency, downtime "
            "and supervision of professional and medical-grade facials."
        ),
        "introduction": (
            "The key differences come down to how deeply each treats the skin, the types of skincare "
            "products used, and whether results are short-term or long term."
        ),
    },
    {
        "key": "faqs",
        "title": "FAQs: medical-grade facials vs professional facials",
        "heading": "FAQs: Medical-Grade Facials vs Professional Facials",
        "meta_description": (
            "Answers to common questions about medical-grade and professional facials: downtime, "
            "frequency, sensitive skin and choosing the right one."
        ),
        "introduction": "",
    },
    {
        "key": "guide",
        "title": "Which facial is right for me?",
        "heading": "Which facial is right for me?",
        "meta_description": (
            "Answer three questions about your skin and goals to see which facial usually suits you, "
            "then book a consultation to decide."
        ),
        "introduction": (
            "There is no one-size-fits-all answer when choosing between professional facials and "
            "medical-grade facials. Tell us about your skin and what you hope for, and we will show you "
            "the option usually recommended and why."
        ),
    },
    {
        "key": "booking",
        "title": "Book a consultation",
        "heading": "Book a consultation",
        "meta_description": (
            "Book a skin consultation to find the right facial for your skin goals, concerns and "
            "expectations."
        ),
        "introduction": (
            "A consultation can help determine which option best fits your skin goals, concerns, and "
            "expectations."
        ),
    },
    {
        "key": "privacy",
        "title": "Privacy policy",
        "heading": "Privacy policy",
        "meta_description": "How we use and protect the personal details you give us when you book a consultation.",
        "introduction": (
            "When you book a consultation we ask for your name, email address, phone number, the skin "
            "concerns you want to discuss and, if you choose, a message. We use them only to arrange and "
            "hold your consultation and to contact you about it.\n\n"
            "We send you marketing only if you ask us to, and you can change your mind at any time.\n\n"
            "We keep booking details for 24 months after your consultation, then remove your name, email "
            "address, phone number and message. To see, correct or delete what we hold about you, "
            "contact us using the details at the foot of this page."
        ),
    },
]

BLOCKS = [
    {
        "key": "call_to_action",
        "heading": "Not sure which facial suits you?",
        "text": (
            "If you’re deciding between professional facials and medical-grade facials, a consultation "
            "can help determine which option best fits your skin goals, concerns, and expectations.\n\n"
            "Book your consultation to explore the right treatment approach for your skin."
        ),
        "link_text": "Book a consultation",
    },
    {
        "key": "safety",
        "heading": "Safety & considerations",
        "text": (
            "Medical-grade facials use clinically evaluated ingredients and technologies, often under "
            "medical supervision. Information about skincare treatment safety and regulation is available "
            "through the U.S. Food and Drug Administration.\n\n"
            "Professional facials are generally low risk and suitable for most skin types, though results "
            "are limited to surface-level improvement."
        ),
        "link_text": "",
    },
    {
        "key": "disclaimer",
        "heading": "Results, frequency & expectations",
        "text": (
            "While neither option replaces medical treatment for serious skin conditions, medical-grade "
            "facials are frequently used alongside other advanced skincare services for long-term results."
        ),
        "link_text": "",
    },
    {
        "key": "decision",
        "heading": "How providers decide between professional vs medical-grade facials",
        "text": (
            "For ongoing conditions such as acne scars or advanced signs of aging, medical-grade facials "
            "are often recommended. For routine maintenance, hydration, or sensitive skin care, "
            "professional facials may be sufficient."
        ),
        "link_text": "Which facial is right for me?",
    },
    {
        "key": "decision_factors",
        "heading": "What providers weigh",
        "text": "The best option depends on:",
        "link_text": "",
    },
    {
        "key": "no_preference",
        "heading": "Your answers point both ways",
        "text": "Either facial could suit you; a consultation is the best way to decide.",
        "link_text": "",
    },
    {
        "key": "consultation_decides",
        "heading": "A consultation decides",
        "text": (
            "This is a starting point, not a diagnosis. At your consultation a provider looks at your "
            "skin, your concerns and your goals, and together you decide on the right treatment."
        ),
        "link_text": "Book a consultation",
    },
]


def load_article(apps, schema_editor):
    Treatment = apps.get_model("treatments", "Treatment")
    TreatmentPoint = apps.get_model("treatments", "TreatmentPoint")
    ComparisonAspect = apps.get_model("treatments", "ComparisonAspect")
    ComparisonValue = apps.get_model("treatments", "ComparisonValue")
    DecisionFactor = apps.get_model("treatments", "DecisionFactor")
    FAQ = apps.get_model("treatments", "FAQ")
    SitePage = apps.get_model("treatments", "SitePage")
    ContentBlock = apps.get_model("treatments", "ContentBlock")

    treatments = {}
    for data in TREATMENTS:
        data = dict(data)
        points = data.pop("points")
        treatment = Treatment.objects.create(**data)
        treatments[treatment.slug] = treatment
        for section, texts in points.items():
            TreatmentPoint.objects.bulk_create(
                TreatmentPoint(treatment=treatment, section=section, text=text, position=position)
                for position, text in enumerate(texts, start=1)
            )

    for position, (name, professional, medical) in enumerate(COMPARISON, start=1):
        aspect = ComparisonAspect.objects.create(name=name, position=position)
        ComparisonValue.objects.create(
            aspect=aspect, treatment=treatments[PROFESSIONAL], text=professional
        )
        ComparisonValue.objects.create(aspect=aspect, treatment=treatments[MEDICAL], text=medical)

    DecisionFactor.objects.bulk_create(
        DecisionFactor(name=name, position=position)
        for position, name in enumerate(DECISION_FACTORS, start=1)
    )

    for model_name, rows in [
        ("SkinConcern", SKIN_CONCERNS),
        ("SkinSensitivity", SKIN_SENSITIVITIES),
        ("SkinGoal", SKIN_GOALS),
    ]:
        model = apps.get_model("treatments", model_name)
        model.objects.bulk_create(
            model(
                label=label,
                slug=slug,
                recommended_treatment=treatments.get(recommended),
                reason=reason,
                position=position,
            )
            for position, (label, slug, recommended, reason) in enumerate(rows, start=1)
        )

    FAQ.objects.bulk_create(
        FAQ(question=question, answer=answer, treatment=treatments.get(slug), position=position)
        for position, (question, answer, slug) in enumerate(FAQS, start=1)
    )
    SitePage.objects.bulk_create(SitePage(**page) for page in PAGES)
    ContentBlock.objects.bulk_create(ContentBlock(**block) for block in BLOCKS)


def remove_article(apps, schema_editor):
    for model_name in [
        "ContentBlock",
        "SitePage",
        "FAQ",
        "SkinGoal",
        "SkinSensitivity",
        "SkinConcern",
        "DecisionFactor",
        "ComparisonAspect",
        "Treatment",
    ]:
        apps.get_model("treatments", model_name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(load_article, remove_article)]
