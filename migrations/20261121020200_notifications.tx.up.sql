-- What happened that a user wanted to know about. A row with in_app is listed under Notifications
-- until it is read. digest_pending marks a row whose email waits for the user's next daily digest;
-- emailed marks one already emailed (straight away or in a digest). A row that is neither shown in the
-- portal nor waiting for a digest is never written: its email goes straight to the outbox.
CREATE TABLE notifications (
    id             bigserial PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event          text NOT NULL CHECK (event ~ '^[a-z_]+$'),
    request_id     bigint REFERENCES requests (id) ON DELETE CASCADE,
    title          text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 500),
    body           text NOT NULL DEFAULT '',
    link           text NOT NULL DEFAULT '' CHECK (link = '' OR link ~ '^/([^/\\]|$)'),
    in_app         boolean NOT NULL,
    created_at     timestamptz NOT NULL,
    read_at        timestamptz,
    digest_pending boolean NOT NULL DEFAULT false,
    emailed        boolean NOT NULL DEFAULT false
);
-- The header badge counts a user's unread notifications on every page.
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE in_app AND read_at IS NULL;
CREATE INDEX notifications_list_idx ON notifications (user_id, created_at DESC, id DESC) WHERE in_app;
CREATE INDEX notifications_digest_idx ON notifications (user_id, id) WHERE digest_pending;
CREATE INDEX notifications_request_idx ON notifications (request_id);
