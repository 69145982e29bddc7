"""
The clinic's treatment content, as data that staff edit in the admin.

Nothing a visitor reads about a treatment is written in a template: pages
only arrange what these models hold.
"""

from django.db import models
from django.urls import reverse

# Registered with the app's models from here; the photographs' own module
# holds them and what pages need to show them.
from .photographs import Photograph  # noqa: F401


class PublishedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class TreatmentQuerySet(PublishedQuerySet):
    def with_points(self):
        return self.prefetch_related("points")


class Treatment(models.Model):
    """A kind of facial the clinic offers (professional or medical-grade)."""

    name = models.CharField(
        max_length=100, help_text="As visitors see it, e.g. “Medical-grade facial”."
    )
    slug = models.SlugField(unique=True, help_text="The last part of the page address.")
    summary = models.TextField(
        help_text="One or two sentences for the treatment list and the home page."
    )
    introduction = models.TextField(
        help_text="Opening paragraphs of the treatment page. Leave a blank line between paragraphs."
    )
    includes_lead = models.CharField(
        "lead-in to the steps",
        max_length=255,
        blank=True,
        help_text="Sentence shown before the list of what the treatment typically includes.",
    )
    includes_summary = models.TextField(
        "after the steps",
        blank=True,
        help_text="Sentence shown after the list of steps.",
    )
    best_for_summary = models.TextField(
        "best for (summary)",
        blank=True,
        help_text="Sentence shown with the list of what the treatment is best for.",
    )
    components_lead = models.CharField(
        "lead-in to the components",
        max_length=255,
        blank=True,
        help_text="Sentence shown before the list of common components.",
    )
    not_designed_for = models.TextField(
        blank=True, help_text="What this treatment is not designed to treat."
    )
    how_it_works = models.TextField(blank=True)
    oversight = models.TextField(
        "who performs it",
        blank=True,
        help_text="Who performs the treatment and under what supervision.",
    )
    downtime = models.TextField(blank=True)
    frequency = models.TextField(blank=True, help_text="How often it is usually done.")
    results = models.TextField("how results develop", blank=True)
    safety_notes = models.TextField(blank=True)
    photograph = models.ForeignKey(
        "Photograph",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Shown on the treatment's page and its card on the home page and treatment list.",
    )
    meta_description = models.CharField(
        max_length=160,
        help_text="Shown by search engines under the page title (160 characters at most).",
    )
    is_published = models.BooleanField("published", default=True, db_index=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TreatmentQuerySet.as_manager()

    class Meta:
        ordering = ["display_order", "name"]
        verbose_name = "treatment"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("treatments:detail", kwargs={"slug": self.slug})

    def points_in(self, section):
        # Works on prefetched points, so a page listing several sections
        # still costs one query.
        return [point for point in self.points.all() if point.section == section]

    @property
    def included_steps(self):
        return self.points_in(TreatmentPoint.Section.INCLUDES)

    @property
    def best_for(self):
        return self.points_in(TreatmentPoint.Section.BEST_FOR)

    @property
    def components(self):
        return self.points_in(TreatmentPoint.Section.COMPONENTS)


class TreatmentPoint(models.Model):
    """One bullet in one of a treatment's ordered lists."""

    class Section(models.TextChoices):
        INCLUDES = "includes", "What it typically includes"
        BEST_FOR = "best_for", "What it is best for"
        COMPONENTS = "components", "Common components"

    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="points")
    section = models.CharField(max_length=20, choices=Section)
    text = models.CharField(max_length=255)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["treatment", "section", "position", "pk"]
        verbose_name = "list item"

    def __str__(self):
        return self.text


class ComparisonAspect(models.Model):
    """A row of the side-by-side comparison table, e.g. “Depth of treatment”."""

    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "comparison row"

    def __str__(self):
        return self.name

    def value_for(self, treatment):
        # Reads prefetched values: the table costs the same queries whatever its size.
        for value in self.values.all():
            if value.treatment_id == treatment.pk:
                return value.text
        return ""


class ComparisonValue(models.Model):
    aspect = models.ForeignKey(ComparisonAspect, on_delete=models.CASCADE, related_name="values")
    treatment = models.ForeignKey(
        Treatment, on_delete=models.CASCADE, related_name="comparison_values"
    )
    text = models.TextField()

    class Meta:
        ordering = ["aspect", "treatment"]
        verbose_name = "comparison cell"
        constraints = [
            models.UniqueConstraint(
                fields=["aspect", "treatment"], name="one_comparison_value_per_treatment"
            ),
        ]

    def __str__(self):
        return f"{self.aspect} — {self.treatment}"


class DecisionFactor(models.Model):
    """Something providers weigh when choosing between the two facials."""

    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "decision factor"

    def __str__(self):
        return self.name


class GuideAnswerQuerySet(PublishedQuerySet):
    def for_guide(self):
        return self.published().select_related("recommended_treatment")


class GuideAnswer(models.Model):
    """
    An answer a visitor can give in “Which facial is right for me?”, with the
    treatment it usually points to and why.
    """

    label = models.CharField(max_length=150)
    slug = models.SlugField(unique=True)
    recommended_treatment = models.ForeignKey(
        Treatment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The option usually recommended for this answer. Leave empty if it does not point either way.",
    )
    reason = models.TextField(help_text="Why, in a sentence the guide shows with its suggestion.")
    position = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField("shown in the guide", default=True)

    objects = GuideAnswerQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    def __str__(self):
        return self.label


class SkinConcern(GuideAnswer):
    class Meta(GuideAnswer.Meta):
        verbose_name = "skin concern"


class SkinSensitivity(GuideAnswer):
    class Meta(GuideAnswer.Meta):
        verbose_name = "skin sensitivity answer"
        verbose_name_plural = "skin sensitivity answers"


class SkinGoal(GuideAnswer):
    class Meta(GuideAnswer.Meta):
        verbose_name = "skin goal"


class FAQQuerySet(PublishedQuerySet):
    pass


class FAQ(models.Model):
    question = models.CharField(max_length=255)
    answer = models.TextField()
    treatment = models.ForeignKey(
        Treatment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="faqs",
        help_text="Optional: also show this question on that treatment's page.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_published = models.BooleanField("published", default=True)

    objects = FAQQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "FAQ"
        verbose_name_plural = "FAQs"

    def __str__(self):
        return self.question

    def get_absolute_url(self):
        return reverse("treatments:faqs") + f"#faq-{self.pk}"


class SitePage(models.Model):
    """
    The words around a fixed page of the site: its title, meta description,
    heading and introduction. The page's layout is code; its copy is here.
    """

    class Key(models.TextChoices):
        HOME = "home", "Home"
        TREATMENTS = "treatments", "Treatment list"
        COMPARISON = "comparison", "Comparison"
        FAQS = "faqs", "FAQs"
        GUIDE = "guide", "Which facial is right for me?"
        BOOKING = "booking", "Book a consultation"
        PRIVACY = "privacy", "Privacy policy"
        TEAM = "team", "Our team"

    key = models.CharField(max_length=20, choices=Key, unique=True)
    title = models.CharField(max_length=70, help_text="The browser tab and search result title.")
    meta_description = models.CharField(max_length=160)
    heading = models.CharField(max_length=150, help_text="The page's main heading.")
    introduction = models.TextField(blank=True, help_text="Leave a blank line between paragraphs.")
    body = models.TextField(blank=True, help_text="Further text below the page's main content.")
    photograph = models.ForeignKey(
        "Photograph",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The large photograph at the top of the page (the home page shows it).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = "page text"
        verbose_name_plural = "page texts"

    def __str__(self):
        return self.get_key_display()

    def get_absolute_url(self):
        return reverse(PAGE_URL_NAMES[self.key])


PAGE_URL_NAMES = {
    SitePage.Key.HOME: "treatments:home",
    SitePage.Key.TREATMENTS: "treatments:list",
    SitePage.Key.COMPARISON: "treatments:comparison",
    SitePage.Key.FAQS: "treatments:faqs",
    SitePage.Key.GUIDE: "treatments:guide",
    SitePage.Key.BOOKING: "booking:book",
    SitePage.Key.PRIVACY: "booking:privacy",
    SitePage.Key.TEAM: "booking:team",
}


class ContentBlock(models.Model):
    """A piece of copy shown on several pages, such as the safety notes or the call to action."""

    class Key(models.TextChoices):
        CALL_TO_ACTION = "call_to_action", "Call to action"
        SAFETY = "safety", "Safety & considerations"
        DISCLAIMER = "disclaimer", "Disclaimer"
        DECISION = "decision", "How providers decide"
        DECISION_FACTORS = "decision_factors", "What the best option depends on (guide)"
        CONSULTATION_DECIDES = "consultation_decides", "A consultation decides (guide result)"
        NO_PREFERENCE = "no_preference", "Answers point both ways (guide result)"

    key = models.CharField(max_length=30, choices=Key, unique=True)
    heading = models.CharField(max_length=150)
    text = models.TextField(help_text="Leave a blank line between paragraphs.")
    link_text = models.CharField(
        max_length=100, blank=True, help_text="Text of the block's button or link, if any."
    )

    class Meta:
        ordering = ["key"]
        verbose_name = "content block"

    def __str__(self):
        return self.get_key_display()


class ContentVersion(models.Model):
    """
    A number raised by every content edit, which the page cache's keys carry
    (treatments/caching.py). There is exactly one row (pk=1). It is kept here,
    in the database every process shares, when the cache is each process's
    own memory; with Redis the number lives in Redis instead.
    """

    number = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name = "content version"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="content_version_single_row"),
        ]

    def __str__(self):
        return f"Content version {self.number}"
