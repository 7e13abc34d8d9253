-- Downtime notices: planned (a window, announced from some days before, read-only during it) or an
-- emergency (shown at once until it ends or is withdrawn). Kept when past.
CREATE TABLE downtime_notices (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('planned', 'emergency')),
    message      text NOT NULL CHECK (length(btrim(message)) > 0),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL CHECK (ends_at > starts_at),
    show_from    timestamptz NOT NULL CHECK (show_from <= starts_at),
    created_by   bigint REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    withdrawn_at timestamptz
);
CREATE INDEX downtime_notices_ends_idx ON downtime_notices (ends_at);
