-- The audit trail is read from the log itself (http/visibility.h) instead of a copy of it.
-- audit_entries held one row per event — position, time, stream and type copied from the
-- event, the actor from its metadata, a summary computed from its data — so every `strato
-- replay` copied the whole log once more and sorted five indexes over it: most of a rebuild's
-- time. The log never changes, so its indexes are kept as events are appended and never need
-- rebuilding; the summary is computed when an entry is shown (core/domain/audit_line.h).
-- What the audit projection keeps is what a fold decides: audit_stream_organizations.
DROP TABLE audit_entries;

-- Who did it, as the audit trail shows it: metadata.actor when it is a non-empty string, else
-- 'system'. The audit filters (http/visibility.cpp) call it as the index below is keyed.
CREATE FUNCTION strato_event_actor(metadata jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(metadata -> 'actor') = 'string' AND metadata ->> 'actor' <> ''
              THEN metadata ->> 'actor' ELSE 'system' END
$$;

-- Filters list the newest entries first, so each index ends with the position.
CREATE INDEX events_actor ON events (strato_event_actor(metadata), global_position);
CREATE INDEX events_type ON events (type, global_position);

-- The last position recorded before `t` (0 when there is none). recorded_at never decreases
-- along global_position and positions have no gaps, so a binary search on the primary key
-- finds it: a time filter becomes a range of positions, without an index on recorded_at.
CREATE FUNCTION strato_log_position_before(t timestamptz) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  lo bigint := 0;
  hi bigint;
  mid bigint;
  at timestamptz;
BEGIN
  SELECT coalesce(max(global_position), 0) INTO hi FROM events;
  -- Positions up to lo were recorded before t; those after hi were not.
  WHILE lo < hi LOOP
    mid := lo + (hi - lo + 1) / 2;
    SELECT recorded_at INTO at FROM events WHERE global_position = mid;
    IF at < t THEN
      lo := mid;
    ELSE
      hi := mid - 1;
    END IF;
  END LOOP;
  RETURN lo;
END;
$$;

-- Nothing reads relationship tuples by subject in SQL: the lists ("which VMs may this user
-- read") are answered by the tuples kept in memory (projections/tuple_feed.h), and checks
-- find tuples by entity (the primary key). Every rebuild sorted this index for nothing.
DROP INDEX relationship_tuples_subject;
