-- ESR's functional areas. Each NSIG covers some of them (nsigs.functional_areas holds their names), and
-- every enhancement request names one, which routes it to that NSIG's review queue.
CREATE TABLE functional_areas (
    name       text PRIMARY KEY,
    sort_order smallint NOT NULL
);

INSERT INTO functional_areas (name, sort_order) VALUES
    ('Core HR', 1),
    ('Recruitment', 2),
    ('Payroll', 3),
    ('Absence', 4),
    ('Work Structures', 5),
    ('Self Service', 6),
    ('Learning Management (OLM)', 7),
    ('Business Intelligence', 8),
    ('Data Warehouse', 9),
    ('Inter Authority Transfer (IAT)', 10),
    ('Interfaces', 11);
