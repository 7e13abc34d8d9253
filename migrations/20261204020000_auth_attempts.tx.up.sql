-- Attempts at a secret (a password; later a one-time passcode), counted before the secret is checked so
-- that parallel attempts cannot exceed the throttle. One counter per kind of secret, per subject (the
-- account guessed at) and per client address, in a fixed window; subject '' counts an address's attempts
-- at any account, address '' an account's attempts from anywhere. A successful attempt is taken off.
CREATE TABLE auth_attempts (
    kind         text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    subject      text NOT NULL,
    address      text NOT NULL,
    window_start timestamptz NOT NULL,
    attempts     integer NOT NULL CHECK (attempts >= 0),
    PRIMARY KEY (kind, subject, address),
    CHECK (subject <> '' OR address <> '')
);
CREATE INDEX auth_attempts_window_start_idx ON auth_attempts (window_start);

-- Failed sign-ins were counted row by row, after the password was checked; the counters replace them.
DROP TABLE sign_in_failures;
