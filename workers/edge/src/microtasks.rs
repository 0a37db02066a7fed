//! Which scheduler wasm-bindgen's futures use to wake a Rust future inside workerd.
//!
//! Every wake-up of a Rust future (each awaited runtime call: SQL, D1, KV, a Durable Object
//! call, a body read) goes through wasm-bindgen's task queue, which schedules its next run with
//! the global `queueMicrotask` whenever the global has one, else with `then` on a resolved
//! promise. In workerd the global `queueMicrotask` is a C++ API method that also wraps each task
//! for the async context it was queued in (its source says V8 carries that context for promise
//! reactions but not for tasks queued by the embedder, hence the wrap); a resolved promise's
//! `then` is V8's own reaction. Measured in this repository's runtime
//! (`tests/bench/microtasks.sh`, CPU of the runtime process over 1.2 million calls): about
//! 1.4 µs a call against 0.1 µs. Both run the task at the same microtask checkpoint, in the
//! order queued. It is a small saving: a `GET /v1/tenant` wakes the queue
//! six times (`tests/bench/crossings.mjs`), about 8 µs of its ~1.6 ms of runtime CPU; a chat
//! message in a conversation of ten about 3.5 times.
//!
//! The queue decides once, when it is created (lazily, on first use, per wasm instance), so
//! hiding the global for that moment is enough: [`prefer_promise_reactions`] is the module's
//! start function (it runs before any request, and again when the glue rebuilds the instance
//! after a trap) and puts the same function back. If the
//! global cannot be hidden (not writable), nothing changes and the queue keeps
//! `queueMicrotask`, which is only slower.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
fn prefer_promise_reactions() {
    let global = js_sys::global();
    let name = JsValue::from_str("queueMicrotask");
    let Ok(saved) = js_sys::Reflect::get(&global, &name) else {
        return;
    };
    if !matches!(
        js_sys::Reflect::set(&global, &name, &JsValue::UNDEFINED),
        Ok(true)
    ) {
        return;
    }
    // Creates the queue while the global is hidden; the empty task runs at the next
    // microtask checkpoint through the promise path it chose.
    wasm_bindgen_futures::spawn_local(async {});
    let _ = js_sys::Reflect::set(&global, &name, &saved);
}
