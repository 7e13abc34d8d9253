-- Linked projects: national projects touching ESR that, once they move into business as usual, are
-- handed to the NSIG that then looks after that part of ESR.
CREATE TABLE linked_projects (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (length(btrim(name)) > 0),
    description     text NOT NULL DEFAULT '',
    functional_area text NOT NULL REFERENCES functional_areas (name),
    status          text NOT NULL CHECK (status IN ('planned', 'in_progress', 'business_as_usual', 'closed')),
    nsig_id         bigint REFERENCES nsigs (id),
    handed_over_on  date,
    handover_note   text NOT NULL DEFAULT '',
    handed_over_by  bigint REFERENCES users (id),
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CHECK ((status = 'business_as_usual') = (nsig_id IS NOT NULL)),
    CHECK ((nsig_id IS NULL) = (handed_over_on IS NULL))
);
CREATE INDEX linked_projects_nsig_idx ON linked_projects (nsig_id);
