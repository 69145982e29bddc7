from django.contrib import admin
from django.db.models import Count
from django.forms import Script
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.text import capfirst

from .forms import PhotographForm
from .models import (
    FAQ,
    ComparisonAspect,
    ComparisonValue,
    ContentBlock,
    DecisionFactor,
    Photograph,
    SitePage,
    SkinConcern,
    SkinGoal,
    SkinSensitivity,
    Treatment,
    TreatmentPoint,
)
from .services import delete_photographs, save_photograph


class KeepReferencedContentMixin:
    """
    Content that records outside the content app refer to (a consultation
    booking keeps the treatment and skin concerns its client chose) cannot
    be deleted: deleting it would silently change those records, with
    nothing in anyone's history. The delete page lists what refers to it
    and says to unpublish it instead (templates/admin/treatments/). The
    models refuse such deletes too; this is what staff see first.
    """

    def get_deleted_objects(self, objs, request):
        referrers = self.referrers(objs)
        if referrers:
            return [], {}, set(), referrers
        return super().get_deleted_objects(objs, request)

    def referrers(self, objs):
        """'Treatment “X”: 3 consultation bookings', for each object something elsewhere refers to."""
        opts = self.model._meta
        objs = list(objs)
        found = []
        for relation in opts.related_objects:
            related = relation.related_model._meta
            if related.app_label == opts.app_label:
                continue
            name = relation.field.name
            counts = dict(
                relation.related_model._base_manager.filter(**{f"{name}__in": objs})
                .order_by()
                .values_list(name)
                .annotate(Count("pk"))
            )
            for obj in objs:
                if counts.get(obj.pk):
                    count = counts[obj.pk]
                    kind = related.verbose_name if count == 1 else related.verbose_name_plural
                    found.append(f"{capfirst(opts.verbose_name)} “{obj}”: {count} {kind}")
        return found


class TreatmentPointInline(admin.TabularInline):
    model = TreatmentPoint
    fields = ["section", "text", "position"]
    extra = 1


class TreatmentFAQInline(admin.TabularInline):
    model = FAQ
    fields = ["question", "answer", "position", "is_published"]
    extra = 0
    show_change_link = True


@admin.register(Treatment)
class TreatmentAdmin(KeepReferencedContentMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "is_published", "display_order", "updated_at"]
    list_select_related = ["photograph"]
    list_editable = ["is_published", "display_order"]
    list_filter = ["is_published"]
    search_fields = ["name", "summary", "introduction"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TreatmentPointInline, TreatmentFAQInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_published", "display_order", "photograph"]}),
        ("Overview", {"fields": ["summary", "introduction", "how_it_works"]}),
        (
            "Steps and suitability",
            {
                "description": "The bullet lists themselves are edited under “List items” below.",
                "fields": [
                    "includes_lead",
                    "includes_summary",
                    "components_lead",
                    "best_for_summary",
                    "not_designed_for",
                ],
            },
        ),
        (
            "What to expect",
            {"fields": ["oversight", "downtime", "frequency", "results", "safety_notes"]},
        ),
        ("Search engines", {"fields": ["meta_description"]}),
    ]


class ComparisonValueInline(admin.TabularInline):
    model = ComparisonValue
    fields = ["treatment", "text"]
    extra = 0


@admin.register(ComparisonAspect)
class ComparisonAspectAdmin(admin.ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name", "values__text"]
    inlines = [ComparisonValueInline]


@admin.register(DecisionFactor)
class DecisionFactorAdmin(admin.ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]
    search_fields = ["name"]


class GuideAnswerAdmin(KeepReferencedContentMixin, admin.ModelAdmin):
    list_display = ["label", "recommended_treatment", "position", "is_published"]
    list_editable = ["position", "is_published"]
    list_filter = ["is_published", "recommended_treatment"]
    list_select_related = ["recommended_treatment"]
    search_fields = ["label", "reason"]
    prepopulated_fields = {"slug": ["label"]}


@admin.register(SkinConcern)
class SkinConcernAdmin(GuideAnswerAdmin):
    pass


@admin.register(SkinSensitivity)
class SkinSensitivityAdmin(GuideAnswerAdmin):
    pass


@admin.register(SkinGoal)
class SkinGoalAdmin(GuideAnswerAdmin):
    pass


@admin.register(FAQ)
class FAQAdmin(admin.ModelAdmin):
    list_display = ["question", "treatment", "position", "is_published"]
    list_editable = ["position", "is_published"]
    list_filter = ["is_published", "treatment"]
    list_select_related = ["treatment"]
    search_fields = ["question", "answer"]


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "heading", "updated_at"]
    search_fields = ["title", "heading", "introduction", "body"]

    def get_readonly_fields(self, request, obj=None):
        # Each page's key ties it to a view; changing it would orphan the page.
        return ["key"] if obj else []

    def has_delete_permission(self, request, obj=None):
        # Every page needs its text; deleting it would take the page down.
        return False


@admin.register(ContentBlock)
class ContentBlockAdmin(admin.ModelAdmin):
    list_display = ["__str__", "heading"]
    search_fields = ["heading", "text"]

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []


@admin.register(Photograph)
class PhotographAdmin(admin.ModelAdmin):
    form = PhotographForm
    list_display = ["title", "preview", "alt_text", "is_decorative", "is_example", "updated_at"]
    list_filter = ["is_example", "is_decorative", "crop"]
    search_fields = ["title", "alt_text"]
    readonly_fields = ["preview", "size", "focal_point_picker", "rendition_count"]
    fieldsets = [
        (None, {"fields": ["title", "image", "preview", "size", "is_example"]}),
        ("For people who cannot see it", {"fields": ["alt_text", "is_decorative"]}),
        (
            "Shape and focal point",
            {
                "description": "Crops (a wide card, a portrait) keep this point in view: "
                "put it on the face or the subject.",
                "fields": ["crop", "focal_point_picker", "focal_x", "focal_y"],
            },
        ),
        ("Renditions", {"fields": ["rendition_count"]}),
    ]

    class Media:
        # The focal point picker: a progressive enhancement of the two
        # number fields, which stay the form's values (keyboard, no script).
        # Static files only: the admin runs under the site's CSP too.
        js = [Script("js/focal-point.js", defer=True)]
        css = {"all": ["css/focal_point.css"]}

    def save_model(self, request, obj, form, change):
        # The renditions are made here, once, not by a visitor's request; a
        # replaced file leaves storage with its renditions.
        save_photograph(photograph=obj)

    def delete_model(self, request, obj):
        delete_photographs(photographs=[obj])

    def delete_queryset(self, request, queryset):
        delete_photographs(photographs=queryset)

    @admin.display(description="preview")
    def preview(self, obj):
        sources = obj.sources(obj.crop) if obj.pk else None
        if not sources:
            return "—"
        return format_html(
            '<img src="{}" width="160" height="{}" alt="">',
            sources["src"],
            round(160 * sources["height"] / sources["width"]),
        )

    @admin.display(description="whole photograph")
    def focal_point_picker(self, obj):
        if not obj.pk or not obj.image:
            return "—"
        return render_to_string(
            "admin/treatments/photograph/focal_point_picker.html", {"photograph": obj}
        )

    @admin.display(description="original size")
    def size(self, obj):
        return f"{obj.width} × {obj.height} pixels" if obj.width else "—"

    @admin.display(description="renditions made")
    def rendition_count(self, obj):
        return len(obj.renditions)
