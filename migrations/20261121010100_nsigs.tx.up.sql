-- National Special Interest Groups: one per group of ESR functional areas, editable by the central team.
CREATE TABLE nsigs (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL UNIQUE CHECK (length(btrim(name)) > 0),
    functional_areas text[] NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
