-- A seat is a region's: appointing someone whose organisation is in another region needs confirming with
-- a reason, which is kept with the appointment (as for sitting on two NSIGs).
ALTER TABLE nsig_appointments ADD COLUMN other_region_reason text NOT NULL DEFAULT '' CHECK (length(other_region_reason) <= 2000);
