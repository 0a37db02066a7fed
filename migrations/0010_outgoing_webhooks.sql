-- Outgoing webhooks (issue 19): tenants' endpoints, one delivery per event and endpoint, and
-- every attempt. Signing secrets live sealed in tenant_secrets (`webhook:<endpoint id>`).
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT,
  -- JSON array of event types, or ["*"].
  events TEXT NOT NULL,
  -- active | disabled
  status TEXT NOT NULL,
  disabled_reason TEXT,
  -- Deliveries in a row that used every attempt (reset by a success).
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  -- Until then the rotated-out secret signs beside the new one.
  previous_secret_until INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_endpoints_by_tenant ON webhook_endpoints (tenant_id, status);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
  -- whd_<endpoint id>_<event id>: recording the same event twice is a no-op.
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  -- The webhook-id header: the same on every attempt and endpoint.
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  -- queued | sending | delivered | failed
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  -- attempts made before the last replay (the attempt budget counts from here).
  replay_base INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at, id);

CREATE TABLE IF NOT EXISTS webhook_attempts (
  delivery_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, n)
);
