//! The Spin component (storage-free build) under `wasmtime serve`: the same core answers the
//! same routes, with the capabilities of its runtime.

use prism_e2e::{http, SpinServe};
use serde_json::Value;

#[tokio::test]
async fn spin_serves_health_meta_and_envelopes() {
    let spin = SpinServe::shared();
    let r = http().get(spin.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["runtime"], "spin");
    assert_eq!(b["bindings"]["db"], false, "storage-free build");

    let b: Value = http()
        .get(spin.url("/v1/meta"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b["capabilities"]["websockets"], false);

    let r = http()
        .get(spin.url("/missing"))
        .header("x-request-id", "spin-trace")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["x-request-id"], "spin-trace");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["request_id"], "spin-trace");

    let r = http().delete(spin.url("/v1/meta")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
}

#[tokio::test]
async fn spin_refuses_websockets_and_reports_missing_storage() {
    let spin = SpinServe::shared();
    let r = http()
        .get(spin.url("/v1/echo/room"))
        .header("upgrade", "websocket")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 501);
    let r = http().get(spin.url("/v1/diag/kv/x")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "binding_missing");
}
