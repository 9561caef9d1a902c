-- Scenarios: stored projection runs (deterministic or Monte Carlo), listed and compared later.
CREATE TABLE IF NOT EXISTS scenario_runs (
    run_id        VARCHAR PRIMARY KEY,   -- "<kind>:<sha256 prefix of input hash, seed, draws, version>"
    created_at    TIMESTAMPTZ NOT NULL,
    scenario      VARCHAR NOT NULL,      -- scenario name
    kind          VARCHAR NOT NULL,      -- deterministic | montecarlo
    tool_version  VARCHAR NOT NULL,      -- carbonpeak.__version__
    input_hash    VARCHAR NOT NULL,      -- SHA-256 of the resolved parameters, uncertainty and observations
    seed          INTEGER,
    draws         INTEGER,
    submitter     VARCHAR,
    summary       VARCHAR NOT NULL,      -- JSON: headline figures (peak, P(peak <= 2030), 2030 CO2 ...)
    payload       VARCHAR NOT NULL       -- JSON: the whole run
);
