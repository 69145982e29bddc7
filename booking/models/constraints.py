"""
The exclusion constraints' PostgreSQL-only form, which the bookings and the
working hours share: each no-overlap rule is an EXCLUDE constraint on
PostgreSQL and triggers on SQLite (`booking/sqlite.py`).
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.db import DEFAULT_DB_ALIAS, connections


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """
    An exclusion constraint that exists on PostgreSQL and is left out of
    every other database's schema (SQLite has no EXCLUDE; there triggers from
    `booking/sqlite.py` and serialized writes give the same outcome).
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)
