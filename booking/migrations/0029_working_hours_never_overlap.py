"""
A practitioner's windows of working hours on a weekday never overlap,
whoever writes them: an exclusion constraint on PostgreSQL (SQLite gets
triggers after every migrate: booking/sqlite.py).

Windows saved before could overlap (the admin checked each new window
against the database alone, so one save could add two). Each practitioner's
overlapping windows on a weekday are first merged into one window covering
their union: the hours covered stay exactly the same, none lost, none added
(a long consultation that fitted neither window but fits across their join
may now be offered). Windows that only touch (one ending at 12:00, the next
starting then) stay as they are. Going back keeps the merged windows: they
cover the same hours.
"""

from django.db import migrations

import booking.models


def merge_overlapping_windows(apps, schema_editor):
    WorkingHours = apps.get_model("booking", "WorkingHours")
    merged = []  # [kept window, its new end, the windows it absorbs]
    for window in WorkingHours.objects.order_by("practitioner", "weekday", "starts_at", "pk"):
        if merged:
            kept, ends_at, absorbed = merged[-1]
            same_day = (kept.practitioner_id, kept.weekday) == (
                window.practitioner_id,
                window.weekday,
            )
            if same_day and window.starts_at < ends_at:
                merged[-1] = [kept, max(ends_at, window.ends_at), [*absorbed, window.pk]]
                continue
        merged.append([window, window.ends_at, []])
    for kept, ends_at, absorbed in merged:
        if not absorbed:
            continue
        # The absorbed windows go before the kept one grows over them, so no
        # moment holds two overlapping rows (SQLite's triggers may be there);
        # each row is written once (PostgreSQL would otherwise hold checks
        # of a row changed twice until the end of the transaction, and
        # refuse to add the constraint before then).
        WorkingHours.objects.filter(pk__in=absorbed).delete()
        if ends_at != kept.ends_at:
            WorkingHours.objects.filter(pk=kept.pk).update(ends_at=ends_at)


class Migration(migrations.Migration):
    dependencies = [("booking", "0028_listing_permission")]

    operations = [
        migrations.RunPython(merge_overlapping_windows, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="workinghours",
            constraint=booking.models.WorkingHoursExclusionConstraint(
                expressions=[
                    ("practitioner", "="),
                    ("weekday", "="),
                    (booking.models.WindowTimes("starts_at", "ends_at"), "&&"),
                ],
                name="working_hours_never_overlap",
            ),
        ),
    ]
