-- The audit trail's actor and type filters (http/visibility.cpp) find entries through indexes
-- keyed by the value's hash, then the position: a few actors and a few dozen event types share a
-- million rows, and an index led by such text sorts slowly (every comparison of equal values
-- falls through to the position, past a variable-length column). Fixed-width keys build about
-- twice as fast — `strato replay` builds every index anew (projections/rebuild.h) — and take
-- under half the space. The filters compare the hash, then the value, so a collision costs a
-- row read and never a wrong row; the newest entries come first as before.
DROP INDEX audit_entries_actor;
CREATE INDEX audit_entries_actor ON audit_entries (hashtext(actor), position);
DROP INDEX audit_entries_type;
CREATE INDEX audit_entries_type ON audit_entries (hashtext(type), position);
