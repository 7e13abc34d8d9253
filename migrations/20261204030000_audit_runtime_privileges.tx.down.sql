-- Nothing to undo: the privileges taken were never the portal's to use.
SELECT 1;
