//! Records read from SQL rows, and the one paged list query every store shares.
//!
//! Each store says how one row becomes its record (`FromRow`) and where the record sits in
//! the list order (`Listed`); reading one row, several rows or a page is written once here.

use crate::error::ApiResult;
use crate::pagination::{Page, PageRequest};
use crate::ports::{Row, SqlDatabase, SqlValue};
use serde::Serialize;

/// A record that reads itself from one row. A missing required column is a storage error
/// (`ApiError::internal`), never a panic.
pub trait FromRow: Sized {
    fn from_row(r: &Row) -> ApiResult<Self>;
}

/// The first row as a record, if there is one.
/// `?n` placeholders for an `IN (…)` list of `values`, appended to `args`: the statement text
/// only ever holds numbers, the values travel as parameters.
pub fn in_list<'a>(args: &mut Vec<SqlValue>, values: impl IntoIterator<Item = &'a str>) -> String {
    let mut marks = Vec::new();
    for v in values {
        args.push(v.into());
        marks.push(format!("?{}", args.len()));
    }
    marks.join(", ")
}

pub fn first<T: FromRow>(rows: &[Row]) -> ApiResult<Option<T>> {
    rows.first().map(T::from_row).transpose()
}

/// Every row as a record.
pub fn all<T: FromRow>(rows: &[Row]) -> ApiResult<Vec<T>> {
    rows.iter().map(T::from_row).collect()
}

/// A record list routes page through in `(created_at, id)` order.
pub trait Listed: FromRow + Serialize {
    fn sort_key(&self) -> (i64, String);
}

/// Where a listed record lives. Both names are constants in code, never input, so they are
/// the only parts of a list query that are formatted in; tenant and cursor are parameters.
pub struct Listing {
    pub table: &'static str,
    pub columns: &'static str,
}

/// One page of a table, scoped to a tenant (`None` only for platform-wide tables), in the
/// stable `(created_at, id)` order the cursor encodes.
pub async fn page<T: Listed>(
    db: &dyn SqlDatabase,
    listing: &Listing,
    tenant_id: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<T>> {
    let mut params: Vec<SqlValue> = Vec::new();
    let scope = match tenant_id {
        Some(t) => {
            params.push(t.into());
            "tenant_id = ?1"
        }
        None => "1 = 1",
    };
    let (bound, extra) = page.after_clause(params.len() + 1);
    params.extend(extra);
    let sql = format!(
        "SELECT {} FROM {} WHERE {scope}{bound} ORDER BY created_at, id LIMIT {}",
        listing.columns,
        listing.table,
        page.limit + 1
    );
    let rows = db.query(&sql, &params).await?;
    Ok(Page::from_rows(all(&rows)?, page.limit, T::sort_key))
}

/// Every record a paged list yields from the start, up to about `max` (exports: a page of 200
/// at a time, so no query returns an unbounded number of rows).
pub async fn collect<T, F, Fut>(max: usize, mut fetch: F) -> ApiResult<Vec<T>>
where
    T: Listed,
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Page<T>>>,
{
    let mut out: Vec<T> = Vec::new();
    let mut after = None;
    loop {
        let got = fetch(PageRequest { limit: 200, after }).await?;
        let more = got.next_cursor.is_some();
        out.extend(got.items);
        match (out.last(), more && out.len() < max) {
            (Some(last), true) => after = Some(last.sort_key()),
            _ => break,
        }
    }
    Ok(out)
}
