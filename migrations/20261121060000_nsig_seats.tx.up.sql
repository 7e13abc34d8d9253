-- NSIG governance: the chair and a version for optimistic locking on each NSIG; the appointments that fill
-- each NSIG's eight regional seats (NSIG × region) with a member and an optional deputy, kept after the
-- term ends; and each region's view of the requests its NSIG reviews. user_nsigs stays the scope an
-- nsig_member reviews for, and is kept in step with the current appointments in the same transaction.
ALTER TABLE nsigs
    ADD COLUMN chair_user_id bigint REFERENCES users (id),
    ADD COLUMN version       integer NOT NULL DEFAULT 1,
    ADD COLUMN updated_at    timestamptz NOT NULL DEFAULT now();

CREATE TABLE nsig_appointments (
    id                bigserial PRIMARY KEY,
    nsig_id           bigint NOT NULL REFERENCES nsigs (id),
    region_id         smallint NOT NULL REFERENCES regions (id),
    position          text NOT NULL CHECK (position IN ('member', 'deputy')),
    user_id           bigint NOT NULL REFERENCES users (id),
    nominating_sig    text NOT NULL CHECK (length(btrim(nominating_sig)) > 0),
    nominated_on      date NOT NULL,
    how_chosen        text NOT NULL CHECK (how_chosen IN ('election', 'unopposed', 'consensus')),
    term_start        date NOT NULL,
    term_end          date NOT NULL,
    other_nsig_reason text NOT NULL DEFAULT '',
    appointed_by      bigint NOT NULL REFERENCES users (id),
    appointed_at      timestamptz NOT NULL,
    ended_at          timestamptz,
    ended_by          bigint REFERENCES users (id),
    end_reason        text NOT NULL DEFAULT '',
    CHECK (term_end > term_start),
    CHECK (nominated_on <= term_start),
    CHECK (ended_at IS NOT NULL OR ended_by IS NULL) -- ended_by is NULL when the term ran out on its end date
);
-- At most one current member and one current deputy per seat.
CREATE UNIQUE INDEX nsig_appointments_current_key ON nsig_appointments (nsig_id, region_id, position) WHERE ended_at IS NULL;
CREATE INDEX nsig_appointments_user_idx ON nsig_appointments (user_id) WHERE ended_at IS NULL;
CREATE INDEX nsig_appointments_seat_idx ON nsig_appointments (nsig_id, region_id, appointed_at);

-- A region's view of a request, given by that region's member or deputy on the request's NSIG. A later
-- view replaces it; every view given stays on the request's timeline.
CREATE TABLE regional_views (
    request_id  bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    nsig_id     bigint NOT NULL REFERENCES nsigs (id),
    region_id   smallint NOT NULL REFERENCES regions (id),
    view        text NOT NULL CHECK (view IN ('support', 'support_with_concerns', 'do_not_support', 'no_view')),
    comment     text NOT NULL DEFAULT '',
    position    text NOT NULL CHECK (position IN ('member', 'deputy')),
    recorded_by bigint NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, nsig_id, region_id)
);
CREATE INDEX regional_views_nsig_idx ON regional_views (nsig_id, region_id);
