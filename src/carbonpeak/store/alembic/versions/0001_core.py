"""0001_core: Core tables shared by every domain.

Revision ID: 0001_core
Revises: (none)

The schema step that was ``store/migrations/0001_core.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, portable, run_ddl

revision = '0001_core'
down_revision = None
branch_labels = None
depends_on = None

SQL = portable("""\
-- Core tables shared by every domain.
CREATE TABLE IF NOT EXISTS batches (
    batch_id   VARCHAR PRIMARY KEY,      -- "<kind>:<sha256 prefix of content>"
    kind       VARCHAR NOT NULL,         -- activity, observations, meters, readings, ...
    source     VARCHAR NOT NULL,         -- file name or API client
    submitter  VARCHAR NOT NULL,
    rows       BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
""")

#: PostgreSQL only: the DuckDB functions the store's SQL uses (the dialect layer; store/engine.py).
POSTGRESQL_FUNCTIONS = """\
-- The DuckDB functions the store's SQL uses, for PostgreSQL (the dialect layer; store/engine.py).
CREATE OR REPLACE FUNCTION list_contains(text[], text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS 'SELECT $2 = ANY($1)';
CREATE OR REPLACE FUNCTION epoch_ms(timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS 'SELECT CAST(floor(extract(epoch FROM $1) * 1000) AS bigint)';
CREATE OR REPLACE FUNCTION year(date) RETURNS integer
    LANGUAGE sql IMMUTABLE AS 'SELECT CAST(extract(year FROM $1) AS integer)';
CREATE OR REPLACE FUNCTION year(timestamptz) RETURNS integer
    LANGUAGE sql STABLE AS 'SELECT CAST(extract(year FROM $1) AS integer)';
CREATE OR REPLACE FUNCTION json_extract_string(text, text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$SELECT CASE WHEN left(ltrim($1), 1) = '{' THEN ($1::jsonb) #>> string_to_array(regexp_replace($2, '^\\$\\.?', ''), '.') END$$;
CREATE OR REPLACE FUNCTION strftime(date, text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$SELECT to_char($1, replace(replace(replace($2, '%Y', 'YYYY'), '%m', 'MM'), '%d', 'DD'))$$;
CREATE OR REPLACE FUNCTION sha256(text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')$$;
CREATE OR REPLACE FUNCTION round(double precision, integer) RETURNS double precision
    LANGUAGE sql IMMUTABLE AS 'SELECT CAST(round(CAST($1 AS numeric), $2) AS double precision)';
CREATE OR REPLACE FUNCTION isfinite(double precision) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$SELECT $1 NOT IN ('Infinity'::float8, '-Infinity'::float8, 'NaN'::float8)$$;
"""


def ddl(dialect: str) -> str:
    return SQL + (POSTGRESQL_FUNCTIONS if dialect == "postgresql" else "")


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
