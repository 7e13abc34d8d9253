DROP TABLE national_competency_requests;
DROP TABLE supplementary_role_requests;
DROP TABLE competences;
DROP TABLE supplementary_roles;
