-- Security (issue 9 leftovers): failed logins kept in the store, so a restart of the service
-- does not reset a lock-out (carbonpeak.api.ratelimit.LoginGuard with a store).
-- kind: 'user' (subject = case-folded user name) or 'address' (subject = real client address);
-- failed_at: wall-clock time of the failure in seconds since the epoch (UTC).
CREATE TABLE IF NOT EXISTS login_failures (
    kind VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    failed_at DOUBLE NOT NULL
);
