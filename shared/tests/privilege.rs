//! No credential grants or mints more than it holds: every role and every single scope (plus
//! the two interesting scope bundles) against every route that creates authority — role
//! changes, invitations, agent tokens, API keys.

mod common;

use common::{Api, TestTenant};
use prism_core::auth::permissions::known_scopes;
use prism_core::auth::Permission;
use prism_core::http::Method;
use prism_core::users::Role;
use serde_json::json;

fn unlimited() -> serde_json::Value {
    let lots = json!({"count": 10_000_000, "period_secs": 1});
    json!({"tenant": lots, "credential": lots, "visitor": lots})
}

const ROLES: [Role; 5] = [
    Role::Viewer,
    Role::Agent,
    Role::Reviewer,
    Role::Admin,
    Role::Owner,
];

/// A caller under test, with the most it should be able to grant (computed from the permission
/// table independently of the gateway).
struct Caller {
    label: String,
    bearer: String,
    /// Holds the permission the route itself needs.
    holds: Box<dyn Fn(Permission) -> bool>,
    /// Highest role it may grant; `None`: none.
    ceiling: Option<Role>,
    scopes: Option<Vec<String>>,
}

fn scope_ceiling(scopes: &[String]) -> Option<Role> {
    let holds = |p: Permission| p.granted_by_scopes(scopes);
    ROLES.iter().rev().copied().find(|r| {
        Permission::ALL
            .iter()
            .filter(|p| p.granted_to_role(*r))
            .all(|p| holds(*p))
    })
}

fn callers(api: &Api, t: &TestTenant) -> Vec<Caller> {
    let mut out = Vec::new();
    for role in ROLES {
        let bearer = if role == Role::Owner {
            api.token_for(t, &t.owner_id)
        } else {
            api.user_with_role(t, role.as_str()).1
        };
        out.push(Caller {
            label: format!("user:{}", role.as_str()),
            bearer,
            holds: Box::new(move |p| p.granted_to_role(role)),
            ceiling: Some(role),
            scopes: None,
        });
    }
    let mut bundles: Vec<Vec<String>> = known_scopes()
        .into_iter()
        .map(|s| vec![s.to_string()])
        .collect();
    // Everything an admin holds, plus users:manage; and everything but `admin` itself.
    bundles.push(
        Permission::ALL
            .iter()
            .filter(|p| p.granted_to_role(Role::Admin))
            .map(|p| p.scope().to_string())
            .collect(),
    );
    bundles.push(
        Permission::ALL
            .iter()
            .map(|p| p.scope().to_string())
            .collect(),
    );
    for scopes in bundles {
        let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let bearer = api.key_with_scopes(t, &refs);
        let s2 = scopes.clone();
        out.push(Caller {
            label: format!("key:{}", scopes.join(",")),
            bearer,
            holds: Box::new(move |p| p.granted_by_scopes(&s2)),
            ceiling: scope_ceiling(&scopes),
            scopes: Some(scopes),
        });
    }
    out
}

fn allowed(c: &Caller, route_perm: Permission, target: Role) -> bool {
    (c.holds)(route_perm) && c.ceiling.is_some_and(|ceil| target <= ceil)
}

#[test]
fn no_credential_grants_or_mints_a_role_above_its_own() {
    let api = Api::new();
    let t = api.create_tenant("ceiling", "enterprise", Some(unlimited()));
    let callers = callers(&api, &t);
    let mut checked = 0;
    for c in &callers {
        for target in ROLES {
            // Invite a person with `target`.
            let r = api.call(
                Method::Post,
                "/v1/invitations",
                Some(&c.bearer),
                Some(json!({"email": format!("{}-{}@x.example", checked, target.as_str()), "name": "N", "role": target.as_str()})),
            );
            let want = allowed(c, Permission::UsersManage, target);
            assert_eq!(
                r.status == 201,
                want,
                "{} invites {:?}: {} {}",
                c.label,
                target,
                r.status,
                r.body
            );
            if !want {
                assert_eq!(r.status, 403, "{}: {}", c.label, r.body);
            }

            // Promote a fresh viewer to `target`.
            let (viewer, _) = api.user_with_role(&t, "viewer");
            let r = api.call(
                Method::Patch,
                &format!("/v1/users/{viewer}"),
                Some(&c.bearer),
                Some(json!({"role": target.as_str()})),
            );
            let want = allowed(c, Permission::UsersManage, target);
            assert_eq!(
                r.status == 200,
                want,
                "{} grants {:?}: {} {}",
                c.label,
                target,
                r.status,
                r.body
            );

            // Mint a token for a user holding `target`.
            let subject = if target == Role::Owner {
                t.owner_id.clone()
            } else {
                api.user_with_role(&t, target.as_str()).0
            };
            let r = api.call(
                Method::Post,
                "/v1/auth/token",
                Some(&c.bearer),
                Some(json!({"user_id": subject})),
            );
            let want = allowed(c, Permission::TokenIssue, target);
            assert_eq!(
                r.status == 200,
                want,
                "{} mints {:?}: {} {}",
                c.label,
                target,
                r.status,
                r.body
            );
            checked += 1;
        }

        // Changing an existing owner (demoting the original owner) needs owner authority.
        let r = api.call(
            Method::Patch,
            &format!("/v1/users/{}", t.owner_id),
            Some(&c.bearer),
            Some(json!({"name": "Renamed"})),
        );
        let want = allowed(c, Permission::UsersManage, Role::Owner);
        assert_eq!(
            r.status == 200,
            want,
            "{} edits the owner: {} {}",
            c.label,
            r.status,
            r.body
        );

        // Keys: only scopes the caller holds; `admin` only with every permission.
        for scope in known_scopes() {
            let r = api.call(
                Method::Post,
                "/v1/api-keys",
                Some(&c.bearer),
                Some(json!({"name": "k", "kind": "secret", "scopes": [scope]})),
            );
            let holds_scope = if scope == "admin" {
                Permission::ALL.iter().all(|p| (c.holds)(*p))
            } else {
                Permission::ALL
                    .iter()
                    .any(|p| p.scope() == scope && (c.holds)(*p))
            };
            let want = (c.holds)(Permission::KeysManage) && holds_scope;
            assert_eq!(
                r.status == 201,
                want,
                "{} creates a {scope} key: {} {}",
                c.label,
                r.status,
                r.body
            );
        }
    }
    assert!(checked >= callers.len() * 4);
    // The bundles behave as designed: an admin-level key grants admin but not owner.
    let admin_bundle = callers
        .iter()
        .find(|c| {
            c.scopes
                .as_ref()
                .is_some_and(|s| s.len() > 1 && !s.contains(&"keys:manage".to_string()))
        })
        .unwrap();
    assert_eq!(admin_bundle.ceiling, Some(Role::Admin));
}

#[test]
fn a_key_cannot_revoke_a_stronger_key() {
    let api = Api::new();
    let t = api.create_tenant("revoker", "pro", None);
    let weak = api.key_with_scopes(&t, &["keys:manage"]);
    let strong = api.key_with_scopes(&t, &["admin"]);
    let list = api.get("/v1/api-keys?limit=100", &t.secret_key);
    let strong_id = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| strong.starts_with(k["prefix"].as_str().unwrap()))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api.call(
        Method::Delete,
        &format!("/v1/api-keys/{strong_id}"),
        Some(&weak),
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(api.get("/v1/tenant", &strong).status, 200);
}
