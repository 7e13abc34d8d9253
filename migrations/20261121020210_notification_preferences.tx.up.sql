-- Each user's choice, per event, of a notification in the portal and an email. No row means both.
CREATE TABLE notification_preferences (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event   text NOT NULL CHECK (event ~ '^[a-z_]+$'),
    in_app  boolean NOT NULL,
    email   boolean NOT NULL,
    PRIMARY KEY (user_id, event)
);

-- How each user wants their emails: straight away (no row, or email_digest false) or once a day in a
-- digest. It is kept apart from users so that reading a user never depends on it.
CREATE TABLE notification_settings (
    user_id      bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email_digest boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL
);
