-- The console a support team lives in: full-text search over the message mirror, and the
-- language each conversation's customer writes in (for translation).

-- Its own copy of each message's text (not an external-content table: conversation_messages has
-- no stable integer key for FTS to point at). `tenant_id` is indexed so a search matches only
-- the caller's tenant inside the index; queries also filter on it outside.
CREATE VIRTUAL TABLE IF NOT EXISTS message_fts USING fts5(
  text, tenant_id, conversation_id UNINDEXED, seq UNINDEXED,
  tokenize = 'unicode61 remove_diacritics 2'
);

-- The mirror inserts with ON CONFLICT DO NOTHING, so a replayed outbox fires no second insert.
CREATE TRIGGER IF NOT EXISTS conversation_messages_fts_insert AFTER INSERT ON conversation_messages
BEGIN
  INSERT INTO message_fts (text, tenant_id, conversation_id, seq)
  VALUES (new.text, new.tenant_id, new.conversation_id, new.seq);
END;

CREATE TRIGGER IF NOT EXISTS conversation_messages_fts_update AFTER UPDATE OF text ON conversation_messages
BEGIN
  DELETE FROM message_fts WHERE conversation_id = old.conversation_id AND seq = old.seq;
  INSERT INTO message_fts (text, tenant_id, conversation_id, seq)
  VALUES (new.text, new.tenant_id, new.conversation_id, new.seq);
END;

CREATE TRIGGER IF NOT EXISTS conversation_messages_fts_delete AFTER DELETE ON conversation_messages
BEGIN
  DELETE FROM message_fts WHERE conversation_id = old.conversation_id AND seq = old.seq;
END;

INSERT INTO message_fts (text, tenant_id, conversation_id, seq)
SELECT text, tenant_id, conversation_id, seq FROM conversation_messages;

ALTER TABLE conversations ADD COLUMN language TEXT;

-- The console's inbox lists by latest activity (`order=recent`).
CREATE INDEX IF NOT EXISTS conversations_by_activity
  ON conversations (tenant_id, COALESCE(last_message_at, created_at), id);
