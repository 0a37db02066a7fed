-- Conversations: the tenant-wide view for the inbox and analytics. Each conversation's Durable
-- Object is the single writer of its state and message log; these tables are its mirror,
-- written through the object's durable outbox (so they converge even after a failed write).

CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  -- verified (tenant user id + user_hash), anonymous (widget visitor), phone, whatsapp, email
  kind TEXT NOT NULL,
  external_id TEXT NOT NULL,
  name TEXT,
  email TEXT,
  phone TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, kind, external_id)
);

CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  status TEXT NOT NULL,
  assignee_id TEXT,
  priority TEXT NOT NULL DEFAULT 'normal',
  tags TEXT NOT NULL DEFAULT '[]',
  subject TEXT,
  handoff_reason TEXT,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_message_at INTEGER,
  last_message_preview TEXT,
  unread_agent INTEGER NOT NULL DEFAULT 0,
  unread_customer INTEGER NOT NULL DEFAULT 0,
  -- The object's outbox id that produced this row; older writes never overwrite newer ones.
  mirror_version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_tenant ON conversations (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS conversations_by_status ON conversations (tenant_id, status, created_at, id);
CREATE INDEX IF NOT EXISTS conversations_by_customer ON conversations (tenant_id, customer_id, channel, status);

CREATE TABLE IF NOT EXISTS conversation_messages (
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  author_type TEXT NOT NULL,
  author_id TEXT NOT NULL,
  text TEXT NOT NULL,
  meta TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE IF NOT EXISTS canned_responses (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  shortcut TEXT NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, shortcut)
);
CREATE INDEX IF NOT EXISTS canned_by_tenant ON canned_responses (tenant_id, created_at, id);
