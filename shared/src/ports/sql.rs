use super::PortError;
use async_trait::async_trait;
use std::rc::Rc;

/// A SQLite value. D1, Durable Object SQL storage and Spin's SQLite are all SQLite underneath,
/// so one value model fits every runtime.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Integer(v)
    }
}
impl From<i32> for SqlValue {
    fn from(v: i32) -> Self {
        SqlValue::Integer(v as i64)
    }
}
impl From<u32> for SqlValue {
    fn from(v: u32) -> Self {
        SqlValue::Integer(v as i64)
    }
}
impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Integer(v as i64)
    }
}
impl From<f64> for SqlValue {
    fn from(v: f64) -> Self {
        SqlValue::Real(v)
    }
}
impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl From<&String> for SqlValue {
    fn from(v: &String) -> Self {
        SqlValue::Text(v.clone())
    }
}
impl From<Vec<u8>> for SqlValue {
    fn from(v: Vec<u8>) -> Self {
        SqlValue::Blob(v)
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// One result row: shared column names plus this row's values.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    columns: Rc<[String]>,
    values: Vec<SqlValue>,
}

impl Row {
    pub fn new(columns: Rc<[String]>, values: Vec<SqlValue>) -> Row {
        Row { columns, values }
    }

    pub fn get(&self, column: &str) -> Option<&SqlValue> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.values.get(i)
    }

    /// An integer column; reals with no fraction are accepted because D1 returns every number
    /// through JavaScript.
    pub fn int(&self, column: &str) -> Option<i64> {
        match self.get(column)? {
            SqlValue::Integer(i) => Some(*i),
            SqlValue::Real(f) if f.fract() == 0.0 => Some(*f as i64),
            SqlValue::Text(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn real(&self, column: &str) -> Option<f64> {
        match self.get(column)? {
            SqlValue::Integer(i) => Some(*i as f64),
            SqlValue::Real(f) => Some(*f),
            _ => None,
        }
    }

    pub fn text(&self, column: &str) -> Option<String> {
        match self.get(column)? {
            SqlValue::Text(s) => Some(s.clone()),
            SqlValue::Integer(i) => Some(i.to_string()),
            _ => None,
        }
    }

    pub fn blob(&self, column: &str) -> Option<Vec<u8>> {
        match self.get(column)? {
            SqlValue::Blob(b) => Some(b.clone()),
            SqlValue::Text(s) => Some(s.as_bytes().to_vec()),
            _ => None,
        }
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn values(&self) -> &[SqlValue] {
        &self.values
    }
}

/// A statement for [`SqlDatabase::batch`]. Always parameterised: values never enter SQL text.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl Statement {
    pub fn new(sql: impl Into<String>, params: impl Into<Vec<SqlValue>>) -> Self {
        Statement {
            sql: sql.into(),
            params: params.into(),
        }
    }
}

/// A SQLite database (D1 on Cloudflare, a Durable Object's own storage, Spin's SQLite).
#[async_trait(?Send)]
pub trait SqlDatabase {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError>;
    /// Runs one statement; returns the number of rows it changed.
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, PortError>;
    /// Runs statements in order, atomically: all take effect or none do.
    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<u64>, PortError>;
    /// Several reads answered together. D1 overrides it to make one round trip instead of one
    /// per query (each costs milliseconds on the request path); elsewhere they run in turn.
    async fn query_batch(&self, statements: Vec<Statement>) -> Result<Vec<Vec<Row>>, PortError> {
        let mut out = Vec::with_capacity(statements.len());
        for s in &statements {
            out.push(self.query(&s.sql, &s.params).await?);
        }
        Ok(out)
    }
}

/// Builds an array of [`SqlValue`]s from mixed Rust values:
/// `db.query(sql, &params![tenant_id, 10, None::<String>])`.
#[macro_export]
macro_rules! params {
    () => { [$crate::ports::SqlValue::Null; 0] };
    ($($v:expr),+ $(,)?) => { [$($crate::ports::SqlValue::from($v)),+] };
}
