-- Conversation summaries for agents: one per conversation, the newest (by the last message it
-- covers) wins; an AI summary replaces the extractive one written at handoff or resolution.
CREATE TABLE IF NOT EXISTS conversation_summaries (
  tenant_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  text TEXT NOT NULL,
  -- ai, extractive
  source TEXT NOT NULL,
  model TEXT,
  up_to_seq INTEGER NOT NULL,
  -- handoff, resolved, request
  reason TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, conversation_id)
);
