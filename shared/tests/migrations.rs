//! The schema as the Spin component applies it: statement by statement, once per migration.

use futures::executor::block_on;
use prism_core::migrations::{apply, apply_pending, statements, MIGRATIONS};
use prism_core::ports::{SqlDatabase, SqlValue};
use prism_core::testing::SqliteDb;

fn schema(db: &SqliteDb) -> Vec<String> {
    let rows = block_on(db.query(
        "SELECT type || ' ' || name || ' ' || coalesce(sql, '') AS s FROM sqlite_master \
         WHERE name <> 'prism_migrations' AND name NOT LIKE 'sqlite_autoindex_prism%' \
         ORDER BY type, name",
        &[],
    ))
    .unwrap();
    rows.iter()
        .map(|r| r.text("s").unwrap_or_default())
        .collect()
}

/// One customer message in the mirror (conversation `c1`, seq 1).
fn insert_message(db: &SqliteDb) {
    block_on(db.execute(
        "INSERT INTO conversation_messages \
         (conversation_id, seq, tenant_id, id, author_type, author_id, text, created_at) \
         VALUES ('c1', 1, 't1', 'm1', 'customer', 'u1', 'where is my parcel', 1)",
        &[],
    ))
    .unwrap();
}

fn count(db: &SqliteDb, sql: &str) -> i64 {
    block_on(db.query(sql, &[])).unwrap()[0].int("n").unwrap()
}

#[test]
fn the_list_is_the_migrations_folder() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    let listed: Vec<_> = MIGRATIONS.iter().map(|(n, _)| n.to_string()).collect();
    let on_disk: Vec<_> = files
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        listed, on_disk,
        "add the new file to migrations::MIGRATIONS"
    );
    for ((_, sql), path) in MIGRATIONS.iter().zip(&files) {
        assert_eq!(*sql, std::fs::read_to_string(path).unwrap());
    }
}

#[test]
fn the_database_rejects_two_statements_in_one_call_as_spin_does() {
    // What makes splitting necessary; if this ever passes, the split is still harmless.
    let db = SqliteDb::open_in_memory();
    assert!(block_on(db.execute("SELECT 1; SELECT 2", &[])).is_err());
}

#[test]
fn statement_by_statement_builds_the_schema_the_files_build() {
    let db = SqliteDb::open_in_memory();
    let n = block_on(apply_pending(&db, 1_000)).unwrap();
    assert_eq!(n, MIGRATIONS.len());
    let files = SqliteDb::with_migrations();
    assert_eq!(schema(&db), schema(&files));
    assert!(schema(&db).iter().any(|s| s.starts_with("trigger ")));
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM prism_migrations"),
        MIGRATIONS.len() as i64
    );
    // Every statement of every file is one statement (the split never glued two together).
    let total: usize = MIGRATIONS.iter().map(|(_, s)| statements(s).len()).sum();
    assert!(total > MIGRATIONS.len() * 2, "{total}");
}

#[test]
fn a_second_start_applies_nothing_and_indexes_no_message_twice() {
    let db = SqliteDb::open_in_memory();
    block_on(apply_pending(&db, 1_000)).unwrap();
    insert_message(&db);
    // What `spin up --sqlite @file` did on every start: 0009 indexes every message again, then
    // fails on its ALTER TABLE.
    let rerun = SqliteDb::open_in_memory();
    block_on(apply_pending(&rerun, 1)).unwrap();
    let (_, m9) = MIGRATIONS
        .iter()
        .find(|(n, _)| n.starts_with("0009"))
        .unwrap();
    let mut failed = false;
    for s in statements(m9) {
        failed |= block_on(rerun.execute(s, &[])).is_err();
    }
    assert!(failed, "re-running 0009 should fail on its ALTER TABLE");

    assert_eq!(block_on(apply_pending(&db, 2_000)).unwrap(), 0);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM message_fts"), 1);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM message_fts_rows"), 1);
}

#[test]
fn an_older_schema_is_brought_up_to_date_with_its_data_kept() {
    let db = SqliteDb::open_in_memory();
    let older = &MIGRATIONS[..8];
    assert_eq!(block_on(apply(&db, older, 1_000)).unwrap(), 8);
    insert_message(&db);
    let n = block_on(apply_pending(&db, 2_000)).unwrap();
    assert_eq!(n, MIGRATIONS.len() - 8);
    assert_eq!(schema(&db), schema(&SqliteDb::with_migrations()));
    // 0009's backfill indexed the message that was there before it; 0020 keyed it.
    let rows = block_on(db.query(
        "SELECT f.text AS t FROM message_fts_rows k JOIN message_fts f ON f.rowid = k.fts_rowid \
         WHERE k.conversation_id = ?1 AND k.seq = 1",
        &[SqlValue::Text("c1".into())],
    ))
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].text("t"), Some("where is my parcel".to_string()));
}

#[test]
fn a_failing_migration_leaves_neither_its_changes_nor_its_record() {
    let db = SqliteDb::open_in_memory();
    let broken: &[(&str, &str)] = &[
        ("0001_ok", "CREATE TABLE a (x INTEGER);"),
        (
            "0002_bad",
            "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);",
        ),
    ];
    let err = block_on(apply(&db, broken, 1)).unwrap_err();
    assert!(err.0.contains("0002_bad"), "{}", err.0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM sqlite_master WHERE name = 'b'"
        ),
        0
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM prism_migrations"), 1);
}
