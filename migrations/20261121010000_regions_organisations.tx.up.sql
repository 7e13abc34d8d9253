-- The seven NHS England regions plus Wales: each NSIG has one seat per region.
-- They are reference data every installation needs, so the migration inserts them.
CREATE TABLE regions (
    id         smallint PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[a-z_]+$'),
    name       text NOT NULL UNIQUE,
    sort_order smallint NOT NULL
);

INSERT INTO regions (id, code, name, sort_order) VALUES
    (1, 'east_of_england', 'East of England', 1),
    (2, 'london', 'London', 2),
    (3, 'midlands', 'Midlands', 3),
    (4, 'north_east_and_yorkshire', 'North East and Yorkshire', 4),
    (5, 'north_west', 'North West', 5),
    (6, 'south_east', 'South East', 6),
    (7, 'south_west', 'South West', 7),
    (8, 'wales', 'Wales', 8);

CREATE TABLE organisations (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(btrim(name)) > 0),
    ods_code   text NOT NULL UNIQUE CHECK (ods_code ~ '^[A-Z0-9]{3,6}$'),
    vpd_code   text UNIQUE CHECK (vpd_code ~ '^[0-9]{3}$'),
    region_id  smallint NOT NULL REFERENCES regions (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organisations_region_id_idx ON organisations (region_id);
