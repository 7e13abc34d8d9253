-- Time-based one-time passcodes (RFC 6238). The secret is sealed (AES-GCM) with a key kept outside the
-- database (PORTAL_TOTP_KEY or the data directory), bound to the user's id. A factor without confirmed_at
-- is an enrolment not yet confirmed with a code. last_step is the time step of the last code accepted:
-- a code is accepted only for a later step, so none is used twice.
CREATE TABLE totp_factors (
    user_id       bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed bytea NOT NULL,
    confirmed_at  timestamptz,
    last_step     bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL
);

-- Single-use recovery codes, stored as keyed hashes (HMAC-SHA-256 under a key derived from the TOTP key).
CREATE TABLE recovery_codes (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- When, and how, a session passed its second factor ('totp', 'recovery', or 'oidc:<provider>' when the
-- identity provider's acr/amr showed one). NULL: not (yet) passed.
ALTER TABLE sessions ADD COLUMN verified_at timestamptz;
ALTER TABLE sessions ADD COLUMN verified_by text NOT NULL DEFAULT '';
