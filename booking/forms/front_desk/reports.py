"""
The report's period: clinic dates, both days included
(booking/views/front_desk/reports.py).
"""

from datetime import date, timedelta

from django import forms
from django.utils import timezone

from .times import date_field

# Reports cover this century: a date outside it is a typo, and the ends of
# the calendar (year 1, year 9999) have no clinic-local midnight to count from.
REPORT_EARLIEST = date(2000, 1, 1)


REPORT_LATEST = date(2099, 12, 31)


class ReportPeriodForm(forms.Form):
    """A period of clinic-local dates, both days included; by default this month."""

    start = date_field("First day")
    end = date_field("Last day")

    @classmethod
    def this_month(cls, today=None):
        today = today or timezone.localdate()
        first = today.replace(day=1)
        next_month = (first + timedelta(days=32)).replace(day=1)
        return {"start": first.isoformat(), "end": (next_month - timedelta(days=1)).isoformat()}

    @classmethod
    def from_query(cls, query):
        """Bound to the address's dates, the current month filling in any left out."""
        return cls(
            cls.this_month() | {name: query[name] for name in ["start", "end"] if name in query}
        )

    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("start"), cleaned_data.get("end")
        for name, day in [("start", start), ("end", end)]:
            if day is not None and not REPORT_EARLIEST <= day <= REPORT_LATEST:
                self.add_error(
                    name,
                    f"Choose a date from {REPORT_EARLIEST:%-d %B %Y} to {REPORT_LATEST:%-d %B %Y}.",
                )
        if start and end and end < start:
            self.add_error(
                "end", "The last day is before the first day. Choose a last day on or after it."
            )
        return cleaned_data
