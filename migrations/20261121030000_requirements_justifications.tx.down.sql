DROP TABLE attachments;
DROP TABLE justification_endorsements;
DROP TABLE business_justifications;
DROP TABLE requirement_agreements;
DROP TABLE requirement_versions;
