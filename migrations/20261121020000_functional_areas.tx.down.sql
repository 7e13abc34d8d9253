DROP TABLE functional_areas;
