"""
SQLite's triggers: the stand-ins for the PostgreSQL exclusion constraints
(no overlapping bookings, no overlapping working hours), and the refusal to
change or delete a record of who read a health form.

SQLite has no EXCLUDE constraint, so two triggers refuse any insert or
update that would leave a practitioner with two active bookings whose
ranges (start to end plus turnover) overlap. Django rebuilds a SQLite table
(and drops its triggers) on some schema changes, so the triggers are
(re)created after every `migrate`, not by one migration.

Timestamps are stored as ISO text in SQLite, which compares in time order.
"""

from django.db.models.signals import post_migrate

TABLE = "booking_consultationbooking"
ACTIVE = "('requested', 'confirmed', 'arrived')"
# The message SQLite aborts with; services recognise the refusal by it.
REFUSAL = "no_overlapping_consultations"

_OVERLAP = f"""
    NEW.status IN {ACTIVE} AND EXISTS (
        SELECT 1 FROM {TABLE} AS other
        WHERE other.practitioner_id = NEW.practitioner_id
          AND other.id IS NOT NEW.id
          AND other.status IN {ACTIVE}
          AND other.starts_at < NEW.blocks_until
          AND other.blocks_until > NEW.starts_at
    )
"""

TRIGGERS = {
    "booking_no_overlap_on_insert": "BEFORE INSERT",
    "booking_no_overlap_on_update": "BEFORE UPDATE",
}


def _install_triggers(using, table, triggers, refusal, *, when="", needs_columns=()):
    """
    (Re)create `triggers` ({name: timing}) on `table`, each aborting with
    `refusal` (when `when` holds, if given). Nothing on a database other than
    SQLite, nor mid-migration, before the table has the columns they read.
    """
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return
        if needs_columns:
            description = connection.introspection.get_table_description(cursor, table)
            if not set(needs_columns) <= {column.name for column in description}:
                return  # An older schema, mid-migration.
        condition = f"WHEN {when} " if when else ""
        for name, timing in triggers.items():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(
                f"CREATE TRIGGER {name} {timing} ON {table} FOR EACH ROW {condition}"
                f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
            )


def install_overlap_triggers(using="default", **kwargs):
    _install_triggers(
        using,
        TABLE,
        TRIGGERS,
        REFUSAL,
        when=_OVERLAP,
        needs_columns=("practitioner_id", "blocks_until"),
    )


# A practitioner's windows of working hours on a weekday never overlap
# (PostgreSQL: the exclusion constraint of the same name on WorkingHours).
# Times are stored as 'HH:MM:SS' text, which compares in time order; the
# windows are half-open, so one ending at 12:00 and one starting then are
# both allowed.
HOURS_TABLE = "booking_workinghours"
HOURS_REFUSAL = "working_hours_never_overlap"
_HOURS_OVERLAP = f"""
    EXISTS (
        SELECT 1 FROM {HOURS_TABLE} AS other
        WHERE other.practitioner_id = NEW.practitioner_id
          AND other.weekday = NEW.weekday
          AND other.id IS NOT NEW.id
          AND other.starts_at < NEW.ends_at
          AND other.ends_at > NEW.starts_at
    )
"""
HOURS_TRIGGERS = {
    "working_hours_no_overlap_on_insert": "BEFORE INSERT",
    "working_hours_no_overlap_on_update": "BEFORE UPDATE",
}


def install_working_hours_triggers(using="default", **kwargs):
    _install_triggers(using, HOURS_TABLE, HOURS_TRIGGERS, HOURS_REFUSAL, when=_HOURS_OVERLAP)


# Who read which health form: kept as written (migration 0024 installs the
# same refusal on PostgreSQL). RAISE(ABORT) reaches Django as an IntegrityError.
READS_TABLE = "booking_healthformread"
READS_REFUSAL = "health_form_reads_are_kept"
READS_TRIGGERS = {
    "booking_healthformread_no_update": "BEFORE UPDATE",
    "booking_healthformread_no_delete": "BEFORE DELETE",
}


def install_health_form_read_triggers(using="default", **kwargs):
    _install_triggers(using, READS_TABLE, READS_TRIGGERS, READS_REFUSAL)


def connect(app_config):
    post_migrate.connect(
        install_overlap_triggers, sender=app_config, dispatch_uid="booking.sqlite.overlap_triggers"
    )
    post_migrate.connect(
        install_working_hours_triggers,
        sender=app_config,
        dispatch_uid="booking.sqlite.working_hours_triggers",
    )
    post_migrate.connect(
        install_health_form_read_triggers,
        sender=app_config,
        dispatch_uid="booking.sqlite.health_form_read_triggers",
    )
