-- Scheduled work that must run once per period whichever portal instance gets to it first, such as the
-- daily email digest: a run inserts its (name, period) row in the transaction that does the work, so a
-- second instance finds the row (waiting for the first to commit or roll back) and does nothing.
CREATE TABLE job_runs (
    name       text NOT NULL CHECK (name ~ '^[a-z_]+$'),
    period     text NOT NULL CHECK (length(period) > 0),
    claimed_at timestamptz NOT NULL,
    PRIMARY KEY (name, period)
);
