-- Access reviews: every few months each organisation's access is reviewed, person by person ("still
-- needed" or "remove", with why), then signed off as a whole. One review per organisation per period,
-- whatever the number of instances opening them. Nothing here is ever deleted.
CREATE TABLE access_reviews (
    id              bigserial PRIMARY KEY,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    period          text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    opened_at       timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    escalated_at    timestamptz,
    signed_off_at   timestamptz,
    signed_off_by   bigint REFERENCES users (id),
    attestation     text NOT NULL DEFAULT '',
    version         integer NOT NULL DEFAULT 1,
    UNIQUE (organisation_id, period),
    CHECK ((signed_off_at IS NULL) = (signed_off_by IS NULL)),
    CHECK (due_at > opened_at)
);
CREATE INDEX access_reviews_open_idx ON access_reviews (due_at) WHERE signed_off_at IS NULL;

-- Each person of the organisation when the review opened, with the roles they held then, and the
-- reviewer's decision. suspended_at is when the review's grace period ran out with them unconfirmed.
CREATE TABLE access_review_entries (
    review_id    bigint NOT NULL REFERENCES access_reviews (id),
    user_id      bigint NOT NULL REFERENCES users (id),
    roles        text[] NOT NULL DEFAULT '{}',
    decision     text NOT NULL DEFAULT '' CHECK (decision IN ('', 'keep', 'remove')),
    reason       text NOT NULL DEFAULT '',
    decided_by   bigint REFERENCES users (id),
    decided_at   timestamptz,
    suspended_at timestamptz,
    version      integer NOT NULL DEFAULT 1,
    PRIMARY KEY (review_id, user_id),
    CHECK ((decision = '') = (decided_at IS NULL)),
    CHECK (decision <> 'remove' OR length(btrim(reason)) > 0)
);
CREATE INDEX access_review_entries_user_idx ON access_review_entries (user_id);
