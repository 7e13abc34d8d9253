-- Sessions live in PostgreSQL so that any number of portal instances can serve behind a load balancer.
-- The cookie carries a random token; only its SHA-256 is stored, so a database reader cannot hijack a session.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    flash        text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_last_seen_at_idx ON sessions (last_seen_at);

-- Failed sign-ins, counted per account (the email typed, whether or not it exists) and per IP address.
CREATE TABLE sign_in_failures (
    id           bigserial PRIMARY KEY,
    email_lower  text NOT NULL,
    ip           text NOT NULL,
    attempted_at timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_email_idx ON sign_in_failures (email_lower, attempted_at);
CREATE INDEX sign_in_failures_ip_idx ON sign_in_failures (ip, attempted_at);
