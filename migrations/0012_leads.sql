-- Leads (issue 19): one per person (a customer; captures with the same email or phone merge
-- into it), scored by the tenant's rules with the reasons kept, and a history of stages.
CREATE TABLE IF NOT EXISTS leads (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  conversation_id TEXT,
  channel TEXT,
  name TEXT,
  email TEXT,
  phone TEXT,
  company TEXT,
  -- 'purchase' once buying intent was seen
  intent TEXT,
  -- form | conversation | api
  source TEXT NOT NULL,
  -- new | qualified | contacted | won | lost
  stage TEXT NOT NULL,
  score INTEGER NOT NULL DEFAULT 0,
  score_reasons TEXT NOT NULL DEFAULT '[]',
  owner_id TEXT,
  -- the consent the person gave, in the tenant's words at the time
  consent_text TEXT,
  consent_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, customer_id)
);
CREATE INDEX IF NOT EXISTS leads_by_tenant ON leads (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS leads_by_email ON leads (tenant_id, email);
CREATE INDEX IF NOT EXISTS leads_by_phone ON leads (tenant_id, phone);
CREATE INDEX IF NOT EXISTS leads_by_owner ON leads (tenant_id, owner_id, stage);

CREATE TABLE IF NOT EXISTS lead_stage_history (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  from_stage TEXT,
  to_stage TEXT NOT NULL,
  -- user:<id>, key:<id> or system
  actor TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS lead_stage_history_by_lead ON lead_stage_history (tenant_id, lead_id, at);
