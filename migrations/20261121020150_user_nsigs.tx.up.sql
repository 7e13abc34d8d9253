-- The NSIGs an nsig_member reviews requests for. The role says what a member may do; this says where.
CREATE TABLE user_nsigs (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nsig_id    bigint NOT NULL REFERENCES nsigs (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, nsig_id)
);
CREATE INDEX user_nsigs_nsig_idx ON user_nsigs (nsig_id);
