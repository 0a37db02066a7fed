-- Analytics (shared/src/analytics/, definitions in docs/metrics.md).
--
-- Each conversation's facts, kept by its object and mirrored with its row (so they move forward
-- with `mirror_version`, like everything else on the row).
ALTER TABLE conversations ADD COLUMN msgs_customer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN msgs_ai INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN msgs_agent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN first_customer_at INTEGER;
ALTER TABLE conversations ADD COLUMN first_response_at INTEGER;
ALTER TABLE conversations ADD COLUMN first_human_at INTEGER;
ALTER TABLE conversations ADD COLUMN handoff_at INTEGER;
ALTER TABLE conversations ADD COLUMN first_handoff_reason TEXT;
ALTER TABLE conversations ADD COLUMN resolved_at INTEGER;
ALTER TABLE conversations ADD COLUMN resolved_by TEXT;
ALTER TABLE conversations ADD COLUMN reopens INTEGER NOT NULL DEFAULT 0;
-- 1 when the rollups hold this row's contribution (set in the batch that adds it); 0 for rows
-- from before analytics, which the next change or the recompute adds.
ALTER TABLE conversations ADD COLUMN rolled INTEGER NOT NULL DEFAULT 0;
-- Medians and p90s read these columns for a period's conversations: covering indexes keep
-- those scans off the table rows.
CREATE INDEX IF NOT EXISTS conversations_by_created_facts
  ON conversations (tenant_id, created_at, first_customer_at, first_response_at, first_human_at, channel, assignee_id);
CREATE INDEX IF NOT EXISTS conversations_by_resolved
  ON conversations (tenant_id, resolved_at, created_at, first_human_at, channel, assignee_id);

-- Counters per tenant, quarter hour (UTC ms / 900000: every real UTC offset is a multiple of
-- 15 minutes, so days and hours in any tenant's time zone are whole sums of buckets), channel
-- and agent (the assignee, '' for none; for messages the agent who wrote). Each conversation
-- contributes at the bucket of the moment each metric is about (created, responded, resolved).
CREATE TABLE IF NOT EXISTS analytics_buckets (
  tenant_id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  channel TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  created INTEGER NOT NULL DEFAULT 0,
  handed_off INTEGER NOT NULL DEFAULT 0,
  resolved INTEGER NOT NULL DEFAULT 0,
  contained INTEGER NOT NULL DEFAULT 0,
  reopened INTEGER NOT NULL DEFAULT 0,
  msgs_customer INTEGER NOT NULL DEFAULT 0,
  msgs_ai INTEGER NOT NULL DEFAULT 0,
  msgs_agent INTEGER NOT NULL DEFAULT 0,
  first_response_n INTEGER NOT NULL DEFAULT 0,
  first_response_ms INTEGER NOT NULL DEFAULT 0,
  first_human_n INTEGER NOT NULL DEFAULT 0,
  first_human_ms INTEGER NOT NULL DEFAULT 0,
  resolution_n INTEGER NOT NULL DEFAULT 0,
  resolution_ms INTEGER NOT NULL DEFAULT 0,
  handle_n INTEGER NOT NULL DEFAULT 0,
  handle_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, bucket, channel, agent_id)
);

-- AI answers per tenant, quarter hour, channel, provider and model: citations, tokens,
-- fallbacks.
CREATE TABLE IF NOT EXISTS analytics_ai (
  tenant_id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  channel TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  answers INTEGER NOT NULL DEFAULT 0,
  cited INTEGER NOT NULL DEFAULT 0,
  fallback INTEGER NOT NULL DEFAULT 0,
  tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, bucket, channel, provider, model)
);

-- Customer messages' analysis per tenant, quarter hour, channel and intent: volume and
-- sentiment.
CREATE TABLE IF NOT EXISTS analytics_intents (
  tenant_id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  channel TEXT NOT NULL,
  intent TEXT NOT NULL,
  messages INTEGER NOT NULL DEFAULT 0,
  sentiment_sum REAL NOT NULL DEFAULT 0,
  negative INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, bucket, channel, intent)
);

-- Agents' time online: one row per inbox socket, from connect to close (an agent with two tabs
-- has overlapping rows; reports take their union).
CREATE TABLE IF NOT EXISTS agent_sessions (
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS agent_sessions_by_end ON agent_sessions (tenant_id, ended_at);
