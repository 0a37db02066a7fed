-- CRM sync (issue 19): per-tenant connections (tokens sealed in tenant_secrets as
-- crm:<provider>:access / :refresh), the OAuth states in flight (hashed, single use), the
-- remote record each local one became (so retries update instead of duplicating), and the
-- push jobs the queue and the cron sweep drain.
CREATE TABLE IF NOT EXISTS crm_connections (
  tenant_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  -- connected | error
  status TEXT NOT NULL,
  instance_url TEXT,
  expires_at INTEGER,
  last_error TEXT,
  last_sync_at INTEGER,
  connected_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, provider)
);

CREATE TABLE IF NOT EXISTS crm_oauth_states (
  state_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  verifier TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS crm_links (
  tenant_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  -- lead | transcript
  kind TEXT NOT NULL,
  local_id TEXT NOT NULL,
  remote_id TEXT NOT NULL,
  synced_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, provider, kind, local_id)
);

CREATE TABLE IF NOT EXISTS crm_jobs (
  -- crm_<provider>_<kind>_<local id>: a change while queued pushes the newest state once
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  kind TEXT NOT NULL,
  local_id TEXT NOT NULL,
  -- queued | sending | done | failed
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS crm_jobs_due ON crm_jobs (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS crm_jobs_by_tenant ON crm_jobs (tenant_id, provider);
