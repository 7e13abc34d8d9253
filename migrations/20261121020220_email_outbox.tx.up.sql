-- Emails waiting to be sent, and those sent. A row is written in the same transaction as the change it
-- tells of, so a committed change always has its email. A sender claims due rows (claimed_until) so two
-- portal instances never send the same row at once; a claim that runs out is taken again. The sender adds
-- the portal's address (the link and the footer about notification settings) when it sends. message_id is
-- the Message-ID every attempt of the row carries, so a resent email is recognisably the same one.
CREATE TABLE email_outbox (
    id              bigserial PRIMARY KEY,
    user_id         bigint REFERENCES users (id) ON DELETE SET NULL,
    to_address      text NOT NULL CHECK (to_address ~ '^[^@\s]+@[^@\s]+$'),
    to_name         text NOT NULL DEFAULT '',
    subject         text NOT NULL CHECK (length(btrim(subject)) > 0),
    body_text       text NOT NULL,
    link            text NOT NULL DEFAULT '' CHECK (link = '' OR link ~ '^/([^/\\]|$)'),
    message_id      text NOT NULL UNIQUE DEFAULT (gen_random_uuid()::text || '@esr-portal'),
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    claimed_until   timestamptz,
    sent_at         timestamptz,
    transport       text CHECK (transport IN ('smtp', 'local')),
    sent_from       text NOT NULL DEFAULT '',
    last_error      text NOT NULL DEFAULT '',
    CHECK ((sent_at IS NULL) = (transport IS NULL))
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at, id) WHERE sent_at IS NULL;
CREATE INDEX email_outbox_created_idx ON email_outbox (created_at DESC, id DESC);
CREATE INDEX email_outbox_user_idx ON email_outbox (user_id);
