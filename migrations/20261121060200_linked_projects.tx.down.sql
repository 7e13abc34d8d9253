DROP TABLE linked_projects;
