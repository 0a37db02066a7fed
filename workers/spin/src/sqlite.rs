use async_trait::async_trait;
use prism_core::ports::{PortError, Row, SqlDatabase, SqlValue, Statement};
use spin_sdk::sqlite::{Connection, Value};
use std::rc::Rc;

/// Spin's default SQLite database as the core's SQL database.
pub struct SpinSqlite(Connection);

impl SpinSqlite {
    pub async fn open() -> Option<SpinSqlite> {
        Connection::open_default().await.ok().map(SpinSqlite)
    }

    async fn run(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError> {
        let err = |e| PortError::new(format!("spin sqlite: {e:?}"));
        let result = self
            .0
            .execute(sql, params.iter().map(to_spin))
            .await
            .map_err(err)?;
        let columns: Rc<[String]> = result.columns().iter().cloned().collect();
        let rows = result.collect().await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                Row::new(
                    columns.clone(),
                    r.values.into_iter().map(from_spin).collect(),
                )
            })
            .collect())
    }
}

fn to_spin(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
        SqlValue::Blob(b) => Value::Blob(b.clone()),
    }
}

fn from_spin(v: Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(f) => SqlValue::Real(f),
        Value::Text(s) => SqlValue::Text(s),
        Value::Blob(b) => SqlValue::Blob(b),
    }
}

#[async_trait(?Send)]
impl SqlDatabase for SpinSqlite {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError> {
        self.run(sql, params).await
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, PortError> {
        self.run(sql, params).await?;
        Ok(self.0.changes().await)
    }

    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<u64>, PortError> {
        // A savepoint, not BEGIN, so a batch nests inside an object's transaction.
        self.run("SAVEPOINT batch", &[]).await?;
        let mut out = Vec::with_capacity(statements.len());
        for s in &statements {
            match self.execute(&s.sql, &s.params).await {
                Ok(n) => out.push(n),
                Err(e) => {
                    let _ = self.run("ROLLBACK TO batch", &[]).await;
                    let _ = self.run("RELEASE batch", &[]).await;
                    return Err(e);
                }
            }
        }
        self.run("RELEASE batch", &[]).await?;
        Ok(out)
    }
}
