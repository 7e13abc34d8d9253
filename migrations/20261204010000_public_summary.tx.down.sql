DROP TRIGGER IF EXISTS email_outbox_forget_tokens ON email_outbox;
DROP FUNCTION IF EXISTS email_outbox_forget_tokens();
ALTER TABLE notifications DROP COLUMN IF EXISTS access_level;
DROP INDEX IF EXISTS email_outbox_request_idx;
ALTER TABLE email_outbox DROP COLUMN IF EXISTS access_level, DROP COLUMN IF EXISTS request_id;
DROP INDEX IF EXISTS requests_summary_search_idx;
ALTER TABLE requests DROP COLUMN IF EXISTS summary_search, DROP COLUMN IF EXISTS public_summary;
DROP FUNCTION IF EXISTS request_summary_document(text, text, text, text, text);
