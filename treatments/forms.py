from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator

from .models import Photograph, SkinConcern, SkinGoal, SkinSensitivity
from .renditions import clean_original


class LoadedChoiceIterator(ModelChoiceIterator):
    """A field's choices from the rows its form loaded: no query of its own."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.field.rows:
            yield self.choice(row)

    def __len__(self):
        return len(self.field.rows) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.rows)


class LoadedChoicesMixin:
    """
    A model choice field whose rows are loaded once, in one query, by
    `load()`. Django's own runs its queryset again for each thing it does:
    once to render the choices (on PostgreSQL through a server-side cursor,
    several round trips) and once more to check the answers, per field.
    Here the rendering and the checking both use the loaded rows.
    """

    iterator = LoadedChoiceIterator
    rows = ()

    def load(self, queryset):
        self.rows = list(queryset)
        self.by_value = {str(self.prepare_value(row)): row for row in self.rows}
        self.queryset = queryset  # Never run; resets the widget's choices.

    def row_for(self, value):
        """The loaded row `value` names (a slug, or a row), or a ValidationError."""
        if hasattr(value, "_meta"):
            value = self.prepare_value(value)
        self.validate_no_null_characters(value)
        try:
            return self.by_value[str(value)]
        except (KeyError, TypeError):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            ) from None


class LoadedModelChoiceField(LoadedChoicesMixin, forms.ModelChoiceField):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        return self.row_for(value)


class LoadedModelMultipleChoiceField(LoadedChoicesMixin, forms.ModelMultipleChoiceField):
    """Cleans to a list of the chosen rows, in the order they were loaded (the model's)."""

    def _check_values(self, value):
        try:
            chosen = {self.row_for(item).pk for item in frozenset(value)}
        except TypeError:
            # A list of lists is not hashable, for example.
            raise ValidationError(
                self.error_messages["invalid_list"], code="invalid_list"
            ) from None
        return [row for row in self.rows if row.pk in chosen]


class FacialGuideForm(forms.Form):
    """
    The guide's questions. It is submitted with GET, so a result can be
    bookmarked or shared, and the choices travel as slugs, so a tampered
    address gets the form back with a message rather than an error page.
    Each list of answers is loaded once, in one query, for showing the
    choices and checking the answers alike.
    """

    concerns = LoadedModelMultipleChoiceField(
        label="What would you like to improve?",
        help_text="Choose all that apply.",
        queryset=SkinConcern.objects.none(),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one thing you would like to improve.",
            "invalid_choice": "One of the concerns chosen is not on our list. Please choose again.",
            "invalid_pk_value": "One of the concerns chosen is not on our list. Please choose again.",
            "invalid_list": "Please choose your concerns from the list.",
        },
    )
    sensitivity = LoadedModelChoiceField(
        label="How sensitive is your skin?",
        queryset=SkinSensitivity.objects.none(),
        to_field_name="slug",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Tell us how sensitive your skin is.",
            "invalid_choice": "That answer about sensitivity is not on our list. Please choose again.",
        },
    )
    goal = LoadedModelChoiceField(
        label="What are you hoping for?",
        queryset=SkinGoal.objects.none(),
        to_field_name="slug",
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": "Tell us whether you are after a short-term glow or long-term change.",
            "invalid_choice": "That goal is not on our list. Please choose again.",
        },
    )

    # The query string's names for the answers (GuideView's cache key reads them).
    ANSWERS = ("concerns", "sensitivity", "goal")
    MANY_ANSWERS = {"concerns"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concerns"].load(SkinConcern.objects.for_guide())
        self.fields["sensitivity"].load(SkinSensitivity.objects.for_guide())
        self.fields["goal"].load(SkinGoal.objects.for_guide())


class PhotographFileField(forms.ImageField):
    """
    An uploaded photograph, checked (type, size, pixels) with a message for
    each way it can be refused, and returned cleaned: upright, as a JPEG
    without metadata (renditions.clean_original). Django's own ImageField
    would refuse an SVG or a decompression bomb too, but only as "not an
    image or a corrupted image", which tells staff nothing they can act on.
    """

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        return clean_original(upload)


class PhotographForm(forms.ModelForm):
    image = PhotographFileField(
        label="Photograph",
        help_text=Photograph._meta.get_field("image").help_text,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/avif"}
        ),
    )

    class Meta:
        model = Photograph
        fields = [
            "title",
            "image",
            "crop",
            "alt_text",
            "is_decorative",
            "focal_x",
            "focal_y",
            "is_example",
        ]
        widgets = {
            "focal_x": forms.NumberInput(attrs={"min": 0, "max": 100}),
            "focal_y": forms.NumberInput(attrs={"min": 0, "max": 100}),
        }
