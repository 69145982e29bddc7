"""
What a client books: the consultation types, each with how long it takes,
who may hold it, when it may start, and the care messages its clients get.
"""

from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast

from .schedule import Practitioner
from .screening import QuestionnaireVersion

# How far ahead before-care may be set: the job that sends it looks this far
# (and a day more, for a clock change) ahead for confirmed consultations.
MAX_BEFORE_CARE_DAYS = 14


class ConsultationTypeQuerySet(models.QuerySet):
    def bookable_online(self):
        return self.filter(bookable_online=True)

    def sending_before_care(self):
        return self.exclude(before_care_text="").filter(care_texts_need_review=False)

    def with_named_practitioners(self):
        """
        Each type with the ids of the practitioners named on it, for
        is_held_by(), in the same query: what prefetching `practitioners`
        gives, without the second query.
        """
        return self.annotate(
            named_practitioners=models.StringAgg(
                Cast("practitioners", models.CharField()), models.Value(","), default=""
            )
        )

    def with_health_questions(self):
        """
        Each type with `health_questions_version`: the id of the published
        version of the questionnaire it asks, or None, in the same query.
        """
        return self.annotate(
            health_questions_version=models.Subquery(
                QuestionnaireVersion.objects.filter(
                    questionnaire__uses__consultation_type=models.OuterRef("pk"),
                    questionnaire__is_active=True,
                )
                .order_by("-number")
                .values("pk")[:1]
            )
        )


class ConsultationType(models.Model):
    """What a client books: how long it takes, who may hold it, when it may start."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True, help_text="Used in links.")
    treatment = models.ForeignKey(
        "treatments.Treatment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultation_types",
        help_text="The treatment it is about. Empty means a skin assessment for clients not sure yet.",
    )
    duration_minutes = models.PositiveSmallIntegerField(
        "length (minutes)", default=30, help_text="How long the consultation itself lasts."
    )
    turnover_minutes = models.PositiveSmallIntegerField(
        "turnover (minutes)",
        default=10,
        help_text="Time after it to reset the room, during which the practitioner takes nobody else.",
    )
    grid_minutes = models.PositiveSmallIntegerField(
        "start times every (minutes)",
        default=15,
        help_text="Offered start times fall on this grid, counted from midnight (15: 9:00, 9:15, 9:30…).",
    )
    needs_medical_provider = models.BooleanField(
        default=False, help_text="Only medical providers (nurse, NP, physician) may hold it."
    )
    practitioners = models.ManyToManyField(
        Practitioner,
        blank=True,
        related_name="consultation_types",
        help_text="Who takes it. Leave empty for every qualified practitioner.",
    )
    price_text = models.CharField(
        "price",
        max_length=100,
        blank=True,
        help_text="As clients should read it, e.g. “Complimentary”.",
    )
    description = models.TextField(
        blank=True, help_text="One or two sentences for the booking page."
    )
    bookable_online = models.BooleanField(default=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    # Care texts are the clinic's own general advice for everyone booking the
    # type, never about one client: emails carry no client's health details.
    before_care_text = models.TextField(
        "before-care text",
        blank=True,
        help_text=(
            "Emailed to the client before a confirmed consultation: how to prepare, e.g. "
            "“Please pause retinoid products for 3 days before.” Plain text, the same for "
            "every client. Leave empty to send no before-care."
        ),
    )
    before_care_days = models.PositiveSmallIntegerField(
        "send before-care (days before)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_BEFORE_CARE_DAYS)],
        help_text=(
            f"How many days before the consultation it goes, at the consultation's time "
            f"of day (1 to {MAX_BEFORE_CARE_DAYS}). A consultation confirmed later than "
            f"that gets it straight away."
        ),
    )
    aftercare_text = models.TextField(
        "aftercare text",
        blank=True,
        help_text=(
            "Emailed to the client once, when the consultation is marked completed. Plain "
            "text, the same for every client. Leave empty to send no aftercare."
        ),
    )
    care_texts_need_review = models.BooleanField(
        "care texts are examples awaiting review",
        default=False,
        help_text=(
            "While ticked, neither care text is sent. The site came with example texts: "
            "have them checked by the clinic's practitioners, then untick. Only a clinical "
            "lead may untick it; a change to the texts by anyone else ticks it again."
        ),
    )

    objects = ConsultationTypeQuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "name"]
        verbose_name = "consultation type"
        # Care texts are clinical advice emailed to every client of the type:
        # a clinical lead approves them for sending; anyone else who changes
        # them sends them back for review (booking/admin/schedule.py).
        permissions = [("approve_care_texts", "Can approve care texts for sending")]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5), name="consultation_at_least_5_minutes"
            ),
            models.CheckConstraint(
                condition=Q(grid_minutes__gte=5) & Q(grid_minutes__lte=240),
                name="grid_between_5_and_240_minutes",
            ),
            models.CheckConstraint(
                condition=Q(before_care_days__gte=1)
                & Q(before_care_days__lte=MAX_BEFORE_CARE_DAYS),
                name="before_care_between_1_and_14_days",
            ),
        ]

    def __str__(self):
        return self.name

    CARE_TEXT_FIELDS = frozenset({"before_care_text", "aftercare_text"})

    def hold_care_texts_for_review(self, changed_fields, *, may_approve):
        """
        A change to the care texts by someone who may not approve them puts
        both back awaiting review. Returns whether it did.
        """
        if may_approve or not self.CARE_TEXT_FIELDS & set(changed_fields):
            return False
        self.care_texts_need_review = True
        return True

    @property
    def sends_before_care(self):
        return bool(self.before_care_text.strip()) and not self.care_texts_need_review

    @property
    def sends_aftercare(self):
        return bool(self.aftercare_text.strip()) and not self.care_texts_need_review

    @property
    def length(self):
        return timedelta(minutes=self.duration_minutes)

    @property
    def turnover(self):
        return timedelta(minutes=self.turnover_minutes)

    def qualified_practitioners(self):
        """
        Who may hold this consultation, in one query: the active practitioners
        named on it (or everyone active, when none are named), less anyone who
        is not a medical provider when it needs one.
        """
        queryset = Practitioner.objects.active()
        if self.needs_medical_provider:
            queryset = queryset.filter(is_medical_provider=True)
        named = ConsultationType.practitioners.through.objects.filter(consultationtype=self.pk)
        return queryset.filter(Q(pk__in=named.values("practitioner")) | ~models.Exists(named))

    def is_held_by(self, practitioner):
        """
        The same rule as qualified_practitioners(), for one person, in Python
        (read the types with_named_practitioners(), or prefetch `practitioners`,
        to ask it of many types without a query each).
        """
        if hasattr(self, "named_practitioners"):
            named = {int(pk) for pk in self.named_practitioners.split(",") if pk}
        else:
            named = {person.pk for person in self.practitioners.all()}
        return (
            practitioner.is_active
            and (practitioner.is_medical_provider or not self.needs_medical_provider)
            and (not named or practitioner.pk in named)
        )

    def is_on_grid(self, local_start):
        minutes = local_start.hour * 60 + local_start.minute
        return local_start.second == 0 and minutes % self.grid_minutes == 0
