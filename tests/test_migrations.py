"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from workflow.store.models import Base


def test_migrations_match_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    if db.is_postgres:
        # Migration 0007: on PostgreSQL the reminders' foreign key is checked per statement by
        # triggers (tests/test_store_reminder_fk.py), not by a row-level constraint.
        fks = [d for d in diff if d[0] == "add_fk" and d[1].parent.name == "reminders"]
        assert [[c.name for c in fk.columns] for _op, fk in fks] == [["election_id"]]
        diff = [d for d in diff if d not in fks]
    assert diff == []
