DROP TABLE project_handover_regions;
