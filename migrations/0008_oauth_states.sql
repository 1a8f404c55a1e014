-- "Connect with …" consents in flight: one row per state, used once, bound to the admin page
-- session and tenant that started it. Only a hash of the state is kept; the PKCE verifier and
-- the OAuth client travel sealed (AES-GCM, bound to the row).
CREATE TABLE oauth_states (
  state_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  session_id TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  sealed TEXT NOT NULL,
  -- Milliseconds since the epoch.
  expires_at INTEGER NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);
