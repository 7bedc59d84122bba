-- Leadership terms of `strato serve` instances. The instance that takes the leader advisory
-- lock records a new term here, on the lock's own session, before it acts; the term number
-- only grows, so /readyz and /metrics can say which instance leads, since when, and in which
-- term, and an operator can read the history of leader changes.
CREATE TABLE leader_terms (
  term bigserial PRIMARY KEY,
  instance text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now()
);
