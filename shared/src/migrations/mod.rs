//! The database schema, applied from inside the runtime where no tool applies it for us.
//!
//! On Cloudflare, `wrangler d1 migrations apply` applies `migrations/` and records what it
//! applied. Spin has no such record: `spin up --sqlite @file` runs a file on *every* start, which
//! re-runs one-time backfills and fails on `ALTER TABLE … ADD COLUMN` the second time. So the Spin
//! component applies the same files itself, once each, recorded in `prism_migrations`.

mod split;

pub use split::statements;

use crate::ports::{Logger, PortError, SqlDatabase, SqlValue, Statement};

/// `(name, text)` of each named file in `migrations/`, compiled in.
macro_rules! migrations {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../migrations/", $name, ".sql")))),*]
    };
}

/// Every migration, in order, by file name (without `.sql`). A test checks this list against the
/// `migrations/` folder, so a new file cannot be forgotten here.
pub const MIGRATIONS: &[(&str, &str)] = migrations![
    "0001_foundation",
    "0002_tenancy",
    "0003_conversations",
    "0004_knowledge_ai",
    "0005_channels",
    "0006_hardening",
    "0007_widget",
    "0008_sign_in",
    "0009_console",
    "0010_outgoing_webhooks",
    "0011_data_rights",
    "0012_leads",
    "0013_crm",
    "0014_lead_proposals",
    "0015_surveys",
    "0016_summaries",
    "0017_quality",
    "0018_analytics",
    "0019_files",
    "0020_message_fts_rows",
];

const RECORD: &str = "CREATE TABLE IF NOT EXISTS prism_migrations \
                      (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)";

/// [`apply_pending`] for a runtime's request path: a failure is logged, not returned, so the
/// request still gets its own typed error from whatever storage it touches (and `/health`
/// still answers).
pub async fn ensure(db: &dyn SqlDatabase, now_ms: i64, log: &dyn Logger) {
    if let Err(e) = apply_pending(db, now_ms).await {
        log.log(
            &serde_json::json!({"level": "error", "msg": "migrations failed", "error": e.0})
                .to_string(),
        );
    }
}

/// Applies the migrations `db` has not recorded yet and returns how many it applied.
///
/// Costs one indexed count when the schema is current (the common case: Spin instantiates the
/// component per request, so this runs per request). Each migration runs with its record in one
/// batch (one transaction), so a failure leaves neither half behind; when a concurrent request
/// applied the same migration first, the batch fails on the record's key and this one moves on.
pub async fn apply_pending(db: &dyn SqlDatabase, now_ms: i64) -> Result<usize, PortError> {
    apply(db, MIGRATIONS, now_ms).await
}

/// [`apply_pending`] over a given prefix of the list (tests use it to stand for an older
/// release's schema being upgraded).
pub async fn apply(
    db: &dyn SqlDatabase,
    migrations: &[(&str, &str)],
    now_ms: i64,
) -> Result<usize, PortError> {
    if let Ok(rows) = db
        .query("SELECT count(*) AS n FROM prism_migrations", &[])
        .await
    {
        let n = rows.first().and_then(|r| r.int("n")).unwrap_or(0);
        if n >= migrations.len() as i64 {
            return Ok(0);
        }
    }
    db.execute(RECORD, &[]).await?;
    let mut applied = 0;
    for (name, sql) in migrations {
        if recorded(db, name).await? {
            continue;
        }
        let mut batch: Vec<Statement> = statements(sql)
            .into_iter()
            .map(|s| Statement::new(s, vec![]))
            .collect();
        batch.push(Statement::new(
            "INSERT INTO prism_migrations (name, applied_at) VALUES (?1, ?2)",
            vec![SqlValue::Text(name.to_string()), SqlValue::Integer(now_ms)],
        ));
        match db.batch(batch).await {
            Ok(_) => applied += 1,
            Err(_) if recorded(db, name).await? => {}
            Err(e) => return Err(PortError::new(format!("migration {name}: {}", e.0))),
        }
    }
    Ok(applied)
}

async fn recorded(db: &dyn SqlDatabase, name: &str) -> Result<bool, PortError> {
    let rows = db
        .query(
            "SELECT 1 AS x FROM prism_migrations WHERE name = ?1",
            &[SqlValue::Text(name.to_string())],
        )
        .await?;
    Ok(!rows.is_empty())
}
