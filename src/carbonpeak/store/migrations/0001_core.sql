-- Core tables shared by every domain.
CREATE TABLE IF NOT EXISTS batches (
    batch_id   VARCHAR PRIMARY KEY,      -- "<kind>:<sha256 prefix of content>"
    kind       VARCHAR NOT NULL,         -- activity, observations, meters, readings, ...
    source     VARCHAR NOT NULL,         -- file name or API client
    submitter  VARCHAR NOT NULL,
    rows       BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
