-- Incremental monitoring runs (issue 14): the stage-1 meter-day table of each readings source is kept
-- between runs, so that a new batch recomputes only the days it touches.
CREATE TABLE IF NOT EXISTS mon_meter_day (
    source VARCHAR NOT NULL, meter_id VARCHAR NOT NULL, day INTEGER NOT NULL, n BIGINT NOT NULL,
    energy DOUBLE, vmin DOUBLE, vmax DOUBLE, n_negative BIGINT, n_impossible BIGINT, n_resets BIGINT,
    n_rollovers BIGINT, first_epoch BIGINT, last_epoch BIGINT, run_id VARCHAR NOT NULL,
    PRIMARY KEY (source, meter_id, day)
);
-- the day ranges whose meter-days are stored for a source, and when they were computed
CREATE TABLE IF NOT EXISTS mon_meter_day_cover (
    source VARCHAR NOT NULL, date_from DATE NOT NULL, date_to DATE NOT NULL, run_id VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL
);
