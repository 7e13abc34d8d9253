-- A linked project handed to an NSIG: every regional SIG must extend its membership to cover the project's
-- functional area. One row per region, made at the hand-over, waits on the NSIG's dashboard until the
-- region's seat holder (or the central team) marks it done. Projects handed over before this was kept
-- have no rows: whether their regions extended membership was never recorded.
CREATE TABLE project_handover_regions (
    project_id bigint NOT NULL REFERENCES linked_projects (id) ON DELETE CASCADE,
    region_id  smallint NOT NULL REFERENCES regions (id),
    done_at    timestamptz,
    done_by    bigint REFERENCES users (id),
    PRIMARY KEY (project_id, region_id),
    CHECK ((done_at IS NULL) = (done_by IS NULL))
);
CREATE INDEX project_handover_regions_pending_idx ON project_handover_regions (project_id) WHERE done_at IS NULL;
