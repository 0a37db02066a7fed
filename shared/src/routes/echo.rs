use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::http::Request;
use crate::ports::{ObjectClass, ObjectRef};
use crate::router::{Ctx, Outcome, Upgrade};

const MAX_ROOM_LEN: usize = 64;

/// Upgrades to a WebSocket in the echo room's live object, where every frame is broadcast to
/// every member. A diagnostic of the live path (objects, hibernation, fan-out) that needs no
/// credentials; it stores nothing, and answers 404 unless diagnostics are on.
pub async fn connect(cx: &Ctx, req: Request) -> ApiResult<Outcome> {
    // Unauthenticated and unmetered: only where diagnostics are on (local dev, tests).
    super::diag::enabled(cx)?;
    let room = req.param("room");
    if room.len() > MAX_ROOM_LEN
        || !room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::validation(
            "room",
            "room names are 1-64 characters of letters, digits, '-' and '_'",
        ));
    }
    if !cx.platform.runtime.supports_websockets() {
        return Err(ApiError::new(
            ErrorCode::NotSupported,
            "this runtime has no WebSockets; use the SSE endpoints",
        ));
    }
    if !req.is_websocket_upgrade() {
        return Err(ApiError::new(
            ErrorCode::UpgradeRequired,
            "this endpoint only accepts WebSocket upgrades",
        )
        .with_header("upgrade", "websocket"));
    }
    cx.platform.objects()?;
    Ok(Outcome::Upgrade(Upgrade {
        target: ObjectRef::new(ObjectClass::Conversation, format!("echo:{room}")),
        path: "/echo".into(),
        headers: Vec::new(),
    }))
}
