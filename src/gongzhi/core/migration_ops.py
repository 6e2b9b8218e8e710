"""Migration operations for large tables: indexes built and dropped CONCURRENTLY on PostgreSQL, so writes to
the table go on while they build (a migration using them sets ``atomic = False``); other databases get the
plain operations. And ``analyze``, for after a new index expression (the planner has no statistics on it
until then)."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _concurrently_on_postgres(concurrent, name: str):
    """``concurrent`` (a ``...Concurrently`` operation) on PostgreSQL; elsewhere the plain operation it
    extends (the next class in its MRO)."""

    def describe(self):
        return f"{super(concurrent, self).describe()} (concurrently on PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        base = super(cls, self) if _postgres(schema_editor) else super(concurrent, self)
        base.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        base = super(cls, self) if _postgres(schema_editor) else super(concurrent, self)
        base.database_backwards(app_label, schema_editor, from_state, to_state)

    cls = type(name, (concurrent,), {
        "__module__": __name__, "describe": describe,
        "database_forwards": database_forwards, "database_backwards": database_backwards,
    })
    return cls


AddIndex = _concurrently_on_postgres(AddIndexConcurrently, "AddIndex")
RemoveIndex = _concurrently_on_postgres(RemoveIndexConcurrently, "RemoveIndex")


def analyze(table: str):
    """A RunPython function that analyses ``table`` on PostgreSQL."""

    def run(apps, schema_editor):
        if _postgres(schema_editor):
            schema_editor.execute(f"ANALYZE {schema_editor.quote_name(table)}")

    return run
