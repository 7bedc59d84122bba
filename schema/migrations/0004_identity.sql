-- Identity: the passkeys read model (folded from the user streams by the users projection),
-- and the short-lived security state that is not part of the log: ceremony challenges and
-- sign-in sessions. Neither holds a secret in the clear: challenges and session tokens are
-- stored as their SHA-256, so a read of these tables cannot be replayed as a sign-in.

-- passkeys (projections/user_projection.h): one row per passkey a user has now.
CREATE TABLE passkeys (
  credential_id text PRIMARY KEY,
  user_id text NOT NULL,
  name text NOT NULL,
  public_key text NOT NULL,
  algorithm bigint NOT NULL,
  sign_count bigint NOT NULL,
  transports text NOT NULL,
  backup_eligible boolean NOT NULL,
  backup_state boolean NOT NULL,
  aaguid text NOT NULL,
  attestation_format text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  last_position bigint NOT NULL
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A WebAuthn ceremony in progress (http/auth_store.h). A challenge is consumed by deleting its
-- row (DELETE ... RETURNING), so it can be used once; expired rows are refused and swept.
CREATE TABLE auth_challenges (
  challenge_hash bytea PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('register', 'add_passkey', 'login')),
  user_id text NOT NULL DEFAULT '',     -- register: the new user's id; add_passkey/login: the user
  username text NOT NULL DEFAULT '',
  display_name text NOT NULL DEFAULT '',
  user_verification text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);

-- Sign-in sessions (http/auth_store.h). The cookie carries the token; only its hash is here.
CREATE TABLE sessions (
  session_id uuid PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  user_id text NOT NULL,
  csrf_token text NOT NULL,
  credential_id text NOT NULL DEFAULT '',
  client_address text NOT NULL DEFAULT '',
  user_agent text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  idle_expires_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  ended_reason text
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
