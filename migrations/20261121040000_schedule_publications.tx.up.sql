-- When a business justification was first submitted: the Development Schedule lists every justification
-- raised in the six months before it is published, and an edit after submission must not move that date.
ALTER TABLE business_justifications ADD COLUMN first_submitted_at timestamptz;
UPDATE business_justifications AS bj SET first_submitted_at = coalesce(
    (SELECT min(e.occurred_at) FROM request_events AS e
     WHERE e.request_id = bj.request_id AND e.kind = 'justification_submitted'),
    bj.submitted_at);

-- Published versions of the quarterly Development Schedule. A version is immutable: its PDF, the data it
-- was built from and the PDF's SHA-256 are stored as published; a correction is a new version of the
-- same quarter with a note of what changed. Only whether it is shown to the public may change.
CREATE TABLE schedule_publications (
    id               bigserial PRIMARY KEY,
    quarter          text NOT NULL CHECK (quarter ~ '^[0-9]{4}-Q[1-4]$'),
    version          integer NOT NULL CHECK (version > 0),
    reference        text NOT NULL,
    publication_date date NOT NULL,
    change_note      text NOT NULL DEFAULT '' CHECK (length(change_note) <= 2000),
    snapshot         jsonb NOT NULL,
    items            integer NOT NULL CHECK (items >= 0),
    pdf              bytea NOT NULL,
    sha256           bytea NOT NULL CHECK (length(sha256) = 32),
    published_by     bigint NOT NULL REFERENCES users (id),
    published_at     timestamptz NOT NULL,
    public_since     timestamptz,
    UNIQUE (quarter, version),
    CHECK (version = 1 OR length(btrim(change_note)) > 0)
);
CREATE INDEX schedule_publications_public_idx ON schedule_publications (public_since) WHERE public_since IS NOT NULL;

CREATE FUNCTION schedule_publications_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'published Development Schedules are kept: publish a corrected version instead';
    END IF;
    IF (NEW.id, NEW.quarter, NEW.version, NEW.reference, NEW.publication_date, NEW.change_note, NEW.snapshot,
        NEW.items, NEW.pdf, NEW.sha256, NEW.published_by, NEW.published_at)
       IS DISTINCT FROM
       (OLD.id, OLD.quarter, OLD.version, OLD.reference, OLD.publication_date, OLD.change_note, OLD.snapshot,
        OLD.items, OLD.pdf, OLD.sha256, OLD.published_by, OLD.published_at) THEN
        RAISE EXCEPTION 'a published Development Schedule cannot change: publish a corrected version instead';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER schedule_publications_immutable BEFORE UPDATE OR DELETE ON schedule_publications
    FOR EACH ROW EXECUTE FUNCTION schedule_publications_immutable();
