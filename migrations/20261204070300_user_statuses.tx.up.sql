-- Accounts asked for after single sign-on wait for approval (pending); leavers' access ends (left);
-- an access review that is not confirmed in time suspends an account until someone confirms it. None of
-- these deletes anything the person wrote.
ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check CHECK (status IN ('active', 'disabled', 'pending', 'left', 'suspended'));
