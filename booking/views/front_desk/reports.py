"""
The bookings report: counts and rates for a period, computed by the database.

A period is a run of clinic-local dates, and a booking belongs to the day
its consultation starts. Every figure comes from aggregate queries (four,
however many bookings the period holds): the counts by status in one, the
counts by consultation type and by practitioner in one each, and the median
lead time by sorting in the database and reading the middle row or two.
"""

import csv
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from booking.forms.front_desk.reports import ReportPeriodForm
from booking.models import ConsultationBooking

Status = ConsultationBooking.Status


def csv_safe(value):
    """A cell a spreadsheet shows as text: one starting with = + - @ would run as a formula."""
    value = str(value)
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


# The counts every row of the report has, as aggregates.
OUTCOMES = {
    "bookings": Count("pk"),
    "completed": Count("pk", filter=Q(status=Status.COMPLETED)),
    "no_shows": Count("pk", filter=Q(status=Status.NO_SHOW)),
    "cancelled": Count("pk", filter=Q(status=Status.CANCELLED)),
}


def _rate(part, whole):
    return None if not whole else part / whole


@dataclass(frozen=True)
class Row:
    """One consultation type's or practitioner's counts."""

    name: str
    bookings: int
    completed: int
    no_shows: int
    cancelled: int

    @property
    def no_show_rate(self):
        return _rate(self.no_shows, self.completed + self.no_shows)


@dataclass(frozen=True)
class BookingReport:
    start: object  # the first clinic date
    end: object  # the last clinic date, included
    by_status: list  # [(status label, count)], every status in workflow order
    total: Row
    by_type: list  # [Row]
    by_practitioner: list  # [Row]
    median_lead_time: timedelta | None

    @property
    def no_show_rate(self):
        """No-shows among the consultations whose time came and that were held or missed."""
        return self.total.no_show_rate

    @property
    def cancellation_rate(self):
        return _rate(self.total.cancelled, self.total.bookings)

    @property
    def median_lead_days(self):
        if self.median_lead_time is None:
            return None
        return self.median_lead_time.total_seconds() / 86400


def bookings_between(start, end):
    """Bookings whose consultation starts on the clinic dates start..end, both included."""
    zone = timezone.get_current_timezone()
    return ConsultationBooking.objects.filter(
        starts_at__gte=datetime.combine(start, time(0), tzinfo=zone),
        starts_at__lt=datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone),
    )


def build_report(start, end):
    bookings = bookings_between(start, end)
    by_status = {f"status_{value}": Count("pk", filter=Q(status=value)) for value in Status.values}
    counts = bookings.aggregate(**OUTCOMES, **by_status)
    total = Row("All consultations", **{name: counts[name] for name in OUTCOMES})

    def grouped(key, name, order):
        return [
            Row(row[name], **{field: row[field] for field in OUTCOMES})
            for row in bookings.values(key, name, order).annotate(**OUTCOMES).order_by(order, name)
        ]

    return BookingReport(
        start=start,
        end=end,
        by_status=[(status.label, counts[f"status_{status.value}"]) for status in Status],
        total=total,
        by_type=grouped(
            "consultation_type",
            "consultation_type__name",
            "consultation_type__display_order",
        ),
        by_practitioner=grouped(
            "practitioner", "practitioner__name", "practitioner__display_order"
        ),
        median_lead_time=_median_lead_time(bookings, total.bookings),
    )


def _median_lead_time(bookings, count):
    """
    The median time from the request to the consultation. The database sorts
    the lead times and returns the middle one (or the middle two, for an even
    count) with OFFSET, so no more than two rows leave it however many there
    are. Asked even for an empty period, which keeps the page's queries the
    same whatever the data.
    """
    lead_times = (
        bookings.annotate(
            lead_time=ExpressionWrapper(
                F("starts_at") - F("created_at"), output_field=DurationField()
            )
        )
        .order_by("lead_time")
        .values_list("lead_time", flat=True)
    )
    middle = max(count - 1, 0) // 2
    rows = list(lead_times[middle : middle + (1 if count % 2 else 2)])
    if not count or not rows:
        return None
    return sum(rows, timedelta()) / len(rows)


def _percent(rate):
    return "–" if rate is None else f"{rate:.1%}"


def _days(days):
    return "–" if days is None else f"{days:.1f}"


def report_rows(report):
    """The report as rows of cells: the page's tables and the CSV alike."""
    columns = ["Bookings", "Completed", "No-shows", "Cancelled", "No-show rate"]

    def counts(row):
        return [
            row.bookings,
            row.completed,
            row.no_shows,
            row.cancelled,
            _percent(row.no_show_rate),
        ]

    return {
        "summary": [
            ("Bookings", report.total.bookings),
            ("No-show rate (no-shows ÷ completed and no-shows)", _percent(report.no_show_rate)),
            ("Cancellation rate (cancelled ÷ all bookings)", _percent(report.cancellation_rate)),
            ("Median lead time, request to consultation (days)", _days(report.median_lead_days)),
        ],
        "by_status": report.by_status,
        "columns": columns,
        "by_type": [[row.name, *counts(row)] for row in report.by_type],
        "by_practitioner": [[row.name, *counts(row)] for row in report.by_practitioner],
    }


def report_csv(report):
    rows = report_rows(report)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="bookings-{report.start:%Y-%m-%d}-to-{report.end:%Y-%m-%d}.csv"'
    )
    writer = csv.writer(response)

    def write(*cells):
        writer.writerow([csv_safe(cell) for cell in cells])

    write("Bookings report", f"{report.start:%Y-%m-%d}", f"{report.end:%Y-%m-%d}")
    write("Clinic dates, by the day the consultation starts")
    write()
    write("Figure", "Value")
    for label, value in rows["summary"]:
        write(label, value)
    write()
    write("Status", "Bookings")
    for label, value in rows["by_status"]:
        write(label, value)
    write()
    write("Consultation type", *rows["columns"])
    for row in rows["by_type"]:
        write(*row)
    write()
    write("Practitioner", *rows["columns"])
    for row in rows["by_practitioner"]:
        write(*row)
    return response


def report_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    form = ReportPeriodForm.from_query(request.GET)
    report = None
    if form.is_valid():
        report = build_report(form.cleaned_data["start"], form.cleaned_data["end"])
        if request.GET.get("format") == "csv":
            return report_csv(report)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Bookings report",
        "form": form,
        "report": report,
        "rows": report_rows(report) if report else None,
    }
    return TemplateResponse(request, "booking/front_desk/report.html", context)
