"""
Suitability screening's roles and starting content:

- Clinical leads (new) edit the health questionnaires and publish them, and
  see bookings with their health answers.
- Practitioners (new) see bookings, with their health answers.
- Front desk sees health answers too; Content editors never do.
- An EXAMPLE questionnaire for the medical-grade facial consultation, for the
  clinic's medical director to review: it is marked as example content and is
  not published, so no client is asked it until a clinical lead has reviewed
  it and pressed "Publish" in the admin.
- The privacy page's section on health questions (its wording is the
  version booking/services/screening.py's HEALTH_POLICY_VERSION names).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

HEALTH = "view_health_answers"
QUESTIONNAIRE_MODELS = ["questionnaire", "questionnaireuse", "question", "answerrule"]
ALL = ["view", "add", "change", "delete"]
GRANTS = {
    "Clinical leads": [
        *(f"{action}_{model}" for model in QUESTIONNAIRE_MODELS for action in ALL),
        "view_questionnaireversion",
        "view_consultationtype",
        "view_consultationbooking",
        "view_bookingstatuschange",
        HEALTH,
    ],
    "Practitioners": [
        "view_consultationbooking",
        "view_bookingstatuschange",
        "view_consultationtype",
        "view_practitioner",
        HEALTH,
    ],
    "Front desk": [HEALTH],
}
NEW_GROUPS = ["Clinical leads", "Practitioners"]

MEDICAL_CONSULTATION = "medical-grade-facial-consultation"
EXAMPLE_NOTE = "Example rule: for the medical director to review."
# (kind, text, help text, choices, required, [(answer, within_months, outcome, note)])
EXAMPLE_QUESTIONS = [
    ("yes_no", "Are you pregnant, or could you be?", "", "", True, [("yes", None, "review", "")]),
    (
        "date",
        "When did you last take isotretinoin (for example Accutane)?",
        "Leave empty if you never have.",
        "",
        False,
        [("", 6, "call", "Isotretinoin in the 6 months before the appointment")],
    ),
    (
        "yes_no",
        "Do you have an active skin infection or a cold sore at the moment?",
        "",
        "",
        True,
        [("yes", None, "call", "")],
    ),
    (
        "yes_no",
        "Have you used a retinoid cream or serum (such as tretinoin or retinol) in the past week?",
        "",
        "",
        True,
        [("yes", None, "review", "")],
    ),
    (
        "choice",
        "When did you last have injectables or a chemical peel?",
        "",
        "Never, or more than a month ago\nWithin the past month",
        True,
        [("Within the past month", None, "review", "")],
    ),
    (
        "text",
        "Do you have any known allergies? If so, which?",
        "Leave empty if none.",
        "",
        False,
        [("", None, "review", "Allergies given")],
    ),
]

PRIVACY_HEALTH_SECTION = (
    "Health questions: some consultations ask a few questions about your health first (for "
    "example about pregnancy, medicines or your skin). We ask separately for your agreement to use "
    "those answers, and use them only to check that the consultation suits you and to prepare it. "
    "Only the practitioners and staff who arrange your care can see them; we never send them by "
    "email; and we delete them with your other booking details."
)


def _create_permissions(apps):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def forwards(apps, schema_editor):
    _create_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        found = list(
            Permission.objects.filter(content_type__app_label="booking", codename__in=codenames)
        )
        assert len(found) == len(codenames), "missing permissions"
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*found)

    ConsultationType = apps.get_model("booking", "ConsultationType")
    Questionnaire = apps.get_model("booking", "Questionnaire")
    medical = ConsultationType.objects.filter(slug=MEDICAL_CONSULTATION).first()
    if medical is not None and not Questionnaire.objects.exists():
        questionnaire = Questionnaire.objects.create(
            name="Medical-grade facial suitability (EXAMPLE: for the medical director to review)",
            introduction="A few questions so that your practitioner can check this treatment suits you.",
            is_example=True,
        )
        apps.get_model("booking", "QuestionnaireUse").objects.create(
            questionnaire=questionnaire, consultation_type=medical
        )
        Question = apps.get_model("booking", "Question")
        AnswerRule = apps.get_model("booking", "AnswerRule")
        for position, (kind, text, help_text, choices, required, rules) in enumerate(
            EXAMPLE_QUESTIONS, start=1
        ):
            question = Question.objects.create(
                questionnaire=questionnaire,
                position=position * 10,
                kind=kind,
                text=text,
                help_text=help_text,
                choices=choices,
                required=required,
            )
            for answer, within_months, outcome, note in rules:
                AnswerRule.objects.create(
                    question=question,
                    answer=answer,
                    within_months=within_months,
                    outcome=outcome,
                    note_for_staff=f"{note or text} ({EXAMPLE_NOTE})",
                )

    SitePage = apps.get_model("treatments", "SitePage")
    for privacy in SitePage.objects.filter(key="privacy"):
        if PRIVACY_HEALTH_SECTION not in privacy.introduction:
            privacy.introduction = f"{privacy.introduction.rstrip()}\n\n{PRIVACY_HEALTH_SECTION}"
            privacy.save(update_fields=["introduction", "updated_at"])


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=NEW_GROUPS).delete()
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Front desk"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="booking", codename=HEALTH)
        )
    SitePage = apps.get_model("treatments", "SitePage")
    for privacy in SitePage.objects.filter(key="privacy"):
        privacy.introduction = privacy.introduction.replace(f"\n\n{PRIVACY_HEALTH_SECTION}", "")
        privacy.save(update_fields=["introduction", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0017_screening"),
        ("treatments", "0004_content_version"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
