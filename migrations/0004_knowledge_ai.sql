-- Knowledge base (documents, chunks with int8 vectors, full-text index) and AI bookkeeping
-- (per-message analysis for analytics, usage metering uses usage_counters from 0002).

CREATE TABLE IF NOT EXISTS kb_documents (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  title TEXT NOT NULL,
  source_url TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  format TEXT NOT NULL,
  content TEXT NOT NULL,
  -- pending, indexing, ready, failed
  status TEXT NOT NULL,
  error TEXT,
  chunk_count INTEGER NOT NULL DEFAULT 0,
  model TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_documents_by_tenant ON kb_documents (tenant_id, created_at, id);

CREATE TABLE IF NOT EXISTS kb_chunks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  document_id TEXT NOT NULL,
  ord INTEGER NOT NULL,
  heading TEXT NOT NULL,
  text TEXT NOT NULL,
  -- Embedding model and dimension: one index never mixes models.
  model TEXT NOT NULL,
  -- int8 values then an f32 scale (little-endian).
  vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_chunks_by_tenant ON kb_chunks (tenant_id, model);
CREATE INDEX IF NOT EXISTS kb_chunks_by_document ON kb_chunks (document_id);

CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5(
  text, heading, tenant_id UNINDEXED, chunk_id UNINDEXED, tokenize = 'porter unicode61'
);

-- The tenant's knowledge-base version (bumped on every change: invalidates caches) and the
-- embedding model its index uses.
CREATE TABLE IF NOT EXISTS kb_state (
  tenant_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  model TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS message_analysis (
  tenant_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  sentiment REAL NOT NULL,
  intent TEXT NOT NULL,
  topics TEXT NOT NULL DEFAULT '[]',
  language TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX IF NOT EXISTS message_analysis_by_tenant ON message_analysis (tenant_id, created_at);

-- Tenant-level provider secrets (bring-your-own keys); never returned by the API.
CREATE TABLE IF NOT EXISTS tenant_secrets (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
