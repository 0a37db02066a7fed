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

/// Most parameters one statement binds: D1's limit (SQLite's own is far higher).
pub const MAX_PARAMS: usize = 100;

/// Inserts `rows` with as few statements as D1 allows: `{head} VALUES (?1, …), (…) {tail}`,
/// as many rows to a statement as keep it within [`MAX_PARAMS`]. Each statement costs the
/// database and the runtime's binding about as much as a row does, so a window's rows go
/// together. Every row has the same number of values.
pub fn insert_rows(
    head: &str,
    tail: &str,
    rows: Vec<Vec<SqlValue>>,
) -> Vec<crate::ports::Statement> {
    let width = rows.first().map_or(1, Vec::len).max(1);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut args = Vec::new();
        let mut tuples = Vec::new();
        for row in rows.by_ref().take((MAX_PARAMS / width).max(1)) {
            let first = args.len() + 1;
            args.extend(row);
            let marks: Vec<String> = (first..=args.len()).map(|i| format!("?{i}")).collect();
            tuples.push(format!("({})", marks.join(", ")));
        }
        out.push(crate::ports::Statement::new(
            format!("{head} VALUES {} {tail}", tuples.join(", ")),
            args,
        ));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_go_in_as_few_statements_as_the_parameter_limit_allows() {
        let rows: Vec<Vec<SqlValue>> = (0..25)
            .map(|i| (0..9).map(|c| SqlValue::Integer(i * 10 + c)).collect())
            .collect();
        let stmts = insert_rows(
            "INSERT INTO t (a, b, c, d, e, f, g, h, i)",
            "ON CONFLICT DO NOTHING",
            rows,
        );
        let sizes: Vec<usize> = stmts.iter().map(|s| s.params.len()).collect();
        assert_eq!(sizes, [99, 99, 27]);
        assert!(stmts[0]
            .sql
            .starts_with("INSERT INTO t (a, b, c, d, e, f, g, h, i) VALUES (?1, ?2,"));
        assert!(stmts[0]
            .sql
            .contains("(?91, ?92, ?93, ?94, ?95, ?96, ?97, ?98, ?99) ON CONFLICT DO NOTHING"));
        assert_eq!(stmts[1].params[0], SqlValue::Integer(110));
        // A row wider than the limit still goes (one to a statement: the database refuses it).
        let wide = insert_rows("INSERT INTO w", "", vec![vec![SqlValue::Null; 120]; 2]);
        assert_eq!(wide.len(), 2);
        assert!(insert_rows("INSERT INTO t (a)", "", Vec::new()).is_empty());
    }
}
