"""
The admin for suitability screening (imported by booking/admin/__init__.py): clinical
leads edit questionnaires, their questions and the rules on the answers, and
publish them as a new version. Bookings show their health answers, as the
client saw the questions, only to staff with `booking.view_health_answers`,
and each display is recorded (HealthFormRead): clinical leads read those
records, per booking on its page and in a list of their own, and nobody
edits or deletes them.
"""

from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string

from booking.models import (
    AnswerRule,
    HealthFormRead,
    Question,
    Questionnaire,
    QuestionnaireUse,
    QuestionnaireVersion,
    ScreeningAnswers,
    ScreeningOutcome,
)
from booking.services import screening

HEALTH_PERMISSION = "booking.view_health_answers"
EXAMPLE_WARNING = (
    "This questionnaire is EXAMPLE content: the clinic's medical director should review its "
    "questions and rules (then untick “example content”) before clients are asked them."
)


def health_form_label(outcome):
    """A booking's health form in a list: its outcome, flagged unless fine; never an answer."""
    if not outcome:
        return "—"
    if outcome == ScreeningOutcome.FINE:
        return "Fine"
    return f"⚑ {ScreeningOutcome(outcome).label}"


class HealthFormFilter(admin.SimpleListFilter):
    """Bookings by their health form's outcome: the flagged ones are the ones to look at."""

    title = "health form"
    parameter_name = "health_form"

    def lookups(self, request, model_admin):
        return [("flagged", "Needs a look (⚑)"), ("fine", "Fine"), ("none", "No health form")]

    def queryset(self, request, queryset):
        if self.value() == "flagged":
            return queryset.filter(screening__isnull=False).exclude(
                screening__outcome=ScreeningOutcome.FINE
            )
        if self.value() == "fine":
            return queryset.filter(screening__outcome=ScreeningOutcome.FINE)
        if self.value() == "none":
            return queryset.filter(screening__isnull=True)
        return queryset


class QuestionnaireUseInline(admin.TabularInline):
    model = QuestionnaireUse
    extra = 0


class QuestionInline(admin.TabularInline):
    model = Question
    fields = ["position", "kind", "text", "help_text", "choices", "required"]
    extra = 0
    show_change_link = True  # The rules on a question's answers are on its own page.


class VersionInline(admin.TabularInline):
    model = QuestionnaireVersion
    fields = ["number", "published_at", "published_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("published_by")


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "is_example", "types", "published", "updated_at"]
    list_filter = ["is_active", "is_example"]
    search_fields = ["name"]
    inlines = [QuestionnaireUseInline, QuestionInline, VersionInline]
    actions = ["publish"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("uses__consultation_type", "versions")

    @admin.display(description="asked before")
    def types(self, questionnaire):
        return ", ".join(str(use.consultation_type) for use in questionnaire.uses.all()) or "—"

    @admin.display(description="published version")
    def published(self, questionnaire):
        numbers = [version.number for version in questionnaire.versions.all()]
        return f"v{max(numbers)}" if numbers else "Not published yet"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        questionnaire = self.get_object(request, object_id)
        if questionnaire is not None and questionnaire.is_example and request.method == "GET":
            messages.warning(request, EXAMPLE_WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(
        description="Publish the selected questionnaires as they are now (a new version)",
        permissions=["change"],
    )
    def publish(self, request, queryset):
        for questionnaire in queryset:
            version, created = screening.publish_questionnaire(questionnaire, by=request.user)
            if created:
                self.message_user(
                    request,
                    f"{questionnaire}: published as version {version.number}.",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    f"{questionnaire}: unchanged since version {version.number}; nothing published.",
                    messages.INFO,
                )
            if questionnaire.is_example:
                self.message_user(request, EXAMPLE_WARNING, messages.WARNING)


class AnswerRuleInline(admin.TabularInline):
    model = AnswerRule
    fields = ["answer", "within_months", "outcome", "note_for_staff"]
    extra = 1


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "questionnaire", "kind", "required", "position"]
    list_filter = ["questionnaire", "kind"]
    list_select_related = ["questionnaire"]
    search_fields = ["text"]
    inlines = [AnswerRuleInline]


class HealthAnswersMixin:
    """
    For the booking admin: the health form's outcome in the list (no
    answers), and the answers themselves on a booking's page for staff who
    may see them.
    """

    def get_queryset(self, request):
        # The outcome alone, in the list's own query: the answers stay unread.
        # A subquery rather than a join: the list's count drops an annotation
        # it does not need, but not a join, and at 100,000 bookings joining
        # the answers was most of the count's time.
        return (
            super()
            .get_queryset(request)
            .annotate(
                health_outcome=Subquery(
                    ScreeningAnswers.objects.filter(booking=OuterRef("pk")).values("outcome")[:1]
                )
            )
        )

    @admin.display(description="health form", ordering="health_outcome")
    def health_form(self, booking):
        return health_form_label(booking.health_outcome)

    @admin.display(description="answers to the health questions")
    def health_answers(self, booking):
        answers = getattr(booking, "screening", None)
        if answers is None:
            return "No health answers are held (none were asked, or they were deleted)."
        return render_to_string(
            "booking/screening/includes/health_answers.html",
            {"answers": answers, "rows": screening.answers_as_seen(answers)},
        )

    def may_see_health_answers(self, request):
        return request.user.has_perm(HEALTH_PERMISSION)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if self.may_see_health_answers(request):
            fields.append("health_answers")
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and self.may_see_health_answers(request):
            fieldsets.insert(2, ("Health form", {"fields": ["health_answers"]}))
        return fieldsets

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Every rendering of the page shows the answers (a GET, or a POST the
        # form sent back with errors), so each one is a read. A page without
        # answers to show records nothing. `screening` is read once: the
        # readonly field above uses the same instance's cached answers.
        if (
            obj is not None
            and self.may_see_health_answers(request)
            and getattr(obj, "screening", None) is not None
        ):
            screening.record_health_form_read(
                booking=obj, reader=request.user, page=HealthFormRead.Page.BOOKING_PAGE
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


class ReadOnlyRecordMixin:
    """Records kept as written: nobody adds, changes or deletes one here, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HealthFormReadInline(ReadOnlyRecordMixin, admin.TabularInline):
    """
    On a booking's page, for those who may view the records (clinical leads,
    superusers): who read its health form, and when. The kept username, not
    the account, so the page costs one query however many reads there are.
    """

    model = HealthFormRead
    fields = ["read_at", "reader_username", "page"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "who read the health form"


class StaffMemberFilter(admin.SimpleListFilter):
    """The staff who have read a health form, deleted accounts included (by their kept name)."""

    title = "staff member"
    parameter_name = "reader"

    def lookups(self, request, model_admin):
        readers = (
            HealthFormRead.objects.order_by("reader_username", "reader_id")
            .values_list("reader_id", "reader_username")
            .distinct()
        )
        return [(str(reader_id), username) for reader_id, username in readers]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(reader_id=self.value())
        return queryset


@admin.register(HealthFormRead)
class HealthFormReadAdmin(ReadOnlyRecordMixin, admin.ModelAdmin):
    list_display = ["read_at", "booking_reference", "reader_username", "page"]
    list_filter = [StaffMemberFilter, "page"]
    date_hierarchy = "read_at"
    search_fields = ["=booking_reference"]
    fields = ["read_at", "booking_reference", "reader_username", "page"]
    readonly_fields = fields
