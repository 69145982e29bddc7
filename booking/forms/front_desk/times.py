"""
A consultation's date and time as the front desk types them (a date input
and a time input, checked against the clocks' changes and the type's grid),
and the chosen day's free times, each a button: what booking a caller and
moving a booking share, and the report's date fields.
"""

from dataclasses import dataclass
from datetime import date

from django import forms
from django.utils import timezone

from booking.services.schedule import ClinicCalendar, clinic_datetime, repeated_instants

PICK_TIME = "pick_time"  # A free time's button: show the form again with that time.


SHOW_TIMES = "show_times"  # "Show free times": show the form again, checking nothing.


# Which of a time that happens twice (the night the clocks go back): a free
# time's button carries it after the clock time, e.g. "01:15 second".
FIRST, SECOND = "first", "second"


def _clock(value):
    """A clinic clock time as staff say it, e.g. “9:30 AM”."""
    return f"{value:%I:%M %p}".lstrip("0")


@dataclass(frozen=True)
class FreeTimes:
    """The free start times of one clinic day, as the staff pages list them."""

    day: date
    slots: list
    first_day: date  # the days staff may book (ClinicCalendar's span for staff)
    last_day: date
    note: str = ""  # why there can be none, when the choices rule every time out

    @property
    def in_reach(self):
        return self.first_day <= self.day <= self.last_day

    @property
    def buttons(self):
        """(value, label) of each free time's button: “01:15 second” names the EST 1:15 AM."""
        zone = timezone.get_current_timezone()
        buttons = []
        for slot in self.slots:
            local = slot.starts_at.astimezone(zone)
            value = f"{local:%H:%M}"
            if repeated_instants(local.date(), local.time().replace(fold=0), zone):
                value += f" {SECOND if local.fold else FIRST}"
            buttons.append((value, slot.clock_in(zone)))
        return buttons


class ClinicTimeMixin:
    """
    A consultation's start as staff type it: a clinic date and a clock time
    (a date input and a time input; no JavaScript), checked against the
    clocks' changes and the consultation type's grid here, and against
    everyone's diaries by the service. A list of the day's free times, each
    a button, saves working out the grid.
    """

    booking = None  # The booking being moved, if any: its own time counts as free.

    def clean_start(self, consultation_type):
        """The start as an aware datetime, or None (with the reason added to the form)."""
        day, clock = self.cleaned_data.get("date"), self.cleaned_data.get("time")
        if day is None or clock is None:
            return None
        # The same rule as the calendar's grid, so a time accepted here is
        # one the calendar could offer.
        zone = timezone.get_current_timezone()
        try:
            starts_at = clinic_datetime(day, clock, zone)
            twice = repeated_instants(day, clock, zone)
        except OverflowError:  # The very ends of the calendar (year 1, year 9999).
            self.add_error("date", "Choose a date within a year of today.")
            return None
        if twice:
            # The clocks go back over this time: which of the two is meant.
            which = self.cleaned_data.get("repeated_time")
            if not which:
                first, second = (f"{instant.astimezone(zone):%Z}" for instant in twice)
                self.add_error(
                    "repeated_time",
                    f"{_clock(clock)} happens twice on {day:%A %-d %B %Y}: the clocks go back "
                    f"that night. Choose the first ({first}) or the second ({second}).",
                )
                return None
            starts_at = twice[which == SECOND]
        if starts_at is None:
            self.add_error(
                "time",
                f"{_clock(clock)} does not exist on {day:%A %-d %B %Y}: the clocks go forward "
                "that night. Choose another time.",
            )
            return None
        if consultation_type is not None and not consultation_type.is_on_grid(
            timezone.localtime(starts_at)
        ):
            grid = consultation_type.grid_minutes
            minutes = clock.hour * 60 + clock.minute
            earlier = minutes - minutes % grid
            neighbours = [earlier, earlier + grid] if earlier + grid < 24 * 60 else [earlier]
            instead = " or ".join(
                _clock(clock.replace(hour=minute // 60, minute=minute % 60))
                for minute in neighbours
            )
            self.add_error(
                "time",
                f"{consultation_type.name} starts every {grid} minutes, counted from midnight: "
                f"choose {instead} instead of {_clock(clock)}.",
            )
        return starts_at

    def _peek(self, name):
        """A field's value as it would be cleaned, or None, without validating the form."""
        try:
            return self.fields[name].clean(self[name].value())
        except forms.ValidationError:
            return None

    def free_times(self):
        """The chosen day's free times for the chosen consultation and person, or None."""
        consultation_type, day = self.chosen_type(), self._peek("date")
        if consultation_type is None or day is None:
            return None
        person = self.chosen_practitioner()
        calendar = ClinicCalendar(
            consultation_type,
            practitioner=person,
            ignore_booking=self.booking,
            online=False,
            for_staff=True,
        )
        note = ""
        if person is not None and person not in calendar.practitioners:
            note = f"{person.name} does not take “{consultation_type.name}”."
        return FreeTimes(day, calendar.slots([day]), calendar.first_day, calendar.last_day, note)

    @classmethod
    def initial_from(cls, data):
        """What was posted, as initial values: the form shown again, not checked yet."""
        initial = {}
        for name, field in cls.base_fields.items():
            if isinstance(field, forms.BooleanField):
                initial[name] = name in data
            elif isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
                initial[name] = data.getlist(name)
            elif name in data:
                initial[name] = data[name]
        if PICK_TIME in data:
            initial["time"], _, which = data[PICK_TIME].partition(" ")
            initial["repeated_time"] = which
        return initial

    def asks_repeated_time(self):
        """Whether to show the first-or-second choice: a time the clocks go back over."""
        return bool(self["repeated_time"].value() or self["repeated_time"].errors)


def date_field(label):
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": f"Enter the {label.lower()}.",
            "invalid": "Enter a date like 2026-12-01.",
        },
    )


def repeated_time_field():
    return forms.ChoiceField(
        label="Which one",
        choices=[
            (FIRST, "The first, before the clocks go back (daylight time)"),
            (SECOND, "The second, after the clocks go back (standard time)"),
        ],
        required=False,
        widget=forms.RadioSelect,
        help_text="The night the clocks go back, 1:00–1:59 AM happens twice.",
        error_messages={"invalid_choice": "Choose the first or the second."},
    )


def time_field():
    return forms.TimeField(
        label="Time (clinic time)",
        # Hours and minutes only: a time input sends 14:30, and a consultation
        # never starts at a second past.
        input_formats=["%H:%M"],
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="On the clinic's clock, e.g. 14:30; or press one of the free times.",
        error_messages={
            "required": "Enter the time, or press one of the free times.",
            "invalid": "Enter a time like 14:30.",
        },
    )
