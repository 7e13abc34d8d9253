-- An endorsement speaks for a region: as its functional account manager, or for its regional SIG by a
-- holder of one of its NSIG seats. Endorsements made before name the FAM's region (read from their
-- organisation); earlier regional SIG endorsements keep the SIG name typed as free text, and no region.
ALTER TABLE justification_endorsements ADD COLUMN region_id smallint REFERENCES regions (id);

UPDATE justification_endorsements AS je SET region_id = o.region_id
FROM users AS u JOIN organisations AS o ON o.id = u.organisation_id
WHERE u.id = je.user_id AND je.endorser = 'functional_account_manager';

ALTER TABLE justification_endorsements
    ADD CONSTRAINT justification_endorsements_for_whom CHECK (region_id IS NOT NULL OR length(sig_name) > 0);

-- One endorsement per regional SIG on a request, whichever of its seat holders gives it.
CREATE UNIQUE INDEX justification_endorsements_one_per_sig ON justification_endorsements (request_id, region_id)
    WHERE endorser = 'regional_sig' AND region_id IS NOT NULL;
