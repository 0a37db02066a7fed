//! Hardening in the real runtime (workerd, real Durable Objects and hibernatable sockets):
//! sockets closed when their credential ends, agent tokens kept out of URLs, subprotocols
//! answered per RFC 6455, and invented conversation ids leaving no Durable Object storage.

use prism_core::http::Method;
use prism_e2e::api::{unique_slug, Api};
use prism_e2e::ws::WsClient;
use prism_e2e::{Edge, ADMIN_SECRET};
use serde_json::json;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

#[tokio::test]
async fn open_sockets_close_when_their_credential_ends() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("revoke"), "enterprise")
        .await;
    let (agent_id, agent) = api.user_with_role(&t, "agent").await;
    let (id, token, _) = api.start_conversation(&t, &json!({"name": "Ann"})).await;

    let mut inbox = WsClient::connect_as(&edge.ws_url("/v1/inbox/live"), &agent).await;
    let mut conv = WsClient::connect_as(
        &edge.ws_url(&format!("/v1/conversations/{id}/live")),
        &agent,
    )
    .await;
    conv.recv_type("welcome", T).await;
    let mut customer =
        WsClient::connect(&edge.ws_url(&format!("/v1/conversations/{id}/live?token={token}")))
            .await;
    customer.recv_type("welcome", T).await;

    // Deactivated while connected: both of the agent's sockets close with 4003, idle or not.
    let r = api
        .call(
            Method::Patch,
            &format!("/v1/users/{agent_id}"),
            Some(&t.secret_key),
            Some(&json!({"status": "deactivated"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(conv.closed_with(T).await, Some(4003));
    assert_eq!(inbox.closed_with(T).await, Some(4003));

    // The customer stays until the tenant is suspended.
    customer
        .send_json(&json!({"type": "typing", "typing": true}))
        .await;
    let r = api
        .call(
            Method::Patch,
            &format!("/v1/platform/tenants/{}", t.id),
            Some(ADMIN_SECRET),
            Some(&json!({"status": "suspended"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(customer.closed_with(T).await, Some(4003));
}

#[tokio::test]
async fn agent_tokens_never_travel_in_urls_and_subprotocols_follow_rfc_6455() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("subproto"), "enterprise")
        .await;
    let (_, agent) = api.user_with_role(&t, "agent").await;
    // In the query string: refused before any upgrade.
    let r = api
        .call(
            Method::Get,
            &format!("/v1/inbox/events?token={agent}"),
            None,
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"), "{}", r.body);
    // Offering only the credential: accepted, and the server must not invent a subprotocol
    // (read off the raw handshake: some clients refuse an answer without one).
    let bearer = format!("bearer.{agent}");
    let (status, headers) = handshake(edge.port, "/v1/inbox/live", &bearer).await;
    assert!(status.contains(" 101 "), "{status}");
    assert!(
        !headers.iter().any(|(n, _)| n == "sec-websocket-protocol"),
        "{headers:?}"
    );
    // Offering ours too: it is the one selected.
    let (_ws, selected) =
        WsClient::connect_with_protocols(&edge.ws_url("/v1/inbox/live"), &["prism.v1", &bearer])
            .await;
    assert_eq!(selected.as_deref(), Some("prism.v1"));
}

/// A WebSocket opening handshake by hand: the status line and the response headers.
async fn handshake(port: u16, path: &str, protocols: &str) -> (String, Vec<(String, String)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocols}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(T, s.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

/// For each conversation object the runtime ever instantiated under one of `names`: whether it
/// stored anything of its own. The local simulator keeps each object's SQLite file and records
/// the object's name in it (`__miniflare_do_name`; `_cf_*` tables are its bookkeeping too), so a
/// table beyond those is data the object wrote.
fn objects_with_data(edge: &Edge, names: &[String]) -> Vec<(String, bool)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().contains("ConversationObject")
                && p.extension().is_some_and(|x| x == "sqlite")
            {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(edge.state_dir(), &mut files);
    let mut out = Vec::new();
    for f in files {
        let Ok(db) =
            rusqlite::Connection::open_with_flags(f, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        else {
            continue;
        };
        let name: Option<String> = db
            .query_row("SELECT name FROM __miniflare_do_name", [], |r| r.get(0))
            .ok();
        let Some(name) = name.filter(|n| names.contains(n)) else {
            continue;
        };
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .unwrap_or_default();
        let data = tables
            .iter()
            .any(|n| !n.starts_with("__miniflare") && !n.starts_with("_cf_"));
        out.push((name, data));
    }
    out
}

#[tokio::test]
async fn invented_conversation_ids_leave_no_durable_object_storage() {
    let edge = Edge::shared();
    let base = &edge.base;
    let api = Api::at(base);
    let t = api
        .create_tenant_without_ai(&unique_slug("ghost"), "enterprise")
        .await;
    let mut names = Vec::new();
    for i in 0..20 {
        // Well-formed ids (base32, 26 characters) that the platform never issued.
        let suffix: String = format!("{i:02}")
            .bytes()
            .map(|b| (b'a' + b - b'0') as char)
            .collect();
        let id = format!("cnv_{}{suffix}", "q".repeat(24));
        names.push(format!("{}:{id}", t.id));
        let r = api
            .call(
                Method::Get,
                &format!("/v1/conversations/{id}"),
                Some(&t.secret_key),
                None,
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
        let r = api
            .call(
                Method::Post,
                &format!("/v1/conversations/{id}/messages"),
                Some(&t.secret_key),
                Some(&json!({"text": "hi", "client_msg_id": "x"})),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
    }
    // A real conversation, for contrast: its object does store its own data.
    let r = api
        .call(
            Method::Post,
            "/v1/conversations",
            Some(&t.secret_key),
            Some(&json!({"name": "Ann"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let real = format!(
        "{}:{}",
        t.id,
        r.body["conversation"]["conversation_id"].as_str().unwrap()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen = objects_with_data(edge, &names);
    assert!(
        !seen.is_empty(),
        "the local runtime records instantiated objects"
    );
    assert!(
        seen.iter().all(|(_, data)| !data),
        "an invented id stored data: {seen:?}"
    );
    assert_eq!(
        objects_with_data(edge, std::slice::from_ref(&real)),
        vec![(real, true)]
    );
}
