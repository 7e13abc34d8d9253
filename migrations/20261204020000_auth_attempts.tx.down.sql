DROP TABLE auth_attempts;

CREATE TABLE sign_in_failures (
    id           bigserial PRIMARY KEY,
    email_lower  text NOT NULL,
    ip           text NOT NULL,
    attempted_at timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_email_idx ON sign_in_failures (email_lower, attempted_at);
CREATE INDEX sign_in_failures_ip_idx ON sign_in_failures (ip, attempted_at);
