-- The development team's impact assessment of a request, with its own version for optimistic locking.
CREATE TABLE impact_assessments (
    request_id     bigint PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    assessor_id    bigint REFERENCES users (id),
    effort_size    text CHECK (effort_size IN ('S', 'M', 'L', 'XL')),
    effort_days    numeric(7, 1) CHECK (effort_days >= 0),
    modules        text[] NOT NULL DEFAULT '{}',
    interfaces     text NOT NULL DEFAULT '',
    risks          text NOT NULL DEFAULT '',
    dependencies   text NOT NULL DEFAULT '',
    cost_pounds    numeric(12, 2) CHECK (cost_pounds >= 0),
    recommendation text CHECK (recommendation IN ('approve', 'defer', 'not_approve')),
    notes          text NOT NULL DEFAULT '',
    completed_at   timestamptz,
    version        integer NOT NULL DEFAULT 1,
    updated_by     bigint REFERENCES users (id),
    updated_at     timestamptz NOT NULL
);
CREATE INDEX impact_assessments_assessor_idx ON impact_assessments (assessor_id) WHERE completed_at IS NULL;

-- The central team's decisions on a request, newest last: a deferred request can be decided again.
CREATE TABLE request_decisions (
    id          bigserial PRIMARY KEY,
    request_id  bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    outcome     text NOT NULL CHECK (outcome IN ('approved', 'deferred', 'not_approved')),
    rationale   text NOT NULL CHECK (length(btrim(rationale)) BETWEEN 1 AND 5000),
    review_on   date,
    decided_by  bigint NOT NULL REFERENCES users (id),
    decided_at  timestamptz NOT NULL,
    CHECK ((outcome = 'deferred') = (review_on IS NOT NULL))
);
CREATE INDEX request_decisions_request_idx ON request_decisions (request_id, decided_at);
ALTER TABLE requests ADD COLUMN review_on date;
CREATE INDEX requests_review_idx ON requests (review_on) WHERE status = 'deferred';
