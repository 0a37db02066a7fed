-- Customer satisfaction surveys: one per resolved conversation (id srv_<conversation id>), the
-- template it was sent with, and its answer (recorded once: status moves sent -> responded).
CREATE TABLE IF NOT EXISTS surveys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  language TEXT NOT NULL,
  template_id TEXT NOT NULL,
  -- The template as sent (JSON): answers are read against it, whatever the config says later.
  template TEXT NOT NULL,
  config_version INTEGER NOT NULL,
  -- csat, nps or ces: the score question's kind (NULL for custom-only templates)
  kind TEXT,
  -- scheduled, sent, responded, cancelled (expiry is read from expires_at)
  status TEXT NOT NULL,
  -- JSON array of the user ids of the agents involved
  agent_ids TEXT NOT NULL DEFAULT '[]',
  send_at INTEGER NOT NULL,
  sent_at INTEGER,
  expires_at INTEGER NOT NULL,
  responded_at INTEGER,
  response_source TEXT,
  score INTEGER,
  comment TEXT,
  answers TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS surveys_by_sent ON surveys (tenant_id, sent_at);
CREATE INDEX IF NOT EXISTS surveys_by_customer ON surveys (tenant_id, customer_id, created_at);
CREATE INDEX IF NOT EXISTS surveys_by_created ON surveys (tenant_id, created_at, id);
CREATE INDEX IF NOT EXISTS surveys_due ON surveys (status, send_at);
