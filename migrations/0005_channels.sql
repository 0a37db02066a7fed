-- Messaging channels: webhook idempotency, outbound deliveries (a durable outbox drained by a
-- queue), opt-outs, email threading and voice calls.

-- Every accepted webhook is recorded once, before processing. A retry of a processed event is
-- acknowledged and skipped; a retry of one whose processing failed is processed again.
CREATE TABLE IF NOT EXISTS webhook_events (
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL,
  tenant_id TEXT,
  status TEXT NOT NULL,
  body TEXT NOT NULL,
  error TEXT,
  received_at INTEGER NOT NULL,
  processed_at INTEGER,
  PRIMARY KEY (provider, event_id)
);

-- Replies to send through a provider; one row per conversation message, so a retry never
-- creates a second send.
CREATE TABLE IF NOT EXISTS outbound_messages (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  channel TEXT NOT NULL,
  to_address TEXT NOT NULL,
  text TEXT NOT NULL,
  -- queued, sending, sent, delivered, read, failed (provider refused or reported failure),
  -- dead (retries exhausted), suppressed (recipient opted out)
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  provider_id TEXT,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbound_due ON outbound_messages (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbound_by_provider_id ON outbound_messages (provider_id);
CREATE INDEX IF NOT EXISTS outbound_by_conversation ON outbound_messages (tenant_id, conversation_id, seq);

-- Carrier keywords (STOP/START): an opted-out address receives nothing.
CREATE TABLE IF NOT EXISTS channel_optouts (
  tenant_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  address TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, channel, address)
);

-- Email Message-IDs per conversation, so replies (In-Reply-To / References) find their thread.
CREATE TABLE IF NOT EXISTS email_threads (
  tenant_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, message_id)
);

CREATE TABLE IF NOT EXISTS voice_calls (
  tenant_id TEXT NOT NULL,
  call_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  status TEXT NOT NULL,
  summary TEXT,
  recording_url TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, call_id)
);
CREATE INDEX IF NOT EXISTS email_threads_by_conversation ON email_threads (tenant_id, conversation_id, created_at);

-- The last Stripe subscription state applied per tenant (events arrive out of order).
CREATE TABLE IF NOT EXISTS billing_state (
  tenant_id TEXT PRIMARY KEY,
  subscription_id TEXT NOT NULL,
  status TEXT NOT NULL,
  tier TEXT NOT NULL,
  event_created INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
