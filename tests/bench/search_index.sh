#!/usr/bin/env bash
# What erasing and purging one conversation costs the message search index's triggers, with
# and without migrations/0020_message_fts_rows.sql (needs the sqlite3 CLI):
#   tests/bench/search_index.sh [messages]      (default 200000; 20 messages per conversation)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200000}
db=$(mktemp -d)/search.db
for variant in without with; do
  rm -f "$db"
  for f in migrations/*.sql; do
    [[ $variant == without && $f == migrations/0020_message_fts_rows.sql ]] && continue
    sqlite3 "$db" < "$f"
  done
  sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < $n - 1)
    INSERT INTO conversation_messages (conversation_id, seq, tenant_id, id, author_type, author_id, text, meta, created_at)
    SELECT 'cnv_' || (i/20), i%20, 'ten_' || (i % 7), 'msg_' || i, 'customer', 'cus_1',
           'hello there message number ' || i || ' about returns and shipping', NULL, i FROM n;"
  echo "== $variant 0020, $n messages: insert 20000 more, erase one conversation, delete another"
  sqlite3 "$db" <<SQL
.timer on
WITH RECURSIVE n(i) AS (SELECT $n UNION ALL SELECT i+1 FROM n WHERE i < $n + 19999)
  INSERT INTO conversation_messages (conversation_id, seq, tenant_id, id, author_type, author_id, text, meta, created_at)
  SELECT 'cnv_' || (i/20), i%20, 'ten_' || (i % 7), 'msg_' || i, 'customer', 'cus_1',
         'hello there message number ' || i || ' about returns and shipping', NULL, i FROM n;
UPDATE conversation_messages SET text = '[erased]' WHERE conversation_id = 'cnv_77';
DELETE FROM conversation_messages WHERE conversation_id = 'cnv_78';
SQL
done
