//! D1 as the core's SQL database.

use crate::jsvalue::{from_js, to_js};
use async_trait::async_trait;
use js_sys::{Array, Object, Reflect};
use prism_core::ports::{PortError, Row, SqlDatabase, SqlValue, Statement};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The parts of D1's prepared statement workers-rs does not expose (`raw` with options).
    type D1Stmt;
    #[wasm_bindgen(method, catch, js_name = raw)]
    fn raw_with(this: &D1Stmt, options: &JsValue) -> Result<js_sys::Promise, JsValue>;
}

pub struct D1(pub worker::D1Database);

fn err(what: &str, e: impl std::fmt::Debug) -> PortError {
    PortError::new(format!("d1 {what}: {e:?}"))
}

impl D1 {
    fn prepare(
        &self,
        sql: &str,
        params: &[SqlValue],
    ) -> Result<worker::D1PreparedStatement, PortError> {
        let args: Vec<JsValue> = params.iter().map(to_js).collect();
        self.0.prepare(sql).bind(&args).map_err(|e| err("bind", e))
    }
}

#[async_trait(?Send)]
impl SqlDatabase for D1 {
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Row>, PortError> {
        let stmt = self.prepare(sql, params)?;
        let opts = Object::new();
        let _ = Reflect::set(&opts, &"columnNames".into(), &JsValue::TRUE);
        let raw: &D1Stmt = stmt.inner().unchecked_ref();
        let promise = raw.raw_with(&opts).map_err(|e| err("query", e))?;
        let result = JsFuture::from(promise).await.map_err(|e| err("query", e))?;
        let rows: Array = result.dyn_into().map_err(|e| err("query result", e))?;
        let mut iter = rows.iter();
        let Some(header) = iter.next() else {
            return Ok(Vec::new());
        };
        let columns: Rc<[String]> = Array::from(&header)
            .iter()
            .map(|c| c.as_string().unwrap_or_default())
            .collect();
        Ok(iter
            .map(|r| {
                Row::new(
                    columns.clone(),
                    Array::from(&r).iter().map(from_js).collect(),
                )
            })
            .collect())
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, PortError> {
        let result = self
            .prepare(sql, params)?
            .run()
            .await
            .map_err(|e| err("execute", e))?;
        Ok(changes(&result))
    }

    async fn batch(&self, statements: Vec<Statement>) -> Result<Vec<u64>, PortError> {
        let prepared = statements
            .iter()
            .map(|s| self.prepare(&s.sql, &s.params))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.0.batch(prepared).await.map_err(|e| err("batch", e))?;
        Ok(results.iter().map(changes).collect())
    }

    /// D1's `batch` answers every statement in one round trip. workers-rs only exposes its
    /// results as serde objects, so the rows are read from the JS objects directly.
    async fn query_batch(&self, statements: Vec<Statement>) -> Result<Vec<Vec<Row>>, PortError> {
        let list = Array::new();
        for s in &statements {
            list.push(self.prepare(&s.sql, &s.params)?.inner());
        }
        let db: &JsValue = self.0.as_ref();
        let batch: js_sys::Function = Reflect::get(db, &"batch".into())
            .and_then(|f| f.dyn_into())
            .map_err(|e| err("batch", e))?;
        let promise: js_sys::Promise = batch
            .call1(db, &list)
            .and_then(|p| p.dyn_into())
            .map_err(|e| err("batch", e))?;
        let results: Array = JsFuture::from(promise)
            .await
            .and_then(|r| r.dyn_into())
            .map_err(|e| err("batch", e))?;
        let mut out = Vec::with_capacity(statements.len());
        for result in results.iter() {
            let rows: Array = Reflect::get(&result, &"results".into())
                .and_then(|r| r.dyn_into())
                .map_err(|e| err("batch results", e))?;
            let mut columns: Option<Rc<[String]>> = None;
            let mut parsed = Vec::with_capacity(rows.length() as usize);
            for row in rows.iter() {
                let row: Object = row.unchecked_into();
                let cols = columns
                    .get_or_insert_with(|| {
                        Object::keys(&row)
                            .iter()
                            .map(|c| c.as_string().unwrap_or_default())
                            .collect()
                    })
                    .clone();
                let values = Object::values(&row).iter().map(from_js).collect();
                parsed.push(Row::new(cols, values));
            }
            out.push(parsed);
        }
        Ok(out)
    }
}

fn changes(r: &worker::D1Result) -> u64 {
    r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) as u64
}
