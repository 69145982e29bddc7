"""The forms of a client's "My visits" page: the address to sign in with, and a move."""

from django import forms

from .bookings import MoveBookingForm
from .fields import email_field


class SignInRequestForm(forms.Form):
    email = email_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "email"
        ].help_text = (
            "The address you booked with. We email a link that signs you in for 30 minutes."
        )


class VisitMoveForm(MoveBookingForm):
    """
    The manage page's move, with the time the client saw: a booking staff
    moved while the page was open is refused as changed meanwhile (the
    move service's seen_starts_at), never moved from a time the client did
    not know it had.
    """

    seen_starts_at = forms.DateTimeField(widget=forms.HiddenInput)

    def __init__(self, *args, booking, **kwargs):
        super().__init__(*args, booking=booking, **kwargs)
        self.fields["seen_starts_at"].initial = booking.starts_at.isoformat()
        self.fields["seen_starts_at"].error_messages["invalid"] = self.fields[
            "seen_starts_at"
        ].error_messages["required"] = "This page is out of date: please look at your visits again."
