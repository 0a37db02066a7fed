//! Objects without Durable Objects (Spin, native tests): the same object logic, run in the
//! calling process over a shared SQLite database. Each call is one `BEGIN IMMEDIATE`
//! transaction, which serialises concurrent callers on the database's write lock, so decisions
//! stay exact across instances.

use super::ObjectContext;
use crate::http::{Request, Response};
use crate::ports::{Clock, NoHub, ObjectRef, Objects, PortError, Random, SqlDatabase};
use async_trait::async_trait;
use std::rc::Rc;

pub struct InProcessObjects {
    pub db: Rc<dyn SqlDatabase>,
    pub clock: Rc<dyn Clock>,
    pub random: Rc<dyn Random>,
    /// The platform objects use for AI answers (built without objects of its own).
    pub platform: Option<Rc<crate::platform::Platform>>,
}

#[async_trait(?Send)]
impl Objects for InProcessObjects {
    /// The call, its mirror writes and any inbox events it publishes commit together.
    async fn call(&self, target: &ObjectRef, req: Request) -> Result<Response, PortError> {
        self.db.execute("BEGIN IMMEDIATE", &[]).await?;
        let cx = ObjectContext {
            target,
            store: &*self.db,
            hub: &NoHub,
            clock: &*self.clock,
            random: &*self.random,
            mirror: Some(&*self.db),
            objects: Some(&Nested {
                db: &*self.db,
                clock: &*self.clock,
                random: &*self.random,
            }),
            platform: self.platform.as_deref(),
            flushing: None,
            schema_ready: None,
            pace: None,
        };
        let (resp, _) = super::handle(&cx, req).await;
        if resp.status >= 500 {
            let _ = self.db.execute("ROLLBACK", &[]).await;
        } else {
            self.db.execute("COMMIT", &[]).await?;
        }
        Ok(resp)
    }
}

/// Object-to-object calls inside an in-process call: already inside its transaction.
struct Nested<'a> {
    db: &'a dyn SqlDatabase,
    clock: &'a dyn Clock,
    random: &'a dyn Random,
}

#[async_trait(?Send)]
impl Objects for Nested<'_> {
    async fn call(&self, target: &ObjectRef, req: Request) -> Result<Response, PortError> {
        let cx = ObjectContext {
            target,
            store: self.db,
            hub: &NoHub,
            clock: self.clock,
            random: self.random,
            mirror: Some(self.db),
            objects: None,
            platform: None,
            flushing: None,
            schema_ready: None,
            pace: None,
        };
        Ok(super::handle(&cx, req).await.0)
    }
}
