//! A Durable Object's own SQLite storage as the core's SQL database. Calls are synchronous
//! underneath (the futures never yield to the event loop), so a whole object request runs as
//! one uninterrupted step: that is what makes the object's decisions serial and exact.

use async_trait::async_trait;
use prism_core::ports::{PortError, Row, SqlDatabase, SqlValue, Statement};
use std::rc::Rc;
use worker::{SqlStorage, SqlStorageValue};

pub struct DoSql(pub SqlStorage);

fn to_storage(v: &SqlValue) -> SqlStorageValue {
    match v {
        SqlValue::Null => SqlStorageValue::Null,
        SqlValue::Integer(i) => SqlStorageValue::Integer(*i),
        SqlValue::Real(f) => SqlStorageValue::Float(*f),
        SqlValue::Text(s) => SqlStorageValue::String(s.clone()),
        SqlValue::Blob(b) => SqlStorageValue::Blob(b.clone()),
    }
}

fn from_storage(v: SqlStorageValue) -> SqlValue {
    match v {
        SqlStorageValue::Null => SqlValue::Null,
        SqlStorageValue::Boolean(b) => SqlValue::Integer(b as i64),
        SqlStorageValue::Integer(i) => SqlValue::Integer(i),
        SqlStorageValue::Float(f) => SqlValue::Real(f),
        SqlStorageValue::String(s) => SqlValue::Text(s),
        SqlStorageValue::Blob(b) => SqlValue::Blob(b),
    }
}

fn err(e: worker::Error) -> PortError {
    PortError::new(format!("durable object sql: {e}"))
}

impl DoSql {
    fn run(&self, sql: &str, params: &[SqlValue]) -> Result<(Vec<Row>, u64), PortError> {
        let cursor = self
            .0
            .exec(sql, params.iter().map(to_storage).collect::<Vec<_>>())
            .map_err(err)?;
        let columns: Rc<[String]> = cursor.column_names().into();
        let mut rows = Vec::new();
        for r in cursor.raw() {
            let values = r.map_err(err)?;
            rows.push(Row::new(
                columns.clone(),
                values.into_iter().map(from_storage).collect(),
            ));
        }
        Ok((rows, cursor.rows_written() as u64))
    }
}

#[async_trait(?Send)]
impl SqlDatabase for DoSql {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError> {
        Ok(self.run(sql, params)?.0)
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, PortError> {
        Ok(self.run(sql, params)?.1)
    }

    /// Statements run back to back without yielding, so the runtime commits them together.
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<u64>, PortError> {
        statements
            .iter()
            .map(|s| self.run(&s.sql, &s.params).map(|(_, n)| n))
            .collect()
    }
}
