"""reminders → elections: a statement-level foreign key on PostgreSQL

Revision ID: 0007_reminders_statement_fk
Revises: 0006_reminders_due
Create Date: 2026-11-26 12:15:00

A row-level foreign key runs one lookup per inserted row; scheduling a provincial round
inserts millions of reminders for a few thousand elections, and on PostgreSQL that check was
about 40 % of the cost of each row (bench/sweep.py: 9.3 → 5.3 µs per reminder without it).
The same rule is enforced here once per statement: after an INSERT (or COPY) the new rows'
elections are locked FOR KEY SHARE, as a foreign key would lock them, and one anti-join
refuses the statement if any is missing (SQLSTATE 23503, like the constraint it replaces).
Changing a reminder's election is refused; deleting an election deletes its reminders, as
ON DELETE CASCADE did. SQLite keeps its ordinary foreign key, which costs little there.
"""

from alembic import op

revision = "0007_reminders_statement_fk"
down_revision = "0006_reminders_due"
branch_labels = None
depends_on = None

FK = "fk_reminders_election_id_elections"

UPGRADE = [
    f"""
ALTER TABLE reminders DROP CONSTRAINT {FK}
""",
    f"""
CREATE FUNCTION reminders_elections_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing integer;
BEGIN
    -- One pass over the new rows: their distinct elections, locked like a foreign key locks
    -- its parents, and the first one missing, if any.
    WITH ids AS MATERIALIZED (SELECT DISTINCT election_id FROM new_rows),
         locked AS (SELECT e.id FROM elections AS e WHERE e.id IN (SELECT election_id FROM ids)
                    FOR KEY SHARE OF e)
    SELECT i.election_id INTO missing
      FROM ids AS i
     WHERE i.election_id NOT IN (SELECT id FROM locked)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert on table "reminders" violates foreign key "{FK}"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{FK}', TABLE = 'reminders',
                  DETAIL = 'Key (election_id)=(' || missing || ') is not present in table "elections".';
    END IF;
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER reminders_elections_exist AFTER INSERT ON reminders
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reminders_elections_exist()
""",
    f"""
CREATE FUNCTION reminders_keep_election() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a reminder cannot move to another election'
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = '{FK}', TABLE = 'reminders';
END
$$
""",
    """
CREATE TRIGGER reminders_keep_election BEFORE UPDATE OF election_id ON reminders
    FOR EACH ROW WHEN (OLD.election_id IS DISTINCT FROM NEW.election_id)
    EXECUTE FUNCTION reminders_keep_election()
""",
    """
CREATE FUNCTION elections_delete_reminders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reminders WHERE election_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$
""",
    """
CREATE TRIGGER elections_delete_reminders AFTER DELETE ON elections
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION elections_delete_reminders()
""",
]

DOWNGRADE = [
    """
DROP TRIGGER elections_delete_reminders ON elections
""",
    """
DROP FUNCTION elections_delete_reminders()
""",
    """
DROP TRIGGER reminders_keep_election ON reminders
""",
    """
DROP FUNCTION reminders_keep_election()
""",
    """
DROP TRIGGER reminders_elections_exist ON reminders
""",
    """
DROP FUNCTION reminders_elections_exist()
""",
    f"""
ALTER TABLE reminders ADD CONSTRAINT {FK}
    FOREIGN KEY (election_id) REFERENCES elections (id) ON DELETE CASCADE
""",
]

def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
