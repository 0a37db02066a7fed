#!/usr/bin/env bash
# What erasing and purging one conversation costs the message search index's triggers, with
# and without migrations/0020_message_fts_rows.sql (needs the sqlite3 CLI):
#   tests/bench/search_index.sh [messages]      (default 200000; 20 messages per conversation)
# and what the index costs the mirror's small transactions (last section).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200000}
db=$(mktemp -d)/search.db
# A new database with every migration but the one named (if any), holding $n messages.
fresh_db() {
  rm -f "$db"
  for f in migrations/*.sql; do
    [[ $f == "migrations/${1:-}.sql" ]] && continue
    sqlite3 "$db" < "$f"
  done
  sqlite3 "$db" "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i < $n - 1)
    INSERT INTO conversation_messages (conversation_id, seq, tenant_id, id, author_type, author_id, text, meta, created_at)
    SELECT 'cnv_' || (i/20), i%20, 'ten_' || (i % 7), 'msg_' || i, 'customer', 'cus_1',
           'hello there message number ' || i || ' about returns and shipping', NULL, i FROM n;"
}
for variant in without with; do
  if [[ $variant == without ]]; then fresh_db 0020_message_fts_rows; else fresh_db; fi
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

# What the index costs the hot path: the mirror writes a window's messages in one transaction
# (a few messages each under load). 2000 transactions of 4 messages on top of the same
# database, with the index's triggers and without them (the same schema, triggers dropped).
txns=$(mktemp)
for ((w = 0; w < 2000; w++)); do
  echo "BEGIN;"
  for ((k = 0; k < 4; k++)); do
    i=$((n + 100000 + w * 4 + k))
    echo "INSERT INTO conversation_messages (conversation_id, seq, tenant_id, id, author_type, author_id, text, meta, created_at) VALUES ('cnv_live', $i, 'ten_1', 'msg_$i', 'customer', 'cus_1', 'where is my parcel number $i, I ordered it last week', NULL, $i);"
  done
  echo "COMMIT;"
done > "$txns"
for variant in with without; do
  fresh_db
  if [[ $variant == without ]]; then
    for t in insert update delete; do sqlite3 "$db" "DROP TRIGGER conversation_messages_fts_$t;"; done
  fi
  start=$(date +%s%N)
  sqlite3 "$db" < "$txns"
  end=$(date +%s%N)
  echo "== $variant the search index's triggers: 2000 transactions of 4 messages, $(( (end - start) / 2000000 )) µs per transaction"
done
rm -f "$txns"
