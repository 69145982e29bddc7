"""
Example before-care and aftercare texts for the three example consultation
types, for the clinic to review: general preparation and follow-up, no
medical claims. They arrive marked “care texts are examples awaiting review”,
so none is emailed until someone at the clinic has had them checked by its
practitioners and unticked that box. A type the clinic already gave texts
keeps its own.
"""

from django.db import migrations

EXAMPLES = {
    "skin-assessment": {
        "before_care_days": 2,
        "before_care_text": (
            "If you can, come with clean skin and no make-up, or allow a few minutes to "
            "remove it when you arrive.\n\n"
            "Please bring a list of the skincare products you use now (photos of the labels "
            "are fine), and avoid starting any new product in the days before, so we see "
            "your skin as it usually is."
        ),
        "aftercare_text": (
            "The suggestions we talked through are a starting point. If you try a new "
            "product, introduce one at a time, so you can tell how your skin takes to each.\n\n"
            "When you are ready, you can book the treatment we discussed online or by phone."
        ),
    },
    "professional-facial-consultation": {
        "before_care_days": 3,
        "before_care_text": (
            "For 3 days before your consultation, please avoid starting any new skincare "
            "product and any waxing or other hair removal on your face, so we see your skin "
            "as it usually is.\n\n"
            "Please bring a list of the skincare products you use now."
        ),
        "aftercare_text": (
            "If you would like to go ahead with the facial we discussed, you can book it "
            "online or by phone. If anything we talked about is unclear, just call us."
        ),
    },
    "medical-grade-facial-consultation": {
        "before_care_days": 3,
        "before_care_text": (
            "Unless your practitioner has told you otherwise, please pause retinoid and "
            "exfoliating-acid products for 3 days before your consultation, and avoid "
            "strong sun on your face.\n\n"
            "Please do not stop anything a doctor prescribed for you without asking them "
            "first, and bring a list of the skincare products you use now."
        ),
        "aftercare_text": (
            "Your practitioner explained the plan you discussed. If anything is unclear, or "
            "you would like to go ahead, please call us; they will tell you how to prepare "
            "for the treatment itself."
        ),
    },
}


def add_examples(apps, schema_editor):
    ConsultationType = apps.get_model("booking", "ConsultationType")
    for slug, texts in EXAMPLES.items():
        ConsultationType.objects.filter(slug=slug, before_care_text="", aftercare_text="").update(
            **texts, care_texts_need_review=True
        )


def remove_examples(apps, schema_editor):
    ConsultationType = apps.get_model("booking", "ConsultationType")
    for slug, texts in EXAMPLES.items():
        ConsultationType.objects.filter(
            slug=slug,
            before_care_text=texts["before_care_text"],
            aftercare_text=texts["aftercare_text"],
        ).update(before_care_text="", aftercare_text="", care_texts_need_review=False)


class Migration(migrations.Migration):
    dependencies = [("booking", "0015_care_messages")]

    operations = [migrations.RunPython(add_examples, remove_examples)]
