"""
Suitability screening: the health questions asked before some consultations.

Clinical leads edit a questionnaire's questions and the rules on their
answers as ordinary rows; publishing freezes them into a numbered version
(a JSON snapshot), which is what clients answer and what a booking's answers
refer to, so staff read the answers against the questions as the client saw
them however the questionnaire is edited later. The answers live in their
own table (health data), never on the booking row. See
booking/services/screening.py.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ScreeningOutcome(models.TextChoices):
    """What a rule says about an answer, from fine to the most serious (the order counts)."""

    FINE = "fine", "Fine"
    REVIEW = "review", "Flag for practitioner review"
    MEDICAL = "medical", "Needs a medical provider"
    CALL = "call", "Cannot be booked online: the client must call"


class Questionnaire(models.Model):
    """The health questions asked before booking one or more consultation types."""

    name = models.CharField(
        max_length=100, help_text="For staff, e.g. “Medical-grade facial suitability”."
    )
    introduction = models.TextField(
        blank=True,
        help_text="Shown to clients above the questions. Leave a blank line between paragraphs.",
    )
    is_active = models.BooleanField(
        "asked online",
        default=True,
        help_text="Untick to stop asking these questions (bookings keep the answers they have).",
    )
    is_example = models.BooleanField(
        "example content",
        default=False,
        help_text="Example questions and rules that the clinic's medical director has not reviewed yet. "
        "Untick once they have, before publishing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "health questionnaire"

    def __str__(self):
        return self.name

    def latest_version(self):
        return self.versions.order_by("-number").first()


class QuestionnaireUse(models.Model):
    """Which consultation types ask a questionnaire's questions: at most one questionnaire per type."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="uses")
    consultation_type = models.OneToOneField(
        "booking.ConsultationType",
        on_delete=models.CASCADE,
        related_name="questionnaire_use",
        help_text="A consultation type asks one questionnaire at most.",
    )

    class Meta:
        ordering = ["questionnaire", "consultation_type"]
        verbose_name = "consultation type asking it"
        verbose_name_plural = "consultation types asking it"

    def __str__(self):
        return f"{self.consultation_type} asks {self.questionnaire}"


class Question(models.Model):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", "Yes or no"
        CHOICE = "choice", "One of a list"
        DATE = "date", "A date"
        TEXT = "text", "Free text"

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Questions are asked in this order."
    )
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.YES_NO)
    text = models.CharField(
        max_length=300, help_text="As the client reads it, e.g. “Are you pregnant?”."
    )
    help_text = models.CharField(
        max_length=300, blank=True, help_text="Shown under the question, e.g. why it is asked."
    )
    choices = models.TextField(
        blank=True, help_text="For “one of a list” questions: the options, one a line."
    )
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["questionnaire", "position", "pk"]
        verbose_name = "question"

    def __str__(self):
        return self.text

    @property
    def choice_list(self):
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self):
        if self.kind == self.Kind.CHOICE and len(self.choice_list) < 2:
            raise ValidationError({"choices": "Give at least two options, one a line."})
        if self.kind != self.Kind.CHOICE and self.choices.strip():
            raise ValidationError({"choices": "Only “one of a list” questions have options."})


class AnswerRule(models.Model):
    """
    An answer that leads to an outcome. Yes/no and list questions match an
    answer; date questions match a date within some months before the
    appointment date (not today: a booking weeks ahead is measured from the
    day of the consultation); free-text questions match any answer given.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="rules")
    answer = models.CharField(
        max_length=200,
        blank=True,
        help_text="Yes/no questions: “yes” or “no”. List questions: one of the options. "
        "Leave empty for date and free-text questions.",
    )
    within_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        # A century at most: the date it counts back to must be a date.
        validators=[MaxValueValidator(1200)],
        help_text="Date questions: the rule applies when the date given is less than this many "
        "months before the appointment date (or after it).",
    )
    outcome = models.CharField(
        max_length=10, choices=ScreeningOutcome, default=ScreeningOutcome.REVIEW
    )
    note_for_staff = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why, for the practitioner; never shown to the client.",
    )

    class Meta:
        ordering = ["question", "pk"]
        verbose_name = "rule on an answer"
        verbose_name_plural = "rules on answers"
        constraints = [
            models.CheckConstraint(
                condition=Q(within_months__gte=1), name="rule_at_least_one_month"
            ),
        ]

    def __str__(self):
        if self.within_months:
            return f"Within {self.within_months} months before the appointment → {self.get_outcome_display()}"
        return f"“{self.answer or 'any answer'}” → {self.get_outcome_display()}"

    def clean(self):
        question = getattr(self, "question", None)
        if question is None:
            return
        Kind = Question.Kind
        if question.kind == Kind.DATE:
            if not self.within_months:
                raise ValidationError(
                    {"within_months": "Give the number of months for a date question."}
                )
            if self.answer:
                raise ValidationError({"answer": "Leave the answer empty for a date question."})
            return
        if self.within_months:
            raise ValidationError({"within_months": "Only date questions count months."})
        if question.kind == Kind.YES_NO and self.answer.lower() not in {"yes", "no"}:
            raise ValidationError({"answer": "Write “yes” or “no”."})
        if question.kind == Kind.CHOICE and self.answer not in question.choice_list:
            raise ValidationError({"answer": "Write one of the question's options exactly."})
        if question.kind == Kind.TEXT and self.answer:
            raise ValidationError(
                {"answer": "Leave empty: a free-text rule applies to any answer given."}
            )


class QuestionnaireVersion(models.Model):
    """A published questionnaire, frozen: what clients answered, as they saw it."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    content = models.JSONField(
        editable=False,
        help_text="The questions and rules as published (booking/services/screening.py, snapshot()).",
    )
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["questionnaire", "-number"]
        verbose_name = "published version"
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="one_number_per_questionnaire_version"
            ),
        ]

    def __str__(self):
        return f"{self.questionnaire} v{self.number}"


class ScreeningAnswers(models.Model):
    """
    A client's answers to the health questions for one booking: health data,
    so kept apart from the booking, shown only to staff with the
    “view_health_answers” permission, and deleted when the booking is
    anonymised. The outcome (no answers) is what the lists show.
    """

    booking = models.OneToOneField(
        "booking.ConsultationBooking", on_delete=models.CASCADE, related_name="screening"
    )
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict, help_text="Question key → answer, as given.")
    outcome = models.CharField(max_length=10, choices=ScreeningOutcome, db_index=True)
    reasons = models.JSONField(
        default=list, help_text="The staff notes of the rules the answers met."
    )
    checked_for = models.DateField(
        help_text="The appointment date the date rules were measured against."
    )
    health_consent_given_at = models.DateTimeField()
    health_policy_version = models.CharField(max_length=40)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = "health answers"
        verbose_name_plural = "health answers"
        default_permissions = ()
        permissions = [("view_health_answers", "Can see clients' answers to the health questions")]

    def __str__(self):
        return f"Health answers for {self.booking_id}"


class HealthFormRead(models.Model):
    """
    One display of a booking's health answers to a member of staff: who,
    when, which booking, from which page. Never an answer. The records are
    kept as written: the admin offers no add, change or delete, and the
    database refuses UPDATE and DELETE on the table (a trigger on each
    database: migration 0024 on PostgreSQL, booking/sqlite.py on SQLite).

    Because no row may change, nothing may cascade into it or be set to NULL
    in it: the booking and the staff account are foreign keys without a
    database constraint (DO_NOTHING), with the booking's reference and the
    account's username kept as text. A deleted booking or account leaves the
    record whole, with an id that points nowhere (ids are never reused);
    anonymisation keeps the booking row, so its records still link to it.
    """

    class Page(models.TextChoices):
        # The only page that shows answers today. The day sheet and the CSV
        # export show the outcome alone; a new page that shows answers adds
        # its own choice here and records through screening.record_health_form_read.
        BOOKING_PAGE = "booking_page", "The booking's page in the admin"

    booking = models.ForeignKey(
        "booking.ConsultationBooking",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="health_form_reads",
        help_text="The booking whose health answers were shown (it may since have been deleted).",
    )
    booking_reference = models.CharField(
        "booking reference",
        max_length=12,
        help_text="The booking's reference, kept should the booking be deleted.",
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="The staff account the answers were shown to (it may since have been deleted).",
    )
    reader_username = models.CharField(
        "staff member",
        max_length=150,
        help_text="The account's username when it read the form, kept should the account go.",
    )
    read_at = models.DateTimeField("read at", default=timezone.now, db_index=True)
    page = models.CharField(max_length=20, choices=Page)

    class Meta:
        ordering = ["-read_at", "-pk"]
        verbose_name = "health form read"
        verbose_name_plural = "health form reads"
        # Viewing is the only permission there is: nobody adds, changes or deletes a record.
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["booking_reference"], name="health_form_read_reference"),
            models.Index(fields=["reader", "read_at"], name="health_form_read_reader"),
        ]

    def __str__(self):
        return f"{self.booking_reference} read by {self.reader_username}"
