"""
The day sheet's grid cells, written here rather than by the template.

A busy sheet has hundreds of cells: a free quarter hour of each practitioner
each, and a block for each booking with its flags and buttons. Django's
template engine resolves every variable of every cell on its own (a booking
block has about thirty), which was most of the sheet's render time; a cell
written here with f-strings costs a fraction of that: every value from the
database or the view goes through `_text`, which escapes as Django does.
The page around the grid stays in templates/booking/front_desk/day_sheet.html.
"""

from html import escape

from django.utils.safestring import mark_safe

PLAIN_CELL_CONTENT = {
    "free": '<span class="visually-hidden">Free</span>',
    "time_off": "Time off",
    "closed": "Closed",
    "off": '<span class="visually-hidden">Not working</span>',
}
HEALTH_FLAGS = {"review": "review", "medical": "needs a medical provider"}
STILL_TO_CONFIRM = {"requested", "confirmed"}


def _text(value):
    """
    A value escaped for HTML as Django's escape does (both call the
    standard library's html.escape), without Django's checks for lazy
    strings, which were a third of a cell's cost: nothing here is lazy.
    """
    return escape(str(value))


def plain_cell_html(cell, practitioner):
    """A cell that holds no booking: free (with its link to book a caller), time off, closed, off."""
    if cell.kind == "free" and getattr(cell, "book_url", None):
        content = (
            f'<a href="{_text(cell.book_url)}" class="day-sheet-book">Book'
            f'<span class="visually-hidden"> {_text(cell.label)} with '
            f"{_text(practitioner.name)}</span></a>"
        )
    else:
        content = PLAIN_CELL_CONTENT[cell.kind]
    return mark_safe(
        f'<td rowspan="{cell.rows:d}" class="day-sheet-{cell.kind}">\n{content}\n</td>'
    )


def booking_cell_html(cell, *, act_url, csrf_token, day_iso):
    """
    A block of one or more bookings (several only when very short ones share
    a row): each with its times, client, type, status, the flags the front
    desk reads at a glance, and the buttons its status allows (set on each
    booking as `day_sheet_actions` by the view).
    """
    form = {"act_url": _text(act_url), "csrf_token": _text(csrf_token), "day_iso": _text(day_iso)}
    articles = "".join(_booking_article(booking, form) for booking in cell.bookings)
    return mark_safe(f'<td rowspan="{cell.rows:d}" class="day-sheet-booking">\n{articles}\n</td>')


def _booking_article(booking, form):
    status = _text(booking.status)
    return (
        f'\n  <article class="day-sheet-booking status-{status}" '
        f'aria-labelledby="booking-{booking.pk:d}">\n'
        f'    <h3 id="booking-{booking.pk:d}"><a href="{_text(booking.change_url)}">'
        f"{_text(booking.sheet_times)} {_text(booking.full_name)}</a></h3>\n"
        f"    <p>{_text(booking.consultation_type.name)} · "
        f"<strong>{_text(booking.get_status_display())}</strong></p>\n"
        f'    <ul class="day-sheet-flags">{_flags(booking)}\n    </ul>'
        f"{_actions(booking, status, form)}\n  </article>\n"
    )


def _flags(booking):
    # Constant texts only: nothing from the booking goes into them.
    flags = []
    if not booking.returning_client:
        flags.append("<li>New client</li>")
    if booking.attendance_confirmed_at:
        flags.append("<li>Confirmed coming</li>")
    elif booking.status in STILL_TO_CONFIRM:
        flags.append("<li>Not confirmed coming</li>")
    if booking.message or booking.internal_notes:
        flags.append("<li>Notes</li>")
    if booking.health_outcome and booking.health_outcome != "fine":
        flags.append(
            '<li class="day-sheet-health-flag">⚑ Health form: '
            f"{HEALTH_FLAGS.get(booking.health_outcome, 'call the client')}</li>"
        )
    return "".join(f"\n      {flag}" for flag in flags)


def _actions(booking, status, form):
    if not booking.day_sheet_actions:
        return ""
    reference = _text(booking.reference)
    buttons = "".join(
        f'<button type="submit" name="action" value="{_text(action)}" class="button">'
        f'{_text(label)}<span class="visually-hidden"> {reference}</span></button>'
        for action, label in booking.day_sheet_actions
    )
    return (
        f'\n    <form method="post" action="{form["act_url"]}" class="day-sheet-actions">\n'
        f'      <input type="hidden" name="csrfmiddlewaretoken" value="{form["csrf_token"]}">\n'
        f'      <input type="hidden" name="booking" value="{booking.pk:d}">\n'
        f'      <input type="hidden" name="seen_status" value="{status}">\n'
        f'      <input type="hidden" name="date" value="{form["day_iso"]}">\n'
        f"      {buttons}\n    </form>"
    )
