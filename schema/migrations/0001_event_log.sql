-- The event log: append-only, gap-free global order, tamper-evident hash chain.
-- See schema/events.md for the meaning of each column and the hash's canonical bytes.
CREATE TABLE events (
  global_position bigint PRIMARY KEY CHECK (global_position > 0),
  stream_id text NOT NULL CHECK (length(stream_id) BETWEEN 3 AND 200),
  stream_version bigint NOT NULL CHECK (stream_version > 0),
  event_id uuid NOT NULL UNIQUE,
  type text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
  data jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
  metadata jsonb NOT NULL CHECK (jsonb_typeof(metadata) = 'object'),
  recorded_at timestamptz NOT NULL,
  command_id uuid,
  first_of_command boolean NOT NULL DEFAULT false,
  hash bytea NOT NULL CHECK (length(hash) = 32),
  UNIQUE (stream_id, stream_version)
);

-- No index on type or recorded_at: readers filter through read models, and recorded_at never
-- decreases along global_position, so "as of" a time is a search on the primary key.
-- Idempotency: a command id appends once. Its first event carries first_of_command, so the
-- key costs one index entry per command, and a retry finds the events its first attempt wrote.
CREATE UNIQUE INDEX events_command_key ON events (command_id) WHERE first_of_command;
ALTER TABLE events ADD CHECK (NOT first_of_command OR command_id IS NOT NULL);

-- For appenders that know where the log ended after their own last append: inside their
-- transaction (after the append lock) they check that nobody appended since. SQLSTATE SX001.
CREATE FUNCTION strato_expect_log_end(expected_position bigint, expected_hash bytea)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  last_position bigint;
  last_hash bytea;
BEGIN
  SELECT global_position, hash INTO last_position, last_hash
    FROM events ORDER BY global_position DESC LIMIT 1;
  IF coalesce(last_position, 0) <> expected_position
     OR (last_position IS NOT NULL AND last_hash <> expected_hash) THEN
    RAISE EXCEPTION 'the log ends at position %, not at %', coalesce(last_position, 0),
      expected_position USING ERRCODE = 'SX001';
  END IF;
END;
$$;

-- Appenders hash the jsonb text they predicted; a stored payload that reads back differently
-- aborts the transaction before commit. SQLSTATE SX002.
CREATE FUNCTION strato_expect_payload_text(mismatches bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF mismatches <> 0 THEN
    RAISE EXCEPTION '% payloads read back differently from the hashed text', mismatches
      USING ERRCODE = 'SX002';
  END IF;
END;
$$;

CREATE FUNCTION strato_refuse_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION strato_refuse_log_change();

CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION strato_refuse_log_change();
