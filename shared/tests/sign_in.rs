//! Agents sign themselves in: email links (through the real Resend wire format, captured by a
//! scripted server), invitations accepted in the browser, OpenID Connect single sign-on against
//! a scripted provider that signs real RS256 ID tokens, and the console sessions they start:
//! rotation, reuse detection, sign-out, sign-out everywhere and deactivation.

mod common;

use common::{Api, TestTenant};
use jwt_compact::alg::{Rsa, RsaPrivateKey, RsaPublicKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::prelude::*;
use prism_core::http::{Method, Request, Response};
use prism_core::testing::ScriptedHttp;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::OnceLock;

const EDGE: &str = "https://api.test";

fn put_config(api: &Api, t: &TestTenant, edit: impl FnOnce(&mut Value)) {
    let r = api.edit_config(t, edit);
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Emails the platform sent, as Resend received them.
type Outbox = Rc<RefCell<Vec<Value>>>;

/// An edge with a platform email sender and a scripted Resend that records every email.
fn with_email() -> (Api, Outbox) {
    let mut api = Api::new();
    api.rig.config.set("resend_api_key", "re_platform_test_key");
    api.rig
        .config
        .set("email_from", "PrismAI <no-reply@prism.example>");
    let outbox: Outbox = Rc::default();
    let sent = outbox.clone();
    let http = ScriptedHttp::new(move |req, _| {
        if req.path == "/emails"
            && req.header("authorization") == Some("Bearer re_platform_test_key")
        {
            sent.borrow_mut()
                .push(serde_json::from_slice(&req.body).unwrap_or(Value::Null));
            return Response::json(200, &json!({"id": "4ef9a417-02e9-4d39-ad75-9611cb4ff2a1"}));
        }
        Response::new(404)
    });
    *api.rig.http.borrow_mut() = Some(http);
    (api, outbox)
}

fn link_token(email: &Value, marker: &str) -> String {
    let text = email["text"].as_str().unwrap();
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {text}"))
        + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect()
}

fn post(api: &Api, path: &str, body: Value, cookie: Option<&str>) -> common::Reply {
    let mut req = Api::req(Method::Post, path, None, Some(&body));
    req.headers.append("origin", EDGE);
    if let Some(c) = cookie {
        req.headers.append("cookie", c);
    }
    api.send(req)
}

/// The session cookie a response sets (`name=value`), if any.
fn session_cookie(r: &common::Reply) -> Option<String> {
    r.resp
        .headers
        .get_all("set-cookie")
        .find(|c| c.starts_with("prism_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

fn refresh(api: &Api, cookie: &str) -> common::Reply {
    post(api, "/v1/auth/session/refresh", json!({}), Some(cookie))
}

fn me(api: &Api, token: &str, user_id: &str) -> u16 {
    api.get(&format!("/v1/users/{user_id}"), token).status
}

#[test]
fn an_agent_signs_in_with_an_email_link_and_the_session_rotates_and_ends() {
    let (api, outbox) = with_email();
    let t = api.create_tenant("links", "pro", None);
    let methods = api.call(Method::Get, "/v1/auth/methods?tenant=links", None, None);
    assert_eq!(methods.body["magic_link"], true, "{}", methods.body);
    assert_eq!(methods.body["oidc"], Value::Null);

    // Unknown addresses get the same answer and no email.
    let r = post(
        &api,
        "/v1/auth/magic-link",
        json!({"tenant": "links", "email": "nobody@links.example"}),
        None,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(outbox.borrow().is_empty());
    let r = post(
        &api,
        "/v1/auth/magic-link",
        json!({"tenant": "links", "email": "Owner@Links.Example"}),
        None,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let email = outbox.borrow()[0].clone();
    assert_eq!(email["to"][0], "owner@links.example");
    assert_eq!(email["from"], "PrismAI <no-reply@prism.example>");
    assert!(email["text"]
        .as_str()
        .unwrap()
        .contains("https://api.test/console#signin="));
    let token = link_token(&email, "#signin=");

    let signed = post(
        &api,
        "/v1/auth/magic-link/redeem",
        json!({"token": token}),
        None,
    );
    assert_eq!(signed.status, 200, "{}", signed.body);
    let cookie_header = signed
        .resp
        .headers
        .get_all("set-cookie")
        .find(|c| c.starts_with("prism_session="))
        .unwrap()
        .to_string();
    for attr in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/v1/auth/session",
    ] {
        assert!(cookie_header.contains(attr), "{attr} in {cookie_header}");
    }
    assert!(
        !signed.body.to_string().contains("rt_"),
        "the refresh token never travels in a body"
    );
    let access = signed.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(me(&api, &access, &t.owner_id), 200);
    // A link works once.
    let again = post(
        &api,
        "/v1/auth/magic-link/redeem",
        json!({"token": token}),
        None,
    );
    assert_eq!((again.status, again.code()), (401, "invalid_token"));

    // Refresh rotates the cookie; the new one works, the old one within seconds is a retry.
    let first = session_cookie(&signed).unwrap();
    let r = refresh(&api, &first);
    assert_eq!(r.status, 200, "{}", r.body);
    let second = session_cookie(&r).unwrap();
    assert_ne!(first, second);
    assert_eq!(
        refresh(&api, &first).status,
        409,
        "a concurrent tab retries"
    );
    api.rig.clock.advance(60_000);
    let r = refresh(&api, &second);
    assert_eq!(r.status, 200);
    let third = session_cookie(&r).unwrap();
    let access = r.body["access_token"].as_str().unwrap().to_string();
    // An old token coming back later means a copy exists: the session ends for everyone.
    api.rig.clock.advance(60_000);
    let stolen = refresh(&api, &second);
    assert_eq!(stolen.status, 401);
    assert_eq!(refresh(&api, &third).status, 401, "the whole session ended");
    assert_eq!(
        me(&api, &access, &t.owner_id),
        401,
        "and its access token with it"
    );

    // Cookies from another origin are refused outright.
    let mut req = Api::req(
        Method::Post,
        "/v1/auth/session/refresh",
        None,
        Some(&json!({})),
    );
    req.headers.append("origin", "https://evil.example");
    req.headers.append("cookie", &third);
    assert_eq!(api.send(req).status, 403);

    // Links expire after 15 minutes.
    post(
        &api,
        "/v1/auth/magic-link",
        json!({"tenant": "links", "email": "owner@links.example"}),
        None,
    );
    let late = link_token(&outbox.borrow()[1].clone(), "#signin=");
    api.rig.clock.advance(16 * 60_000);
    assert_eq!(
        post(
            &api,
            "/v1/auth/magic-link/redeem",
            json!({"token": late}),
            None
        )
        .status,
        401
    );
}

#[test]
fn sign_out_sign_out_everywhere_and_deactivation_end_sessions_and_their_tokens_at_once() {
    let (api, outbox) = with_email();
    let t = api.create_tenant("signout", "pro", None);
    let (agent_id, _) = api.user_with_role(&t, "agent");
    let email = api
        .get(&format!("/v1/users/{agent_id}"), &t.secret_key)
        .body["email"]
        .as_str()
        .unwrap()
        .to_string();
    let sign_in = |_device: &str| {
        post(
            &api,
            "/v1/auth/magic-link",
            json!({"tenant": "signout", "email": email}),
            None,
        );
        let last = outbox.borrow().last().cloned().unwrap();
        let token = link_token(&last, "#signin=");
        let r = post(
            &api,
            "/v1/auth/magic-link/redeem",
            json!({"token": token}),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        (
            r.body["access_token"].as_str().unwrap().to_string(),
            session_cookie(&r).unwrap(),
        )
    };
    let (laptop, laptop_cookie) = sign_in("laptop");
    let (phone, phone_cookie) = sign_in("phone");
    // Sign out on the laptop: that session and its token end; the phone stays signed in.
    let out = post(
        &api,
        "/v1/auth/session/logout",
        json!({}),
        Some(&laptop_cookie),
    );
    assert_eq!(out.status, 204);
    assert!(out
        .resp
        .headers
        .get_all("set-cookie")
        .any(|c| c.contains("Max-Age=0")));
    assert_eq!(me(&api, &laptop, &agent_id), 401);
    assert_eq!(refresh(&api, &laptop_cookie).status, 401);
    assert_eq!(me(&api, &phone, &agent_id), 200);
    // Sign out everywhere from the phone.
    let (tablet, _) = sign_in("tablet");
    let r = api.call(Method::Post, "/v1/auth/sessions/revoke", Some(&phone), None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(me(&api, &phone, &agent_id), 401);
    assert_eq!(me(&api, &tablet, &agent_id), 401);
    assert_eq!(refresh(&api, &phone_cookie).status, 401);
    // Deactivation ends sessions too, and reactivation does not bring them back.
    let (desk, desk_cookie) = sign_in("desk");
    let r = api.call(
        Method::Patch,
        &format!("/v1/users/{agent_id}"),
        Some(&t.secret_key),
        Some(json!({"status": "deactivated"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(me(&api, &desk, &agent_id), 401);
    api.call(
        Method::Patch,
        &format!("/v1/users/{agent_id}"),
        Some(&t.secret_key),
        Some(json!({"status": "active"})),
    );
    assert_eq!(refresh(&api, &desk_cookie).status, 401);
    // A deactivated user gets no link (and the answer does not say so).
    api.call(
        Method::Patch,
        &format!("/v1/users/{agent_id}"),
        Some(&t.secret_key),
        Some(json!({"status": "deactivated"})),
    );
    let before = outbox.borrow().len();
    let r = post(
        &api,
        "/v1/auth/magic-link",
        json!({"tenant": "signout", "email": email}),
        None,
    );
    assert_eq!(r.status, 202);
    assert_eq!(outbox.borrow().len(), before);
}

#[test]
fn link_requests_are_rate_limited_and_need_a_sender_and_the_method() {
    let (api, outbox) = with_email();
    let t = api.create_tenant("limits", "pro", None);
    for _ in 0..5 {
        let r = post(
            &api,
            "/v1/auth/magic-link",
            json!({"tenant": "limits", "email": "owner@limits.example"}),
            None,
        );
        assert_eq!(r.status, 202);
    }
    let r = post(
        &api,
        "/v1/auth/magic-link",
        json!({"tenant": "limits", "email": "owner@limits.example"}),
        None,
    );
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert_eq!(outbox.borrow().len(), 5);
    // Unknown workspaces and malformed input are clear errors.
    let r = post(
        &api,
        "/v1/auth/magic-link",
        json!({"tenant": "nope", "email": "a@b.example"}),
        None,
    );
    assert_eq!(r.status, 404);
    let r = post(
        &api,
        "/v1/auth/magic-link",
        json!({"tenant": "limits", "email": "not an email"}),
        None,
    );
    assert_eq!(r.status, 422);
    // A workspace that turns links off says so.
    put_config(&api, &t, |c| c["sign_in"]["magic_link"] = json!(false));
    let r = post(
        &api,
        "/v1/auth/magic-link",
        json!({"tenant": "limits", "email": "owner@limits.example"}),
        None,
    );
    assert_eq!(r.status, 403);
    // Without any email sender, links are not offered.
    let plain = Api::new();
    plain.create_tenant("nosender", "pro", None);
    let m = plain.call(Method::Get, "/v1/auth/methods?tenant=nosender", None, None);
    assert_eq!(m.body["magic_link"], false);
    let r = post(
        &plain,
        "/v1/auth/magic-link",
        json!({"tenant": "nosender", "email": "owner@nosender.example"}),
        None,
    );
    assert_eq!(r.status, 409, "{}", r.body);
}

#[test]
fn invitations_are_emailed_accepted_in_the_browser_resent_and_revoked() {
    let (api, outbox) = with_email();
    let t = api.create_tenant("invites", "pro", None);
    let r = api.call(
        Method::Post,
        "/v1/invitations",
        Some(&t.secret_key),
        Some(json!({"email": "Kim@Invites.Example", "name": "Kim", "role": "agent"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["email_sent"], true);
    let id = r.body["invitation"]["id"].as_str().unwrap().to_string();
    let first = link_token(&outbox.borrow()[0].clone(), "#invite=");
    assert_eq!(first, r.body["token"].as_str().unwrap());
    // Resending replaces the link.
    let r = api.call(
        Method::Post,
        &format!("/v1/invitations/{id}/resend"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let second = link_token(&outbox.borrow()[1].clone(), "#invite=");
    assert_ne!(first, second);
    assert_eq!(
        post(&api, "/v1/auth/invitation", json!({"token": first}), None).status,
        404
    );
    let joined = post(&api, "/v1/auth/invitation", json!({"token": second}), None);
    assert_eq!(joined.status, 201, "{}", joined.body);
    assert!(session_cookie(&joined).is_some());
    let user_id = joined.body["user"]["id"].as_str().unwrap();
    assert_eq!(
        me(&api, joined.body["access_token"].as_str().unwrap(), user_id),
        200
    );
    // A used invitation can be neither resent nor revoked.
    let r = api.call(
        Method::Post,
        &format!("/v1/invitations/{id}/resend"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 409);
    // Revoked links stop working.
    let r = api.call(
        Method::Post,
        "/v1/invitations",
        Some(&t.secret_key),
        Some(json!({"email": "lee@invites.example", "name": "Lee", "role": "viewer"})),
    );
    let lee = r.body["invitation"]["id"].as_str().unwrap().to_string();
    let lee_token = r.body["token"].as_str().unwrap().to_string();
    let r = api.call(
        Method::Delete,
        &format!("/v1/invitations/{lee}"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["revoked_at"].is_i64());
    assert_eq!(
        post(
            &api,
            "/v1/auth/invitation",
            json!({"token": lee_token}),
            None
        )
        .status,
        404
    );
    // An admin cannot obtain a new link for an owner invitation (the token is in the reply).
    let r = api.call(
        Method::Post,
        "/v1/invitations",
        Some(&t.secret_key),
        Some(json!({"email": "boss@invites.example", "name": "Boss", "role": "owner"})),
    );
    let boss = r.body["invitation"]["id"].as_str().unwrap().to_string();
    let (_, admin) = api.user_with_role(&t, "admin");
    let r = api.call(
        Method::Post,
        &format!("/v1/invitations/{boss}/resend"),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = api.call(
        Method::Delete,
        &format!("/v1/invitations/{boss}"),
        Some(&admin),
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
}

// ------------------------------------------------------------------ OpenID Connect

const ISSUER: &str = "https://idp.example";
const CLIENT_ID: &str = "prism-console";
const CLIENT_SECRET: &str = "idp-client-secret-0123456789";

fn idp_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap())
}

/// A change to the claims of the next ID token.
type Tweak = Box<dyn Fn(&mut Value)>;

/// What the scripted provider saw and will say.
#[derive(Default)]
struct Idp {
    /// The authorization request (from the redirect the edge issued).
    challenge: String,
    nonce: String,
    /// Claims to override in the next ID token.
    tweak: Option<Tweak>,
    /// Sign with another key than the published one.
    wrong_key: bool,
    token_requests: Vec<Request>,
}

fn id_token(claims: Value, key: &RsaPrivateKey, kid: &str, now_ms: i64) -> String {
    use chrono::TimeZone;
    let now = chrono::Utc.timestamp_millis_opt(now_ms).single().unwrap();
    let opts = TimeOptions::new(chrono::Duration::seconds(0), move || now);
    let claims = Claims::new(claims).set_duration_and_issuance(&opts, chrono::Duration::minutes(5));
    Rsa::rs256()
        .token(&Header::empty().with_key_id(kid), &claims, key)
        .unwrap()
}

fn scripted_idp(
    idp: Rc<RefCell<Idp>>,
    email: &'static str,
    clock: Rc<prism_core::testing::ManualClock>,
) -> Rc<ScriptedHttp> {
    use prism_core::ports::Clock;
    ScriptedHttp::new(move |req, _| {
        let url = format!("{}{}", req.origin, req.path);
        match url.as_str() {
            "https://idp.example/.well-known/openid-configuration" => Response::json(
                200,
                &json!({
                    "issuer": ISSUER,
                    "authorization_endpoint": "https://idp.example/authorize",
                    "token_endpoint": "https://idp.example/token",
                    "jwks_uri": "https://idp.example/jwks",
                    "response_types_supported": ["code"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }),
            ),
            "https://idp.example/jwks" => {
                let public = RsaPublicKey::from(idp_key());
                let mut jwk = serde_json::to_value(JsonWebKey::from(&public)).unwrap();
                jwk["kid"] = json!("k1");
                jwk["use"] = json!("sig");
                Response::json(200, &json!({"keys": [jwk]}))
            }
            "https://idp.example/token" => {
                let mut s = idp.borrow_mut();
                s.token_requests.push(req.clone());
                let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
                    .into_owned()
                    .collect();
                let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                use base64::Engine;
                let basic = base64::engine::general_purpose::STANDARD
                    .encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
                let verifier = field("code_verifier").unwrap_or_default();
                let challenge = {
                    use sha2::Digest;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(sha2::Sha256::digest(verifier.as_bytes()))
                };
                if req.header("authorization") != Some(&format!("Basic {basic}"))
                    || field("code").as_deref() != Some("the-code")
                    || challenge != s.challenge
                {
                    return Response::json(400, &json!({"error": "invalid_grant"}));
                }
                let mut claims = json!({
                    "iss": ISSUER, "sub": "idp-user-1", "aud": CLIENT_ID, "nonce": s.nonce,
                    "email": email, "email_verified": true, "name": "Sam Sso"
                });
                if let Some(t) = &s.tweak {
                    t(&mut claims);
                }
                let key = if s.wrong_key {
                    RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap()
                } else {
                    idp_key().clone()
                };
                Response::json(
                    200,
                    &json!({
                        "access_token": "at", "token_type": "Bearer",
                        "id_token": id_token(claims, &key, "k1", clock.now_ms())
                    }),
                )
            }
            _ => Response::new(404),
        }
    })
}

struct Sso {
    api: Api,
    idp: Rc<RefCell<Idp>>,
}

fn sso_setup(email: &'static str, edit: impl FnOnce(&mut Value)) -> (Sso, TestTenant) {
    let mut api = Api::new();
    api.rig.config.set("allow_local_egress", "off");
    let idp = Rc::new(RefCell::new(Idp::default()));
    *api.rig.http.borrow_mut() = Some(scripted_idp(idp.clone(), email, api.rig.clock.clone()));
    let t = api.create_tenant("sso", "enterprise", None);
    let r = api.call(
        Method::Put,
        "/v1/tenant/secrets/oidc_client_secret",
        Some(&t.secret_key),
        Some(json!({"value": CLIENT_SECRET})),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    put_config(&api, &t, |c| {
        c["sign_in"]["oidc"] =
            json!({"issuer": ISSUER, "client_id": CLIENT_ID, "label": "Sign in with Example ID"});
        edit(c);
    });
    (Sso { api, idp }, t)
}

impl Sso {
    /// Starts a sign-in; returns the state and the cookie the browser got.
    fn start(&self) -> (String, String) {
        let r = self
            .api
            .call(Method::Get, "/v1/auth/oidc/start?tenant=sso", None, None);
        assert_eq!(r.status, 302, "{}", r.body);
        let location = url::Url::parse(r.header("location").unwrap()).unwrap();
        assert!(location
            .as_str()
            .starts_with("https://idp.example/authorize?"));
        let q: std::collections::HashMap<String, String> =
            location.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["redirect_uri"], "https://api.test/v1/auth/oidc/callback");
        assert!(q["scope"].split(' ').any(|s| s == "openid"));
        let mut idp = self.idp.borrow_mut();
        idp.challenge = q["code_challenge"].clone();
        idp.nonce = q["nonce"].clone();
        let cookie = r
            .resp
            .headers
            .get_all("set-cookie")
            .find(|c| c.starts_with("prism_oidc="))
            .unwrap()
            .to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        (
            q["state"].clone(),
            cookie.split(';').next().unwrap().to_string(),
        )
    }

    fn callback(&self, state: &str, cookie: Option<&str>) -> common::Reply {
        let mut req = Api::req(
            Method::Get,
            &format!("/v1/auth/oidc/callback?code=the-code&state={state}"),
            None,
            None,
        );
        if let Some(c) = cookie {
            req.headers.append("cookie", c);
        }
        self.api.send(req)
    }
}

#[test]
fn single_sign_on_verifies_the_provider_and_starts_a_session() {
    let (sso, t) = sso_setup("owner@sso.example", |_| {});
    let m = sso
        .api
        .call(Method::Get, "/v1/auth/methods?tenant=sso", None, None);
    assert_eq!(m.body["oidc"], "Sign in with Example ID");
    let (state, cookie) = sso.start();
    let r = sso.callback(&state, Some(&cookie));
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.header("location"), Some("/console#signed-in"));
    let session = session_cookie(&r).expect("a session cookie");
    assert!(
        !r.header("location").unwrap().contains("eyJ"),
        "no token in the URL"
    );
    let token_request = &sso.idp.borrow().token_requests[0];
    assert_eq!(
        token_request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // The console trades the cookie for an access token.
    let signed = refresh(&sso.api, &session);
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(signed.body["user"]["id"], t.owner_id.as_str());
    assert_eq!(
        me(
            &sso.api,
            signed.body["access_token"].as_str().unwrap(),
            &t.owner_id
        ),
        200
    );
    // A state works once.
    let again = sso.callback(&state, Some(&cookie));
    assert_eq!(
        again.header("location"),
        Some("/console#error=invalid_token")
    );
}

#[test]
fn single_sign_on_refuses_forged_replayed_and_foreign_id_tokens() {
    type Case = (&'static str, Tweak, bool);
    let cases: Vec<Case> = vec![
        (
            "another audience",
            Box::new(|c| c["aud"] = json!("someone-else")),
            false,
        ),
        (
            "another issuer",
            Box::new(|c| c["iss"] = json!("https://evil.example")),
            false,
        ),
        (
            "a replayed nonce",
            Box::new(|c| c["nonce"] = json!("stale")),
            false,
        ),
        (
            "no nonce",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
            false,
        ),
        (
            "an unverified email",
            Box::new(|c| c["email_verified"] = json!(false)),
            false,
        ),
        (
            "several audiences without azp",
            Box::new(|c| c["aud"] = json!([CLIENT_ID, "other"])),
            false,
        ),
        ("a key the provider never published", Box::new(|_| {}), true),
    ];
    for (name, tweak, wrong_key) in cases {
        let (sso, _) = sso_setup("owner@sso.example", |_| {});
        {
            let mut idp = sso.idp.borrow_mut();
            idp.tweak = Some(tweak);
            idp.wrong_key = wrong_key;
        }
        let (state, cookie) = sso.start();
        let r = sso.callback(&state, Some(&cookie));
        assert_eq!(r.status, 302, "{name}");
        assert!(
            r.header("location").unwrap().starts_with("/console#error="),
            "{name}: {:?}",
            r.header("location")
        );
        assert!(session_cookie(&r).is_none(), "{name}: no session");
    }
    // A callback without the browser's state cookie (login CSRF) is refused.
    let (sso, _) = sso_setup("owner@sso.example", |_| {});
    let (state, _) = sso.start();
    let r = sso.callback(&state, None);
    assert_eq!(r.header("location"), Some("/console#error=forbidden"));
    assert!(
        sso.idp.borrow().token_requests.is_empty(),
        "the code was never redeemed"
    );
    // An expired attempt is refused.
    let (state, cookie) = sso.start();
    sso.api.rig.clock.advance(11 * 60_000);
    let r = sso.callback(&state, Some(&cookie));
    assert_eq!(r.header("location"), Some("/console#error=invalid_token"));
}

#[test]
fn single_sign_on_lets_only_known_people_or_allowed_domains_in() {
    // Someone the workspace does not know is refused...
    let (sso, _) = sso_setup("stranger@elsewhere.example", |_| {});
    let (state, cookie) = sso.start();
    let r = sso.callback(&state, Some(&cookie));
    assert_eq!(r.header("location"), Some("/console#error=forbidden"));
    // ...unless their domain may join, as the configured role.
    let (sso, t) = sso_setup("new.agent@team.example", |c| {
        c["sign_in"]["join_domains"] = json!(["team.example"]);
        c["sign_in"]["join_role"] = json!("viewer");
    });
    let (state, cookie) = sso.start();
    let r = sso.callback(&state, Some(&cookie));
    assert_eq!(r.header("location"), Some("/console#signed-in"));
    let users = sso.api.get("/v1/users?limit=100", &t.secret_key).body;
    let joined = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "new.agent@team.example")
        .expect("joined");
    assert_eq!(joined["role"], "viewer");
    // Config is validated: only agents or viewers join by domain; domains are domains.
    let bad = sso
        .api
        .call(Method::Get, "/v1/tenant/config", Some(&t.secret_key), None);
    let mut c = bad.body["config"].clone();
    c["sign_in"]["join_role"] = json!("owner");
    let r = sso.api.call(
        Method::Put,
        "/v1/tenant/config",
        Some(&t.secret_key),
        Some(json!({"version": bad.body["version"], "config": c})),
    );
    assert_eq!(r.status, 422);
}
