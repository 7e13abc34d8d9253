-- The national reference lists that supplementary role and national competency requests maintain,
-- and those requests' own answers. An approved request adds its role or competence to its list in the
-- same transaction; entries from the starting lists have no request.

-- Supplementary roles: roles done in addition to normal duties, recorded on an ESR assignment. Employee
-- input (Employee Self Service) is allowed only for roles linked to the wellbeing agenda.
CREATE TABLE supplementary_roles (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    input_level text NOT NULL CHECK (input_level IN ('employee', 'manager', 'professional_user')),
    wellbeing   boolean NOT NULL,
    duties      text NOT NULL DEFAULT '',
    request_id  bigint REFERENCES requests (id),
    added_at    timestamptz NOT NULL,
    CHECK (input_level <> 'employee' OR wellbeing)
);
CREATE UNIQUE INDEX supplementary_roles_name_key ON supplementary_roles (lower(name));

-- Competences of the NHS MAND / CSTF list, with their ESR labels, e.g. NHS|CSTF|Fire Safety - 2 Years|.
CREATE TABLE competences (
    id            bigserial PRIMARY KEY,
    label         text NOT NULL CHECK (label ~ '^(NHS|\d{3})\|(CSTF|MAND|LOCAL)\|[^|]+ - \d+ Years?\|$'),
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 150 AND position('|' IN name) = 0),
    framework     text NOT NULL CHECK (framework IN ('CSTF', 'MAND')),
    renewal_years smallint NOT NULL CHECK (renewal_years BETWEEN 1 AND 10),
    request_id    bigint REFERENCES requests (id),
    added_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX competences_label_key ON competences (lower(label));

CREATE TABLE supplementary_role_requests (
    request_id     bigint PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    role_name      text NOT NULL CHECK (length(btrim(role_name)) BETWEEN 1 AND 100),
    duties         text NOT NULL,
    input_level    text NOT NULL CHECK (input_level IN ('employee', 'manager', 'professional_user')),
    wellbeing      boolean NOT NULL,
    justification  text NOT NULL CHECK (length(btrim(justification)) > 0),
    benefits       text NOT NULL CHECK (length(btrim(benefits)) > 0),
    organisations  text NOT NULL DEFAULT '',
    outcome_reason text NOT NULL DEFAULT '',
    CHECK (input_level <> 'employee' OR wellbeing)
);

CREATE TABLE national_competency_requests (
    request_id          bigint PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    competence_name     text NOT NULL CHECK (length(btrim(competence_name)) BETWEEN 1 AND 150 AND position('|' IN competence_name) = 0),
    framework           text NOT NULL CHECK (framework IN ('CSTF', 'MAND')),
    renewal_years       smallint NOT NULL CHECK (renewal_years BETWEEN 1 AND 10),
    label               text NOT NULL,
    national_learning   text NOT NULL DEFAULT '',
    national_initiative text NOT NULL DEFAULT '',
    staff_groups        text NOT NULL,
    justification       text NOT NULL CHECK (length(btrim(justification)) > 0),
    outcome_reason      text NOT NULL DEFAULT '',
    CHECK (length(btrim(national_learning)) > 0 OR length(btrim(national_initiative)) > 0)
);
