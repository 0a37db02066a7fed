-- Hardening: webhook dedupe and provider status callbacks are scoped to their tenant, so one
-- tenant's events (or forged ids in its own signed webhooks) can never touch another's.

CREATE TABLE webhook_events_scoped (
  provider TEXT NOT NULL,
  -- The tenant the webhook URL named, or '' for platform-wide providers (Stripe).
  scope TEXT NOT NULL,
  event_id TEXT NOT NULL,
  tenant_id TEXT,
  status TEXT NOT NULL,
  body TEXT NOT NULL,
  error TEXT,
  received_at INTEGER NOT NULL,
  processed_at INTEGER,
  PRIMARY KEY (provider, scope, event_id)
);
INSERT INTO webhook_events_scoped (provider, scope, event_id, tenant_id, status, body, error, received_at, processed_at)
  SELECT provider, COALESCE(tenant_id, ''), event_id, tenant_id, status, body, error, received_at, processed_at
  FROM webhook_events;
DROP TABLE webhook_events;
ALTER TABLE webhook_events_scoped RENAME TO webhook_events;

DROP INDEX IF EXISTS outbound_by_provider_id;
CREATE INDEX IF NOT EXISTS outbound_by_provider_id ON outbound_messages (tenant_id, provider_id);
