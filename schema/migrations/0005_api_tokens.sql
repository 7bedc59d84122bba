-- Personal API tokens (http/auth_store.h): created and revoked on the account page, shown once,
-- stored as the SHA-256 of the token only. A token acts as its user, with the user's
-- permissions, as `Authorization: Bearer <token>`.
CREATE TABLE api_tokens (
  token_id uuid PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  user_id text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);
