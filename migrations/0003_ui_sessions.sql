-- Admin page sessions, so that logging out (or revoking the key) ends a session on the server:
-- the sealed cookie names its row, and a cookie whose row is gone is no session at all.
CREATE TABLE ui_sessions (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
  -- Milliseconds since the epoch, as the cookie's own expiry.
  expires_at INTEGER NOT NULL
);
CREATE INDEX ui_sessions_key ON ui_sessions(key_id);
