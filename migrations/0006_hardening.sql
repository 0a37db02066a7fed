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

-- Billing per subscription: a tenant's tier is the best of its live subscriptions, so an event
-- about an old subscription (deleted after the tenant moved to a new one) cannot downgrade it.
CREATE TABLE IF NOT EXISTS billing_subscriptions (
  subscription_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  status TEXT NOT NULL,
  -- The tier this subscription entitles the tenant to right now (free once it ended).
  tier TEXT NOT NULL,
  event_created INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS billing_subscriptions_by_tenant ON billing_subscriptions (tenant_id);
INSERT OR IGNORE INTO billing_subscriptions (subscription_id, tenant_id, status, tier, event_created, updated_at)
  SELECT subscription_id, tenant_id, status, tier, event_created, updated_at FROM billing_state;
DROP TABLE billing_state;
