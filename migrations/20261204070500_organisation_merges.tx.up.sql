-- Organisations are managed in the portal: edited (version-checked), and merged when trusts merge. A
-- merged organisation is kept, naming the one it merged into; its people and requests move there.
ALTER TABLE organisations ADD COLUMN merged_into_id bigint REFERENCES organisations (id);
ALTER TABLE organisations ADD COLUMN merged_at timestamptz;
ALTER TABLE organisations ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE organisations ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE organisations ADD CONSTRAINT organisations_not_merged_into_itself CHECK (merged_into_id IS NULL OR merged_into_id <> id);
ALTER TABLE organisations ADD CONSTRAINT organisations_merged_together CHECK ((merged_into_id IS NULL) = (merged_at IS NULL));
