-- Identifiers compare byte by byte: the columns of the audit trail and the relationship tuples
-- hold ids, stream ids, event types and relation names, never text sorted for people. With the
-- "C" collation PostgreSQL compares them with memcmp and sorts them with abbreviated keys,
-- where a language's collation goes through strcoll for every comparison: equality is the same
-- (both are deterministic), index builds are faster — `strato replay` builds every index of
-- these tables anew (projections/rebuild.h) — and so are lookups. Ordering by these columns
-- becomes byte order (a language's collation orders case and punctuation otherwise); no query
-- orders by them for people to read.
ALTER TABLE audit_entries
  ALTER COLUMN actor TYPE text COLLATE "C",
  ALTER COLUMN stream_id TYPE text COLLATE "C",
  ALTER COLUMN type TYPE text COLLATE "C";

ALTER TABLE audit_stream_organizations
  ALTER COLUMN stream_id TYPE text COLLATE "C",
  ALTER COLUMN organization_id TYPE text COLLATE "C";

ALTER TABLE relationship_tuples
  ALTER COLUMN entity_type TYPE text COLLATE "C",
  ALTER COLUMN entity_id TYPE text COLLATE "C",
  ALTER COLUMN relation TYPE text COLLATE "C",
  ALTER COLUMN subject_type TYPE text COLLATE "C",
  ALTER COLUMN subject_id TYPE text COLLATE "C",
  ALTER COLUMN subject_relation TYPE text COLLATE "C";
