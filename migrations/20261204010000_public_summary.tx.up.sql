-- What every signed-in user may know of an accepted request is its summary (DESIGN §1). A request's
-- public summary is the short "what this asks for" the central team writes for every NHS organisation
-- when triage accepts it; until one is written the title stands for it. summary_search is the
-- full-text document of the summary alone (reference, title, functional area, raising organisation and
-- the public summary), so that a viewer who may see only the summary of a request matches it only on
-- what the summary shows; search keeps the whole request's text for viewers who may read it all.
ALTER TABLE requests
    ADD COLUMN public_summary text NOT NULL DEFAULT '' CHECK (length(public_summary) <= 1000),
    ADD COLUMN summary_search tsvector NOT NULL DEFAULT ''::tsvector;

-- The summary's document, written in one place: the portal calls it whenever a part of it changes.
CREATE FUNCTION request_summary_document(reference text, title text, area text, organisation text, summary text)
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english', reference || ' ' || title), 'A') ||
           setweight(to_tsvector('english', summary), 'B') ||
           setweight(to_tsvector('english', area || ' ' || organisation), 'C')
$$;

UPDATE requests AS r SET summary_search = request_summary_document(r.reference, r.title,
    coalesce((SELECT e.functional_area FROM enhancement_requests AS e WHERE e.request_id = r.id), ''), o.name, r.public_summary)
FROM organisations AS o WHERE o.id = r.organisation_id;

CREATE INDEX requests_summary_search_idx ON requests USING gin (summary_search);

-- Timeline entries name people only in their "who" column, which the request page shows by the rule on
-- names; the sentences themselves no longer carry a person's name.
UPDATE request_events SET summary = regexp_replace(summary, '^Raised by .*?\. (Acknowledgement due)', 'Raised. \1')
    WHERE kind = 'raised' AND summary ~ '^Raised by ';
UPDATE request_events SET summary = 'Withdrawn by the raising organisation.'
    WHERE summary ~ '^Withdrawn by ';
UPDATE request_events SET summary = 'The raising organisation chose not to take it forward. The request is closed.'
    WHERE summary ~ ' chose not to take it forward\. The request is closed\.$';
UPDATE request_events SET summary = regexp_replace(summary, '^.* chose to take it forward\. ', 'The raising organisation chose to take it forward. ')
    WHERE summary ~ ' chose to take it forward\. Next: ';
UPDATE request_events SET summary = regexp_replace(summary, '^.*? answered the central team''s question\.', 'The raising organisation answered the central team''s question.')
    WHERE kind = 'answer';
UPDATE request_events SET summary = regexp_replace(summary, '^.*? added a supporting document: ', 'A supporting document was added: ')
    WHERE summary ~ ' added a supporting document: ';
UPDATE request_events SET summary = regexp_replace(regexp_replace(summary, '\(([^()]*), (member|deputy)\)$', '(given by its \2)'),
        '^(.*)''s view on the ', 'The view of the \1 region on the ')
    WHERE kind = 'regional_view';
UPDATE request_events SET summary = regexp_replace(summary, '^(.*) changed its view on the ', 'The \1 region changed its view on the ')
    WHERE kind = 'regional_view' AND summary !~ '^The ';
UPDATE request_events SET summary = regexp_replace(summary, '^.* saved version (\d+) of the requirement definition\.$', 'Version \1 of the requirement definition was saved.')
    WHERE summary ~ ' saved version \d+ of the requirement definition\.$';
UPDATE request_events SET summary = regexp_replace(summary, '^.* agreed version (\d+) of the requirement definition for (.*)$', 'Version \1 of the requirement definition was agreed for \2')
    WHERE summary ~ ' agreed version \d+ of the requirement definition for ';
UPDATE request_events SET summary = regexp_replace(summary, '^.* saved ‘(.*)’ in the business justification\.$', '‘\1’ was saved in the business justification.')
    WHERE summary ~ ' saved ‘.*’ in the business justification\.$';
UPDATE request_events SET summary = 'The business justification was submitted. Every section is complete.'
    WHERE summary ~ ' submitted the business justification\. Every section is complete\.$';
UPDATE request_events SET summary = regexp_replace(summary, '^.*, functional account manager for the region, endorsed ', 'The functional account manager for the region endorsed ')
    WHERE summary ~ ', functional account manager for the region, endorsed the business justification';
UPDATE request_events SET summary = regexp_replace(summary, '^.* endorsed the business justification on behalf of (.*)$', 'The business justification was endorsed on behalf of \1')
    WHERE summary ~ ' endorsed the business justification on behalf of ';

-- Emails and notifications remember what they were written about and for which level of access, so that
-- a reader other than the recipient (an administrator's mail view) sees only what their own access allows.
ALTER TABLE email_outbox
    ADD COLUMN request_id bigint REFERENCES requests (id) ON DELETE SET NULL,
    ADD COLUMN access_level smallint NOT NULL DEFAULT 0 CHECK (access_level BETWEEN 0 AND 3);
CREATE INDEX email_outbox_request_idx ON email_outbox (request_id) WHERE request_id IS NOT NULL;
ALTER TABLE notifications
    ADD COLUMN access_level smallint NOT NULL DEFAULT 0 CHECK (access_level BETWEEN 0 AND 3);
-- A one-time link's token is a secret of its recipient's: once the email is sent (or, without SMTP,
-- kept for the mail view) the outbox no longer holds it.
CREATE FUNCTION email_outbox_forget_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sent_at IS NOT NULL THEN
        NEW.link := regexp_replace(NEW.link, '^/links/.*$', '/links/[sent]');
        NEW.body_text := regexp_replace(NEW.body_text, '/links/[A-Za-z0-9_-]+', '/links/[sent]', 'g');
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER email_outbox_forget_tokens BEFORE INSERT OR UPDATE OF sent_at ON email_outbox
    FOR EACH ROW EXECUTE FUNCTION email_outbox_forget_tokens();
UPDATE email_outbox SET sent_at = sent_at WHERE sent_at IS NOT NULL;

-- Emails written before this change did not say: an administrator sees them only with internal access.
UPDATE email_outbox SET access_level = 3;
UPDATE notifications SET access_level = 3 WHERE request_id IS NOT NULL;
