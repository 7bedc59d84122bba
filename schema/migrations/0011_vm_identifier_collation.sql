-- The id columns of the VM read models compare byte by byte, as 0008 made those of the
-- relationship tuples: "C" lets PostgreSQL compare with memcmp and sort with abbreviated keys
-- instead of strcoll for every comparison. `strato replay` builds these tables' indexes anew
-- (a row per VM; the host_desired_vms (host_id, vm_id) index, whose host_id is shared by many
-- rows, was the slowest of them). Equality is the same; ordering by these columns becomes byte
-- order, and no query orders them for people to read. A query joining them to a column of the
-- default collation says which collation compares (http/page_vms.cpp), so that the other
-- table's index serves the join.
ALTER TABLE vms
  ALTER COLUMN vm_id TYPE text COLLATE "C",
  ALTER COLUMN org_id TYPE text COLLATE "C",
  ALTER COLUMN owner_id TYPE text COLLATE "C",
  ALTER COLUMN host_id TYPE text COLLATE "C";

ALTER TABLE host_desired_vms
  ALTER COLUMN vm_id TYPE text COLLATE "C",
  ALTER COLUMN host_id TYPE text COLLATE "C",
  ALTER COLUMN org_id TYPE text COLLATE "C";
