-- Visitors rate answers (thumbs up/down, optional comment): one rating per message, the
-- latest wins. Kept per tenant for analytics.
CREATE TABLE IF NOT EXISTS message_ratings (
  tenant_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  author_type TEXT NOT NULL,
  rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
  comment TEXT,
  customer_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX IF NOT EXISTS message_ratings_by_tenant ON message_ratings (tenant_id, updated_at);
