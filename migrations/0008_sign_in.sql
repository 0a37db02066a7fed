-- Agents and admins sign themselves in: console sessions (a rotating refresh token in an
-- HttpOnly cookie), one-time email sign-in links, and invitations that can be revoked.
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  -- How the user proved who they are: magic_link, oidc or invitation.
  method TEXT NOT NULL,
  -- SHA-256 of the current refresh token, and of the one it replaced (reuse detection).
  refresh_hash TEXT NOT NULL,
  previous_hash TEXT,
  rotated_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  user_agent TEXT
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (tenant_id, user_id, revoked_at);

CREATE TABLE IF NOT EXISTS sign_in_links (
  token_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  -- Normalised address: a link may be for someone joining by their email domain.
  email TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_links_by_email ON sign_in_links (tenant_id, email, created_at);

-- Single sign-on in flight: the PKCE verifier and nonce of one authorization request, found
-- by the SHA-256 of its state and deleted when the provider sends the browser back.
CREATE TABLE IF NOT EXISTS oidc_requests (
  state_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  verifier TEXT NOT NULL,
  nonce TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

ALTER TABLE invitations ADD COLUMN revoked_at INTEGER;
