-- Accounting: activity data imported with `carbonpeak inventory import` (docs/inventory.md).
-- One batch per import (batches.kind = 'activity'); a batch's rows are unique on
-- (year, region, category, item).  Re-importing the same content is a no-op (same batch_id).
CREATE TABLE IF NOT EXISTS activity (
    year            INTEGER NOT NULL,
    region          VARCHAR NOT NULL,
    category        VARCHAR NOT NULL,   -- IPCC 2006 code or memo code (catalog/data/categories.csv)
    item            VARCHAR NOT NULL,   -- catalog item id
    amount          DOUBLE NOT NULL,
    unit            VARCHAR NOT NULL,
    uncertainty_pct DOUBLE,
    source          VARCHAR,
    note            VARCHAR,
    batch_id        VARCHAR NOT NULL,
    source_file     VARCHAR,
    source_row      BIGINT
);
CREATE INDEX IF NOT EXISTS activity_batch_idx ON activity (batch_id);
