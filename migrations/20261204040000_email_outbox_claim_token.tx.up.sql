-- A sender's claim on a batch of emails is short and renewed while the batch is being sent; the token
-- says whose claim it is, so that a sender renews only its own and never one another sender took over.
ALTER TABLE email_outbox ADD COLUMN claim_token text;
