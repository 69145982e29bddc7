"""
The front desk's day sheet: one clinic day, a column per practitioner who
works or has consultations that day, a row per quarter hour. Each booking
is a block across the rows it takes, with the actions its status allows;
time off, closures and free time show in their cells, and a free time links
to booking a caller into it.

Read in a constant number of queries, however many practitioners and
bookings the day has; every action goes through services.change_status with
the status the person saw, so two people acting on one booking at once
never both succeed.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from math import ceil
from urllib.parse import quote_plus, urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef
from django.http import HttpResponseNotAllowed
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from booking import services
from booking.models import (
    Closure,
    ConsultationBooking,
    Practitioner,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)
from booking.views.front_desk.day_sheet_cells import booking_cell_html, plain_cell_html

Status = ConsultationBooking.Status
ROW_MINUTES = 15
# How far from today the sheet goes: further is a typo in the address.
FURTHEST_DAYS = 5 * 366

# What the front desk can do from a block, in the order the buttons show.
ACTIONS = {
    "confirm": (Status.CONFIRMED, "Confirm"),
    "check_in": (Status.ARRIVED, "Check in"),
    "complete": (Status.COMPLETED, "Complete"),
    "no_show": (Status.NO_SHOW, "No-show"),
    "cancel": (Status.CANCELLED, "Cancel"),
}
# Stands for a booking's id in its change page's address, reversed once a sheet.
PK_PLACEHOLDER = "0000pk0000"
SHOWN_ON_THE_GRID = [*ConsultationBooking.ACTIVE_STATUSES, Status.COMPLETED, Status.NO_SHOW]
SHEET_FIELDS = [
    "reference",
    "status",
    "full_name",
    "starts_at",
    "ends_at",
    "message",
    "internal_notes",
    "attendance_confirmed_at",
    "consultation_type__name",
    "practitioner__name",
]


@dataclass
class Cell:
    kind: str  # "booking", "free", "time_off", "closed", "off" (not working)
    rows: int = 1
    bookings: list = field(default_factory=list)
    starts_at: datetime | None = None
    note: str = ""
    label: str = ""  # A free cell's time, as the clinic's clock shows it


@lru_cache(maxsize=2048)
def clock_label(instant, zone, clock_format="%I:%M %p"):
    """
    “9:30 AM”: a time on the sheet as the clinic's clock shows it. Written
    here rather than by the template's date filter, which looks up the
    locale's formats on every call (hundreds a sheet); remembered, since a
    sheet writes each quarter hour once a row and once a free cell.
    """
    return instant.astimezone(zone).strftime(clock_format).lstrip("0")


@dataclass
class Column:
    practitioner: Practitioner
    cells: dict = field(default_factory=dict)  # row index -> Cell (covered rows have none)


@dataclass
class DaySheet:
    day: date
    times: list  # the rows' starts, aware datetimes
    columns: list
    closure: Closure | None
    off_grid: list  # cancelled and declined bookings of the day, listed below
    waiting: int = 0  # people on the waitlist whose days include this one

    @property
    def rows(self):
        """
        [(the row's time as a label, its cells' HTML)] for the template: the
        cells that start in the row (a cell spanning rows is written once),
        each written by the view (`html`, day_sheet_cells.py).
        """
        zone = timezone.get_current_timezone()
        return [
            (
                clock_label(starts_at, zone),
                mark_safe(
                    "".join(
                        column.cells[index].html for column in self.columns if index in column.cells
                    )
                ),
            )
            for index, starts_at in enumerate(self.times)
        ]


def parse_day(value):
    """A clinic-local date from the address, or None if it is not one the sheet shows."""
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if abs((day - timezone.localdate()).days) > FURTHEST_DAYS:
        return None
    return day


def _instant(day, clock, zone):
    return datetime.combine(day, clock, tzinfo=zone)


def build_day_sheet(day, *, now=None):
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    day_start = _instant(day, time(0), zone)
    day_end = _instant(day + timedelta(days=1), time(0), zone)

    hours = list(WorkingHours.objects.filter(weekday=day.weekday(), practitioner__is_active=True))
    bookings = list(
        ConsultationBooking.objects.filter(starts_at__gte=day_start, starts_at__lt=day_end)
        .select_related("consultation_type", "practitioner")
        # What the sheet shows and acts on, no more: turning each row's other
        # columns (the phone numbers parsed, the texts) into a model was a
        # third of the sheet's reading time.
        .only(*SHEET_FIELDS)
        .annotate(
            # The health form's outcome only (a flag staff can see), never the answers.
            health_outcome=F("screening__outcome"),
            # Seen before: an earlier consultation under the same email that
            # was not called off.
            returning_client=Exists(
                ConsultationBooking.objects.filter(
                    email=OuterRef("email"), starts_at__lt=OuterRef("starts_at")
                )
                .exclude(email="")
                .exclude(status__in=[Status.CANCELLED, Status.DECLINED])
            ),
        )
        .order_by("starts_at")
    )
    time_off = list(
        TimeOff.objects.filter(starts_at__lt=day_end, ends_at__gt=day_start).order_by("starts_at")
    )
    closure = Closure.objects.filter(starts_on__lte=day, ends_on__gte=day).first()
    on_the_grid = [booking for booking in bookings if booking.status in SHOWN_ON_THE_GRID]
    people = {window.practitioner_id for window in hours} | {
        booking.practitioner_id for booking in on_the_grid
    }
    practitioners = list(Practitioner.objects.filter(pk__in=people))

    # The rows: from the earliest start to the latest end of anyone's day.
    clocks = [window.starts_at for window in hours] + [
        timezone.localtime(booking.starts_at, zone).time() for booking in on_the_grid
    ]
    ends = [window.ends_at for window in hours] + [
        timezone.localtime(booking.ends_at, zone).time() for booking in on_the_grid
    ]
    times = []
    if clocks:
        first = min(clocks)
        minute = first.hour * 60 + first.minute
        minute -= minute % ROW_MINUTES
        last = max(ends)
        last_minute = min(24 * 60, last.hour * 60 + last.minute)
        times = [
            _instant(day, time(m // 60, m % 60), zone)
            for m in range(minute, last_minute, ROW_MINUTES)
        ]

    columns = []
    for person in practitioners:
        column = Column(person)
        windows = [window for window in hours if window.practitioner_id == person.pk]
        leave = [spell for spell in time_off if spell.practitioner_id == person.pk]
        theirs = [booking for booking in on_the_grid if booking.practitioner_id == person.pk]
        _fill_column(column, times, windows, leave, theirs, closure, day, zone)
        columns.append(column)
    return DaySheet(
        day=day,
        times=times,
        columns=columns,
        closure=closure,
        off_grid=[booking for booking in bookings if booking.status not in SHOWN_ON_THE_GRID],
        waiting=WaitlistEntry.objects.waiting_on(day).count(),
    )


def _row_of(instant, times):
    return int((instant - times[0]).total_seconds() // (ROW_MINUTES * 60))


def _fill_column(column, times, windows, leave, bookings, closure, day, zone):
    if not times:
        return
    step = timedelta(minutes=ROW_MINUTES)
    # Bookings first: a block from the row it starts in across the rows it
    # takes; bookings sharing rows (only possible with very short types)
    # share one block.
    taken = set()
    for booking in bookings:
        first = max(0, _row_of(booking.starts_at, times))
        span = max(1, ceil((booking.ends_at - times[first]) / step))
        rows = range(first, min(len(times), first + span))
        if rows and rows[0] in taken:
            owner = max(index for index, cell in column.cells.items() if index <= rows[0])
            cell = column.cells[owner]
            cell.bookings.append(booking)
            cell.rows = max(cell.rows, rows[-1] - owner + 1)
        else:
            column.cells[first] = Cell("booking", rows=len(rows), bookings=[booking])
        taken.update(rows)

    def working(instant):
        clock = timezone.localtime(instant, zone).time()
        return any(window.starts_at <= clock < window.ends_at for window in windows)

    def away(instant):
        return next((spell for spell in leave if spell.starts_at <= instant < spell.ends_at), None)

    previous = None
    for index, starts_at in enumerate(times):
        if index in taken:
            previous = None
            continue
        if closure is not None:
            kind, note = "closed", closure.reason
        elif away(starts_at) is not None:
            kind, note = "time_off", "Time off"
        elif working(starts_at):
            kind, note = "free", ""
        else:
            kind, note = "off", ""
        # Neighbouring rows of one kind (other than free, which each link
        # to their own time) merge into one cell.
        if previous is not None and previous.kind == kind and kind != "free":
            previous.rows += 1
            continue
        cell = Cell(kind, starts_at=starts_at, note=note)
        column.cells[index] = cell
        previous = cell


def booking_actions(booking, now):
    """The buttons a block shows: (action, label) the booking's status and time allow."""
    actions = []
    for action, (status, label) in ACTIONS.items():
        if not booking.can_become(status):
            continue
        if status in services.AFTER_THE_CONSULTATION and booking.starts_at > now:
            continue
        if status == Status.ARRIVED and timezone.localdate(now) < timezone.localdate(
            booking.starts_at
        ):
            continue
        actions.append((action, label))
    return actions


def day_sheet_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    today = timezone.localdate()
    requested = request.GET.get("date")
    day = today if requested is None else parse_day(requested)
    if day is None:
        messages.error(
            request,
            "That date could not be shown: use a date like 2026-12-01 within five years of today. "
            "Here is today.",
        )
        day = today
    now = timezone.now()
    zone = timezone.get_current_timezone()
    sheet = build_day_sheet(day, now=now)
    can_change = model_admin.has_change_permission(request)
    can_book = model_admin.has_add_permission(request)
    # Each address reversed once, not once a cell: a busy day has hundreds.
    book_caller_url = reverse("admin:booking_book_caller")
    change_url = reverse("admin:booking_consultationbooking_change", args=[PK_PLACEHOLDER])
    act_url = reverse("admin:booking_day_sheet_act")
    # One token for every form of the sheet, as the template's {{ csrf_token }} gives.
    csrf_token = get_token(request)
    book_links, book_times = {}, {}
    for column in sheet.columns:
        for cell in column.cells.values():
            cell.practitioner = column.practitioner
            for booking in cell.bookings:
                booking.day_sheet_actions = booking_actions(booking, now) if can_change else []
                booking.change_url = change_url.replace(PK_PLACEHOLDER, str(booking.pk))
                booking.sheet_times = (
                    f"{clock_label(booking.starts_at, zone, '%I:%M')}"
                    f"–{clock_label(booking.ends_at, zone)}"
                )
            if cell.kind == "free":
                cell.label = clock_label(cell.starts_at, zone)
                if can_book:
                    # Encoded once a column and once a time, not once a cell.
                    if column.practitioner.pk not in book_links:
                        book_links[column.practitioner.pk] = (
                            f"{book_caller_url}?"
                            + urlencode(
                                {"practitioner": column.practitioner.slug, "date": day.isoformat()}
                            )
                            + "&time="
                        )
                    if cell.starts_at not in book_times:
                        book_times[cell.starts_at] = quote_plus(
                            f"{cell.starts_at.astimezone(zone):%H:%M}"
                        )
                    cell.book_url = book_links[column.practitioner.pk] + book_times[cell.starts_at]
            cell.html = (
                booking_cell_html(
                    cell, act_url=act_url, csrf_token=csrf_token, day_iso=day.isoformat()
                )
                if cell.kind == "booking"
                else plain_cell_html(cell, column.practitioner)
            )
    for booking in sheet.off_grid:
        booking.change_url = change_url.replace(PK_PLACEHOLDER, str(booking.pk))
        booking.sheet_times = clock_label(booking.starts_at, zone)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Day sheet: {day:%A %-d %B %Y}",
        "sheet": sheet,
        "today": today,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "can_change": can_change,
    }
    return TemplateResponse(request, "booking/front_desk/day_sheet.html", context)


def act_view(model_admin, request):
    """A button on the day sheet: one status change, then back to the same day."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    day = parse_day(request.POST.get("date")) or timezone.localdate()
    back = redirect(reverse("admin:booking_day_sheet") + f"?date={day.isoformat()}")
    action = ACTIONS.get(request.POST.get("action", ""))
    booking = (
        ConsultationBooking.objects.filter(pk=request.POST.get("booking"))
        .only("pk", "reference", "status")
        .first()
        if str(request.POST.get("booking", "")).isdigit()
        else None
    )
    seen_status = request.POST.get("seen_status", "")
    if action is None or booking is None or seen_status not in Status.values:
        messages.error(
            request, "That action could not be read. Please use the day sheet's buttons."
        )
        return back
    to_status, label = action
    try:
        services.change_status(booking, to_status, seen_status=seen_status, by=request.user)
    except (services.StaleBooking, services.TransitionNotAllowed) as refusal:
        messages.error(request, f"{booking.reference}: {refusal}")
    else:
        messages.success(request, f"{booking.reference}: {to_status.label.lower()}.")
    return back
