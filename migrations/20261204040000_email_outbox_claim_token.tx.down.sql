ALTER TABLE email_outbox DROP COLUMN claim_token;
