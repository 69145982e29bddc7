"""
A practitioner's working hours as the admin edits them: all their windows
on one page, checked against each other as submitted, and saved so that
windows moved at once are never refused halfway.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from booking.models import Practitioner, WorkingHours


class WorkingHoursFormSet(forms.BaseInlineFormSet):
    """
    Each window's own check (WorkingHours.clean()) reads the database, which
    holds neither a window added on this page nor a window's new hours: the
    windows submitted together are compared here, as submitted, and each
    window's own check leaves out the saved hours of the windows on the page.
    """

    def full_clean(self):
        on_the_page = frozenset(form.instance.pk for form in self.initial_forms) - {None}
        for form in self.forms:
            form.instance.submitted_alongside = on_the_page
        super().full_clean()

    def clean(self):
        super().clean()
        windows = [form.instance for form in self._kept_forms()]
        overlaps = [
            ValidationError(
                f"The hours {later} overlap {earlier}. Change or remove one of those windows."
            )
            for n, earlier in enumerate(windows)
            for later in windows[n + 1 :]
            if earlier.overlaps(later)
        ]
        if overlaps:
            raise ValidationError(overlaps)

    def _kept_forms(self):
        """The valid windows this save leaves: saved or filled in, and not marked for deletion."""
        for n, form in enumerate(self.forms):
            filled_in = n < self.initial_form_count() or form.has_changed()
            if form.is_valid() and filled_in and not self._removes(form):
                yield form

    def _removes(self, form):
        return self.can_delete and self._should_delete_form(form)

    def save(self, commit=True):
        if not commit:
            return super().save(commit)
        # Whole or not at all (the windows that move are deleted first, below),
        # and one save of a practitioner's hours at a time: the second waits
        # for the first to commit, then reads the windows as it left them, so
        # a window one removes cannot come back from the other's re-insert.
        # FOR NO KEY UPDATE: bookings of the practitioner, which only check
        # their foreign key, are not held up.
        with transaction.atomic():
            list(
                Practitioner.objects.select_for_update(no_key=True)
                .filter(pk=self.instance.pk)
                .values_list("pk", flat=True)
            )
            return super().save(commit)

    def save_existing_objects(self, commit=True):
        if commit:
            # The database checks each row as it is written, against the rows
            # as they are then: a window moved into hours another is leaving
            # (9–12 and 12–15 becoming 9–13 and 13–15), or over a window
            # removed further down the page, would be refused halfway though
            # the hours submitted never overlap. So the windows this save moves
            # or removes give up their saved hours first, together; each moved
            # one is then written back as submitted, under its own id.
            leaving = [
                form.instance.pk
                for form in self.initial_forms
                if form.has_changed() or self._removes(form)
            ]
            WorkingHours.objects.filter(pk__in=leaving).delete()
        return super().save_existing_objects(commit)

    def delete_existing(self, obj, commit=True):
        # Removed already, with the windows that move (save_existing_objects()).
        pass
