//! The conversation object: the single writer of one conversation. It answers the typed calls
//! the edge makes ([`api::Call`]: create, post, history, status, assignment, notes, read) and the
//! live socket events, always in one atomic storage step per change, then fans frames out to the
//! connected clients. Mirror writes are queued in the same step and applied by [`flush()`].
//!
//! - [`api`]: the calls and their request/response types, and the dispatch.
//! - [`commands`]: what each call does to the conversation.
//! - [`live`]: sockets joining, sending frames, leaving.
//! - [`mod@flush`]: applying the mirror outbox to the tenant-wide tables.
//! - [`privacy`]: erasure and the retention purge.
//! - [`kept_meta`]: the instance's copy of the conversation state (Durable Objects only).
//! - [`kept_outbox`]: the instance's copy of the mirror outbox (the same).
//! - [`mirrored`]: what the instance last wrote to the mirror row's rollup fields (the same).

pub mod api;
pub mod commands;
pub mod flush;
pub mod kept_meta;
pub mod kept_outbox;
pub mod live;
pub mod mirrored;
pub mod privacy;

pub use api::{
    handle, AssignRequest, Call, History, InitRequest, NoteRequest, PostRequest, Posted,
    ReadRequest, StatusRequest, TypingRequest, UpdateRequest,
};
pub use commands::{assign, history, init, note, post, read, set_status, update};
pub use flush::{flush, MORE_QUEUED};
pub use live::{
    connect, joined, on_close, on_frame, on_text, receive, CONNECTION_RATE, MAX_CONNECTIONS,
    MAX_STRIKES,
};

use super::model::{Meta, Participant};
use super::protocol::ServerFrame;
use super::store;
use crate::error::{ApiError, ApiResult};
use crate::ports::{Clock, LiveHub, Random, SqlDatabase, Statement};
use serde::Deserialize;
use serde_json::Value;

pub struct ObjectEnv<'a> {
    /// The object's name (`tenant_id:conversation_id`).
    pub name: &'a str,
    pub store: &'a dyn SqlDatabase,
    pub hub: &'a dyn LiveHub,
    pub clock: &'a dyn Clock,
    pub random: &'a dyn Random,
    /// Set once this object instance has created its tables (see `ObjectContext`).
    pub schema_ready: Option<&'a std::cell::Cell<bool>>,
    /// The state as last stored, where this instance is the conversation's one writer.
    pub kept: Option<&'a kept_meta::KeptMeta>,
    /// The mirror row's rollup fields as this instance last wrote them (the same hosts).
    pub mirrored: Option<&'a mirrored::Mirrored>,
    /// The mirror outbox as this instance queued it (the same hosts).
    pub outbox: Option<&'a kept_outbox::KeptOutbox>,
}

impl ObjectEnv<'_> {
    /// Creates the object's tables. Only creating a conversation does this: an object reached
    /// with an id the platform never issued stores nothing, so invented ids leave no trace.
    pub(crate) async fn create_schema(&self) -> ApiResult<()> {
        crate::objects::ensure_tables(self.store, store::SCHEMA, self.schema_ready).await
    }

    /// Whether this object was ever created (its tables exist); a read, never a write.
    pub async fn exists(&self) -> ApiResult<bool> {
        if self.schema_ready.is_some_and(std::cell::Cell::get) {
            return Ok(true);
        }
        let rows = self
            .store
            .query(
                "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'conv_meta'",
                &[],
            )
            .await?;
        let exists = !rows.is_empty();
        if let (true, Some(flag)) = (exists, self.schema_ready) {
            flag.set(true);
        }
        Ok(exists)
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) async fn meta(&self) -> ApiResult<Meta> {
        self.try_meta()
            .await?
            .ok_or_else(|| ApiError::not_found("conversation"))
    }

    /// The conversation's state, `None` before it is created (or after its purge).
    pub(crate) async fn try_meta(&self) -> ApiResult<Option<Meta>> {
        let Some(kept) = self.kept else {
            return store::load_meta(self.store, self.name).await;
        };
        if let Some(m) = kept.get() {
            return Ok(Some(m));
        }
        let generation = kept.generation();
        let meta = store::load_meta(self.store, self.name).await?;
        if let Some(m) = &meta {
            kept.fill(generation, m);
        }
        Ok(meta)
    }

    /// Runs one storage step that leaves the state as `meta` (`None`: deletes it) and changes
    /// the outbox as `outbox` says, keeping the instance's copies in step with storage.
    pub(crate) async fn commit(
        &self,
        meta: Option<&Meta>,
        batch: Vec<Statement>,
        outbox: kept_outbox::OutboxChange,
    ) -> ApiResult<()> {
        Ok(self.try_commit(meta, batch, outbox).await?)
    }

    /// [`Self::commit`], with the storage's own error (so a caller can tell a refused
    /// duplicate from a failure).
    pub(crate) async fn try_commit(
        &self,
        meta: Option<&Meta>,
        batch: Vec<Statement>,
        outbox: kept_outbox::OutboxChange,
    ) -> Result<(), crate::ports::PortError> {
        let generation = self.kept.map(kept_meta::KeptMeta::forget);
        if let Some(o) = self.outbox {
            o.begin_write();
        }
        if let Err(e) = self.store.batch(batch).await {
            if let Some(o) = self.outbox {
                o.write_failed();
            }
            return Err(e);
        }
        if let (Some(kept), Some(g)) = (self.kept, generation) {
            kept.keep(g, meta);
        }
        if let Some(o) = self.outbox {
            o.wrote(outbox);
        }
        Ok(())
    }

    /// The first `limit` queued mirror entries: from the instance's copy where it has one,
    /// else from storage (keeping what it read when that was the whole outbox).
    pub(crate) async fn queued(&self, limit: u32) -> ApiResult<Vec<store::OutboxEntry>> {
        let Some(kept) = self.outbox else {
            return store::outbox(self.store, self.name, limit).await;
        };
        if let Some(entries) = kept.first(limit as usize) {
            return Ok(entries);
        }
        let generation = kept.generation();
        let entries = store::outbox(self.store, self.name, limit).await?;
        if (entries.len() as u32) < limit {
            let last_id = store::outbox_last_id(self.store, self.name).await?;
            kept.fill(generation, &entries, last_id);
        }
        Ok(entries)
    }

    pub(crate) fn send(&self, conn: &str, frame: &ServerFrame) {
        self.hub.send(conn, &frame.to_text());
    }

    /// Sends a frame to every connection, encoded once and without decoding any member.
    pub(crate) fn broadcast(&self, frame: &ServerFrame) {
        self.hub.broadcast(&frame.to_text());
    }

    /// Sends a frame to every connection whose participant passes `filter`.
    pub(crate) fn fan_out(&self, frame: &ServerFrame, filter: impl Fn(&Participant) -> bool) {
        let text = frame.to_text();
        self.hub.send_where(&text, &|a| {
            attachment_participant(a).is_some_and(|p| filter(&p))
        });
    }
}

pub(crate) fn attachment_participant(a: &Value) -> Option<Participant> {
    Participant::deserialize(a.get("p")?).ok()
}
