-- Projections: one checkpoint row per projection, updated in the same transaction as the
-- projection's tables (see projections/runner.h), and the first read model, the audit trail.

-- position: the last global_position the projection applied (0: none yet). A projection that
-- stopped on an event it could not apply keeps position = error_position - 1 and the error.
CREATE TABLE projection_checkpoints (
  name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
  position bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  error text,
  error_position bigint,
  CHECK ((error IS NULL) = (error_position IS NULL))
);

-- Who did what, readable: one row per event of the log (projections/audit_projection.h).
CREATE TABLE audit_entries (
  position bigint PRIMARY KEY,
  recorded_at timestamptz NOT NULL,
  actor text NOT NULL,
  stream_id text NOT NULL,
  type text NOT NULL,
  summary text NOT NULL
);

-- Filters list the newest entries first, so each index ends with position.
CREATE INDEX audit_entries_actor ON audit_entries (actor, position);
CREATE INDEX audit_entries_stream ON audit_entries (stream_id, position);
CREATE INDEX audit_entries_type ON audit_entries (type, position);
CREATE INDEX audit_entries_time ON audit_entries (recorded_at);
