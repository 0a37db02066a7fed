//! SQLite values to and from JavaScript, shared by D1 and Durable Object SQL storage.

use js_sys::{Array, ArrayBuffer, Uint8Array};
use prism_core::ports::SqlValue;
use wasm_bindgen::{JsCast, JsValue};

/// Largest integer a JS number holds exactly (2^53 - 1).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

pub fn to_js(v: &SqlValue) -> JsValue {
    match v {
        SqlValue::Null => JsValue::NULL,
        SqlValue::Integer(i) => JsValue::from_f64(*i as f64),
        SqlValue::Real(f) => JsValue::from_f64(*f),
        SqlValue::Text(s) => JsValue::from_str(s),
        SqlValue::Blob(b) => Uint8Array::from(b.as_slice()).buffer().into(),
    }
}

pub fn from_js(v: JsValue) -> SqlValue {
    if v.is_null() || v.is_undefined() {
        SqlValue::Null
    } else if let Some(f) = v.as_f64() {
        if f.fract() == 0.0 && f.abs() <= MAX_SAFE {
            SqlValue::Integer(f as i64)
        } else {
            SqlValue::Real(f)
        }
    } else if let Some(s) = v.as_string() {
        SqlValue::Text(s)
    } else if let Some(b) = v.as_bool() {
        SqlValue::Integer(b as i64)
    } else if v.is_instance_of::<ArrayBuffer>() {
        SqlValue::Blob(Uint8Array::new(&v).to_vec())
    } else if let Some(u) = v.dyn_ref::<Uint8Array>() {
        SqlValue::Blob(u.to_vec())
    } else if Array::is_array(&v) {
        // D1 has returned BLOBs as arrays of byte values.
        SqlValue::Blob(
            Array::from(&v)
                .iter()
                .map(|x| x.as_f64().unwrap_or(0.0) as u8)
                .collect(),
        )
    } else {
        SqlValue::Null
    }
}
