-- Where each message's row in message_fts is, so the triggers that keep the index in step find
-- it by key. message_fts's conversation_id and seq are UNINDEXED: a DELETE filtering on them
-- read the whole index (every tenant's messages) once per changed message, so erasing or
-- purging a conversation cost its message count times the database's (measured: 42 ms per
-- message at 200,000 messages). FTS5's own rowid is the key; this table maps to it.
CREATE TABLE IF NOT EXISTS message_fts_rows (
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  fts_rowid INTEGER NOT NULL,
  PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;

INSERT OR IGNORE INTO message_fts_rows (conversation_id, seq, fts_rowid)
SELECT conversation_id, seq, rowid FROM message_fts;

-- Inside a trigger, last_insert_rowid() is the rowid of the trigger's own last insert.
DROP TRIGGER IF EXISTS conversation_messages_fts_insert;
CREATE TRIGGER conversation_messages_fts_insert AFTER INSERT ON conversation_messages
BEGIN
  INSERT INTO message_fts (text, tenant_id, conversation_id, seq)
  VALUES (new.text, new.tenant_id, new.conversation_id, new.seq);
  INSERT OR REPLACE INTO message_fts_rows (conversation_id, seq, fts_rowid)
  VALUES (new.conversation_id, new.seq, last_insert_rowid());
END;

DROP TRIGGER IF EXISTS conversation_messages_fts_update;
-- A new text replaces the row's in place: same rowid, so its key stays right.
CREATE TRIGGER conversation_messages_fts_update AFTER UPDATE OF text ON conversation_messages
BEGIN
  UPDATE message_fts SET text = new.text WHERE rowid IN (
    SELECT fts_rowid FROM message_fts_rows WHERE conversation_id = old.conversation_id AND seq = old.seq);
END;

DROP TRIGGER IF EXISTS conversation_messages_fts_delete;
CREATE TRIGGER conversation_messages_fts_delete AFTER DELETE ON conversation_messages
BEGIN
  DELETE FROM message_fts WHERE rowid IN (
    SELECT fts_rowid FROM message_fts_rows WHERE conversation_id = old.conversation_id AND seq = old.seq);
  DELETE FROM message_fts_rows WHERE conversation_id = old.conversation_id AND seq = old.seq;
END;
