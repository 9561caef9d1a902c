-- Targets: indicator observations (imported like activity data) and stored assessments.
CREATE TABLE IF NOT EXISTS observations (
    indicator      VARCHAR NOT NULL,   -- catalog/data/indicators.yaml id
    region         VARCHAR NOT NULL,   -- GD or GD-XX
    year           INTEGER NOT NULL,
    value          DOUBLE  NOT NULL,   -- in the indicator's canonical unit
    unit           VARCHAR NOT NULL,   -- the indicator's canonical unit
    value_reported DOUBLE,             -- as written in the file
    unit_reported  VARCHAR,
    source         VARCHAR NOT NULL,
    status         VARCHAR,
    note           VARCHAR,
    source_file    VARCHAR,
    source_row     BIGINT,
    batch_id       VARCHAR NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_key ON observations (indicator, region, year);
CREATE TABLE IF NOT EXISTS assessments (
    assessment_id VARCHAR PRIMARY KEY,  -- "<year>:<sha256 prefix of the JSON>"
    year          INTEGER NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    payload       VARCHAR NOT NULL      -- the assessment JSON (docs/methods/targets.md §6)
);
