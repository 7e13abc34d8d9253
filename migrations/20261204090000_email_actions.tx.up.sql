-- Action emails. A link in an email can now stand for one action (approve, endorse, agree …) that its
-- user may take on one request as it stood at one version; opening it only shows a page to confirm on.
-- Links made before this change open a page of the portal (path) and have neither.
ALTER TABLE action_links
    ADD COLUMN action text CHECK (action IS NULL OR action ~ '^[a-z_]{1,40}$'),
    ADD COLUMN version integer CHECK (version IS NULL OR version >= 0),
    ADD CONSTRAINT action_links_action_has_version CHECK ((action IS NULL) = (version IS NULL));
CREATE INDEX action_links_user_idx ON action_links (user_id);

-- What an email lets its recipient do (name, words of the link, version), decided when it is written
-- from the recipient's access and roles; its links are made only when it is sent, and only to an
-- address on the secure list, so the outbox never holds them. email_level is the level the email went
-- out at: 'action' (approval and summary: an address on the secure list) or 'summary' (any other).
ALTER TABLE email_outbox
    ADD COLUMN actions jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(actions) = 'array' AND jsonb_array_length(actions) <= 8),
    ADD COLUMN email_level text CHECK (email_level IN ('action', 'summary'));
UPDATE email_outbox SET email_level = 'summary' WHERE sent_at IS NOT NULL;
