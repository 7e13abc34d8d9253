DROP TABLE action_links;
DROP TABLE allocation_moves;
DROP TABLE allocations;
DROP TABLE releases;
