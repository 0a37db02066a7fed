//! Headers every API response carries. Set as defaults, so a route that serves a page or a
//! script (with its own policy) can override them.

use crate::http::Headers;

pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

pub fn apply(h: &mut Headers) {
    h.set_default("content-security-policy", API_CSP);
    h.set_default(
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    );
    h.set_default("x-content-type-options", "nosniff");
    h.set_default("referrer-policy", "no-referrer");
    h.set_default("x-frame-options", "DENY");
    h.set_default("cross-origin-resource-policy", "same-site");
    h.set_default("cache-control", "no-store");
}
