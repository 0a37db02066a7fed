-- Quality reviews: a conversation scored against a scorecard by a person, the AI provider or
-- the heuristic reviewer. One review per conversation, scorecard and reviewer (a reviewer's
-- second submission replaces the first); the scorecard is kept as it was when scored.
CREATE TABLE IF NOT EXISTS reviews (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  scorecard_id TEXT NOT NULL,
  scorecard TEXT NOT NULL,
  config_version INTEGER NOT NULL,
  -- person, ai, heuristic
  reviewer_type TEXT NOT NULL,
  -- the user (or key) id; 'ai' for the AI and heuristic reviewers
  reviewer_id TEXT NOT NULL,
  model TEXT,
  -- the agent whose conversation it was (NULL: the assistant alone)
  agent_id TEXT,
  answers TEXT NOT NULL,
  score REAL,
  comment TEXT,
  -- submitted, acknowledged, disputed
  status TEXT NOT NULL,
  agent_response TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS reviews_one_per_reviewer ON reviews (tenant_id, conversation_id, scorecard_id, reviewer_id);
CREATE INDEX IF NOT EXISTS reviews_by_agent ON reviews (tenant_id, agent_id, created_at);
CREATE INDEX IF NOT EXISTS reviews_by_created ON reviews (tenant_id, created_at, id);

-- The reviewer role (an agent who also reviews): SQLite cannot change a CHECK constraint, so
-- the users table is rebuilt with the same columns and index.
CREATE TABLE users_with_reviewers (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'reviewer', 'agent', 'viewer')),
  skills TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (tenant_id, email)
);
INSERT INTO users_with_reviewers (id, tenant_id, email, name, role, skills, status, created_at, updated_at)
  SELECT id, tenant_id, email, name, role, skills, status, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_with_reviewers RENAME TO users;
CREATE INDEX IF NOT EXISTS users_by_tenant ON users (tenant_id, created_at, id);
