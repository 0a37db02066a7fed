//! The email survey's link and the page it opens. The link carries a token signed with the
//! platform's JWT keys for its own audience (never an agent or conversation token), naming the
//! tenant and the survey and expiring with the survey; the page is plain HTML with a form (no
//! script), because it opens in whatever browser an email client hands it to. Opening the page
//! records nothing (mail scanners open links); only the form's POST does.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::template::{say, Kind, Localised, Words};
use crate::auth::jwt::JwtKeys;
use crate::error::{ApiError, ApiResult, ErrorCode};
use chrono::{TimeZone, Utc};
use jwt_compact::alg::Hs256;
use jwt_compact::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const AUDIENCE: &str = "prismai-survey";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurveyClaims {
    pub aud: String,
    /// Tenant id.
    pub tid: String,
    /// Survey id.
    pub sid: String,
}

fn at(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// A token for the survey's link, valid until the survey expires.
pub fn issue(
    keys: &JwtKeys,
    tenant_id: &str,
    survey_id: &str,
    expires_at: i64,
    now: i64,
) -> ApiResult<String> {
    let (kid, key) = keys.signing_key()?;
    let mut claims = Claims::new(SurveyClaims {
        aud: AUDIENCE.into(),
        tid: tenant_id.into(),
        sid: survey_id.into(),
    });
    claims.issued_at = Some(at(now));
    claims.expiration = Some(at(expires_at));
    Hs256
        .token(&Header::empty().with_key_id(kid), &claims, key)
        .map_err(|e| ApiError::internal(format!("token creation failed: {e}")))
}

/// The survey a link names, if its signature holds and it has not expired.
pub fn verify(keys: &JwtKeys, token: &str, now: i64) -> ApiResult<SurveyClaims> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken, "invalid survey link");
    let untrusted = UntrustedToken::new(token).map_err(|_| invalid())?;
    let kid = untrusted.header().key_id.as_deref().ok_or_else(invalid)?;
    let key = keys.verifying_key(kid).ok_or_else(invalid)?;
    let token: Token<SurveyClaims> = Hs256
        .validator(key)
        .validate(&untrusted)
        .map_err(|_| invalid())?;
    let claims = token.claims();
    let opts = TimeOptions::new(chrono::Duration::seconds(0), move || at(now));
    claims.expiration.ok_or_else(invalid)?;
    claims
        .validate_expiration(&opts)
        .map_err(|_| ApiError::new(ErrorCode::TokenExpired, "this survey link has expired"))?;
    if claims.custom.aud != AUDIENCE {
        return Err(invalid());
    }
    Ok(claims.custom.clone())
}

/// The form's fields: the token and one `q.<question id>` per answer. Unknown fields are
/// ignored; repeated ones keep the last.
pub fn parse_form(body: &[u8]) -> (Option<String>, BTreeMap<String, Value>) {
    let mut token = None;
    let mut answers = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if k == "t" {
            token = Some(v.into_owned());
        } else if let Some(id) = k.strip_prefix("q.") {
            if answers.len() < 20 && id.len() <= 64 {
                answers.insert(id.to_string(), Value::String(v.into_owned()));
            }
        }
    }
    (token, answers)
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's own policy: inline styles only, forms post back to the edge.
pub const PAGE_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn page(lang: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{}</title>\
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1f2937}}fieldset{{border:0;padding:0;margin:0 0 1.25rem}}legend{{font-weight:600;margin-bottom:.5rem}}\
.scale{{display:flex;flex-wrap:wrap;gap:.4rem}}.scale label{{border:1px solid #cbd5e1;border-radius:.4rem;padding:.3rem .7rem;cursor:pointer}}textarea{{width:100%;min-height:5rem}}\
button{{background:#4f46e5;color:#fff;border:0;border-radius:.4rem;padding:.6rem 1.4rem;font-size:1rem}}.error{{color:#b91c1c}}</style></head><body>{}</body></html>",
        esc(lang),
        esc(title),
        body
    )
}

/// The survey as a form; `error` shown above it (a rejected answer), `preset` answers checked.
pub fn form_page(
    lang: &str,
    token: &str,
    s: &Localised,
    preset: &BTreeMap<String, Value>,
    error: Option<&str>,
) -> String {
    let mut b = format!("<h1>{}</h1>", esc(&s.intro));
    if let Some(e) = error {
        b.push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)));
    }
    b.push_str(&format!(
        "<form method=\"post\" action=\"/survey\"><input type=\"hidden\" name=\"t\" value=\"{}\">",
        esc(token)
    ));
    for q in &s.questions {
        let name = format!("q.{}", q.id);
        let chosen = preset.get(&q.id).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        b.push_str(&format!("<fieldset><legend>{}</legend>", esc(&q.text)));
        match q.kind {
            Kind::Text => b.push_str(&format!(
                "<textarea name=\"{}\" maxlength=\"2000\">{}</textarea>",
                esc(&name),
                esc(chosen.as_deref().unwrap_or(""))
            )),
            Kind::Choice => {
                for o in &q.options {
                    b.push_str(&format!(
                        "<div><label><input type=\"radio\" name=\"{}\" value=\"{}\"{}{}> {}</label></div>",
                        esc(&name),
                        esc(&o.id),
                        if chosen.as_deref() == Some(o.id.as_str()) { " checked" } else { "" },
                        if q.required { " required" } else { "" },
                        esc(&o.label)
                    ));
                }
            }
            _ => {
                b.push_str("<div class=\"scale\">");
                let (lo, hi) = (q.min.unwrap_or(0), q.max.unwrap_or(0));
                for n in lo..=hi.min(lo + 100) {
                    b.push_str(&format!(
                        "<label><input type=\"radio\" name=\"{}\" value=\"{n}\"{}{}> {n}</label>",
                        esc(&name),
                        if chosen.as_deref() == Some(n.to_string().as_str()) {
                            " checked"
                        } else {
                            ""
                        },
                        if q.required { " required" } else { "" },
                    ));
                }
                b.push_str("</div>");
            }
        }
        b.push_str("</fieldset>");
    }
    b.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        esc(say(Words::Submit, lang))
    ));
    page(lang, &s.intro, &b)
}

/// A page with one message (thanks, expired, invalid).
pub fn message_page(lang: &str, text: &str) -> String {
    page(lang, text, &format!("<h1>{}</h1>", esc(text)))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    const K: &str = "k1:0123456789abcdef0123456789abcdef";

    #[test]
    fn links_are_scoped_signed_and_expire() {
        let keys = JwtKeys::from_config(Some(K)).unwrap();
        let t = issue(&keys, "ten_1", "srv_cnv_1", 10_000_000, 1_000_000).unwrap();
        let c = verify(&keys, &t, 2_000_000).unwrap();
        assert_eq!((c.tid.as_str(), c.sid.as_str()), ("ten_1", "srv_cnv_1"));
        assert_eq!(
            verify(&keys, &t, 10_000_001).unwrap_err().code,
            ErrorCode::TokenExpired
        );
        let mut forged = t.clone();
        forged.pop();
        forged.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            verify(&keys, &forged, 2_000_000).unwrap_err().code,
            ErrorCode::InvalidToken
        );
        let conv =
            crate::conversations::tokens::issue(&keys, "ten_1", "cnv_1", "cus_1", "A", 1_000_000)
                .unwrap();
        assert!(
            verify(&keys, &conv, 2_000_000).is_err(),
            "a conversation token is no survey link"
        );
    }

    #[test]
    fn the_page_escapes_tenant_text_and_the_form_parses() {
        let mut tpl = super::super::template::builtin();
        tpl.questions[0]
            .text
            .insert("en".into(), "<script>x</script>".into());
        let html = form_page(
            "en",
            "tok\"",
            &tpl.localised("en"),
            &BTreeMap::new(),
            Some("<b>"),
        );
        assert!(!html.contains("<script>x"));
        assert!(
            html.contains("&lt;script&gt;")
                && html.contains("tok&quot;")
                && html.contains("&lt;b&gt;")
        );
        let (t, a) = parse_form(b"t=abc&q.csat=4&q.comment=hi+there&other=1");
        assert_eq!(t.as_deref(), Some("abc"));
        assert_eq!(a["csat"], Value::String("4".into()));
        assert_eq!(a["comment"], Value::String("hi there".into()));
        assert_eq!(a.len(), 2);
    }
}
