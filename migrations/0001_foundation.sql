-- Foundation: a table for the diagnostics round trip (local dev and tests only).
CREATE TABLE IF NOT EXISTS diag_notes (
  id TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
