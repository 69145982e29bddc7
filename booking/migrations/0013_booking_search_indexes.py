"""
Indexes for the admin's booking search, so that finding a client among years
of bookings does not read every booking.

The search (`search_fields` in booking/admin/bookings.py) compares a reference with
UPPER(reference) = UPPER(term) and a name, email or phone with
UPPER(column) LIKE UPPER('%term%'), the SQL Django writes for `iexact` and
`icontains` on PostgreSQL. A btree index cannot find text in the middle of a
value; a trigram index (pg_trgm, GIN) can, and it has to be on the same
expression, UPPER(column), for the planner to use it. The phone number a
search reads as one is matched exactly (`phone = '+1…'`), hence the btree on
phone: every branch of the search's OR needs an index, or PostgreSQL reads
the table anyway.

The trigram indexes exist on PostgreSQL only: SQLite, the local default, has
no GIN index and no pg_trgm, and a local database is small. They are not in
the model's Meta for that reason (Django would create them on SQLite too when
it rebuilds the table); tests/booking/front_desk/test_booking_admin.py checks they exist and
that the search uses them.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper

TABLE = "booking_consultationbooking"
TRIGRAM_INDEXES = {
    "booking_full_name_trgm_idx": "full_name",
    "booking_email_trgm_idx": "email",
    "booking_phone_trgm_idx": "phone",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {schema_editor.quote_name(name)} ON {schema_editor.quote_name(TABLE)} "
            f"USING gin (UPPER({schema_editor.quote_name(column)}) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0012_front_desk_can_book"),
    ]

    operations = [
        # A no-op on other databases; on PostgreSQL the extension is trusted
        # (since 13), so the database's owner may create it.
        TrigramExtension(),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
        migrations.AddIndex(
            model_name="consultationbooking",
            index=models.Index(Upper("reference"), name="booking_reference_upper_idx"),
        ),
        migrations.AddIndex(
            model_name="consultationbooking",
            index=models.Index(fields=["phone"], name="booking_phone_idx"),
        ),
    ]
