-- Tenants, their keys, connectors, nodes and recent decisions.
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- Bumped by a full cache purge: every cache key carries it, so old entries stop matching at once.
  cache_gen INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
  -- SHA-256 of the secret part; the key itself is never stored.
  secret_hash TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

CREATE TABLE connectors (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  -- The config without its secrets, as JSON.
  config TEXT NOT NULL,
  -- The secrets, AES-GCM encrypted under the worker secret ENCRYPTION_KEY (base64 iv || ciphertext).
  secrets TEXT,
  -- Bumped on every change: cache keys carry it, so a new mapping never serves an old decision.
  rev INTEGER NOT NULL DEFAULT 1,
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE nodes (
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  config TEXT NOT NULL,
  -- Connector names the node uses, as a JSON array, so "in use" checks need no JSON parsing in code.
  connectors TEXT NOT NULL DEFAULT '[]',
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE decisions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  at TEXT NOT NULL,
  node_id TEXT NOT NULL,
  masked_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status TEXT NOT NULL,
  destination TEXT NOT NULL,
  reason TEXT,
  cache TEXT NOT NULL,
  ms REAL NOT NULL,
  -- Each connector asked, in order, with its outcome (SPEC 4 chains), as JSON.
  steps TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX decisions_tenant_seq ON decisions(tenant_id, seq DESC);
