//! Objects without Durable Objects (Spin, native tests): the same object logic, run in the
//! calling process over a shared SQLite database. Each call is one `BEGIN IMMEDIATE`
//! transaction, which serialises concurrent callers on the database's write lock, so decisions
//! stay exact across instances.

use crate::http::{Request, Response};
use crate::ports::{Clock, ObjectRef, Objects, PortError, SqlDatabase};
use async_trait::async_trait;
use std::rc::Rc;

pub struct InProcessObjects {
    pub db: Rc<dyn SqlDatabase>,
    pub clock: Rc<dyn Clock>,
}

#[async_trait(?Send)]
impl Objects for InProcessObjects {
    async fn call(&self, target: &ObjectRef, req: Request) -> Result<Response, PortError> {
        self.db.execute("BEGIN IMMEDIATE", &[]).await?;
        let resp = super::handle(target, &*self.db, &*self.clock, req).await;
        if resp.status >= 500 {
            let _ = self.db.execute("ROLLBACK", &[]).await;
        } else {
            self.db.execute("COMMIT", &[]).await?;
        }
        Ok(resp)
    }
}
