-- Issue 9: a submission's rows live one per row, never as a whole upload in one JSON cell.
-- submissions.payload now holds the pointer 'submission_rows' for new versions.
CREATE TABLE IF NOT EXISTS submission_rows (
    submission_id VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    row_no        INTEGER NOT NULL,            -- the row in the file as the enterprise sees it
    record        VARCHAR NOT NULL,            -- JSON object of one row (bounded by the row's own fields)
    PRIMARY KEY (submission_id, version, row_no)
);
