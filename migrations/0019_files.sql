-- Files in conversations (issue 20). The bytes live in object storage (R2; Spin's key-value
-- store in chunks) under `storage_key`; this row is what the API, quotas, downloads and the
-- data-rights sweep read. One row per upload: the id is derived from the conversation, the
-- uploader and the upload's idempotency key, so a retried upload finds its row.
CREATE TABLE IF NOT EXISTS files (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  storage_key TEXT NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  kind TEXT NOT NULL,            -- image | pdf | text | document
  size INTEGER NOT NULL,
  width INTEGER,
  height INTEGER,
  sha256 TEXT NOT NULL,
  uploaded_by_type TEXT NOT NULL, -- customer | agent | system (channel media)
  uploaded_by_id TEXT NOT NULL,
  source TEXT NOT NULL,          -- upload | twilio | resend
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_conversation ON files (tenant_id, conversation_id, created_at);
-- Storage in use per tenant (the quota check sums it).
CREATE INDEX IF NOT EXISTS files_by_tenant_size ON files (tenant_id, size);
