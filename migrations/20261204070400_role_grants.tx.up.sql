-- Access approvers authorise access for their own organisation's people and review it.
INSERT INTO roles (name, title, description, elevated, sort_order) VALUES
    ('access_approver', 'Access approver', 'Approves access for their organisation''s people, sets leaving dates and reviews access every six months', false, 7);

-- Every change to someone's roles, with who asked, who entered it, who authorised it and why. A grant of
-- an elevated role waits for a second administrator; a request for access after single sign-on waits for
-- the organisation's access approver. Nothing here is ever deleted.
CREATE TABLE role_grants (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    role          text NOT NULL REFERENCES roles (name),
    change        text NOT NULL CHECK (change IN ('grant', 'revoke')),
    status        text NOT NULL CHECK (status IN ('pending', 'applied', 'refused')),
    reason        text NOT NULL CHECK (length(btrim(reason)) > 0),
    requested_by  text NOT NULL DEFAULT '',
    proposed_by   bigint REFERENCES users (id),
    authorised_by bigint REFERENCES users (id),
    decision_note text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    decided_at    timestamptz,
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX role_grants_user_idx ON role_grants (user_id, created_at);
CREATE INDEX role_grants_pending_idx ON role_grants (created_at) WHERE status = 'pending';
-- One pending change of a role for a person at a time.
CREATE UNIQUE INDEX role_grants_one_pending_key ON role_grants (user_id, role) WHERE status = 'pending';
