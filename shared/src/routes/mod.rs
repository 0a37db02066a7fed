//! The route table: one module per API resource, each owning its handlers and validation.

mod diag;
mod echo;
mod health;
mod meta;

use crate::handler;
use crate::http::Method;
use crate::router::Route;

/// Every route the platform serves, on every runtime.
pub static TABLE: &[Route] = &[
    Route {
        method: Method::Get,
        template: "/health",
        handler: handler!(health::get),
        summary: "Liveness, version and configured bindings",
    },
    Route {
        method: Method::Get,
        template: "/v1/meta",
        handler: handler!(meta::get),
        summary: "API version and serving runtime",
    },
    Route {
        method: Method::Get,
        template: "/v1/echo/{room}",
        handler: handler!(echo::connect),
        summary: "WebSocket echo/broadcast room (proves live objects end to end)",
    },
    Route {
        method: Method::Get,
        template: "/v1/diag/kv/{key}",
        handler: handler!(diag::kv_get),
        summary: "Diagnostics (when enabled): read a key-value entry",
    },
    Route {
        method: Method::Put,
        template: "/v1/diag/kv/{key}",
        handler: handler!(diag::kv_put),
        summary: "Diagnostics (when enabled): write a key-value entry",
    },
    Route {
        method: Method::Post,
        template: "/v1/diag/notes",
        handler: handler!(diag::note_create),
        summary: "Diagnostics (when enabled): insert a row into the SQL database",
    },
    Route {
        method: Method::Get,
        template: "/v1/diag/notes/{id}",
        handler: handler!(diag::note_get),
        summary: "Diagnostics (when enabled): read a row back from the SQL database",
    },
];
