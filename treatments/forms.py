from django import forms

from .models import SkinConcern, SkinGoal, SkinSensitivity


class FacialGuideForm(forms.Form):
    """
    The guide's questions. It is submitted with GET, so a result can be
    bookmarked or shared, and the choices travel as slugs, so a tampered
    address gets the form back with a message rather than an error page.
    """

    concerns = forms.ModelMultipleChoiceField(
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
    sensitivity = forms.ModelChoiceField(
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
    goal = forms.ModelChoiceField(
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concerns"].queryset = SkinConcern.objects.for_guide()
        self.fields["sensitivity"].queryset = SkinSensitivity.objects.for_guide()
        self.fields["goal"].queryset = SkinGoal.objects.for_guide()
