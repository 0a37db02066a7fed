//! `GET /v1/openapi.json`: the OpenAPI 3.1 document, generated from the route table itself, so a
//! route cannot exist undocumented. Schemas come from the handlers' own request and response
//! types (schemars), so the document cannot drift from the code either.

use crate::auth::Access;
use crate::error::{ApiResult, ErrorCode};
use crate::http::{Request, Response};
use crate::router::{Ctx, Route};
use crate::version;
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

pub async fn get(_cx: &Ctx, _req: Request) -> ApiResult<Response> {
    Ok(Response::json(200, &document(super::TABLE)))
}

/// Builds the document for a route table.
pub fn document(routes: &[Route]) -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    let mut gen = settings.into_generator();
    let mut paths: Map<String, Value> = Map::new();
    for r in routes {
        let op = operation(r, &mut gen);
        let entry = paths
            .entry(r.template.to_string())
            .or_insert_with(|| json!({}));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert(r.method.as_str().to_ascii_lowercase(), op);
        }
    }
    let webhooks = outgoing_webhooks(&mut gen);
    let mut schemas: Map<String, Value> = gen.take_definitions(true).into_iter().collect();
    schemas.insert("Error".into(), error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "PrismAI Edge API",
            "version": version::VERSION,
            "description": "AI customer service at the edge. Every error is a JSON envelope {error:{code,message,request_id,field?}} with a stable code."
        },
        "servers": [{ "url": "/" }],
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "platformAdmin": { "type": "http", "scheme": "bearer", "description": "The platform admin secret." },
                "secretKey": { "type": "http", "scheme": "bearer", "description": "A tenant secret key (sk_…) with the needed scope." },
                "agentToken": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "An agent JWT from POST /v1/auth/token." },
                "widgetKey": { "type": "apiKey", "in": "query", "name": "key", "description": "A tenant public widget key (pk_…), from an allowed origin." },
                "conversationToken": { "type": "apiKey", "in": "query", "name": "token", "description": "A customer's conversation token (from POST /v1/conversations), also accepted as a Bearer header or a `bearer.<token>` WebSocket subprotocol." }
            }
        }
    })
}

/// The event catalogue of outgoing webhooks: what a tenant's endpoint receives, and how it is
/// signed (OpenAPI 3.1 `webhooks`).
fn outgoing_webhooks(gen: &mut schemars::SchemaGenerator) -> Map<String, Value> {
    use crate::outgoing::events::{EventPayload, EventType, LeadEventData, SurveyEventData};
    let conversation_payload = gen.subschema_for::<EventPayload>();
    let lead_payload = gen.subschema_for::<EventPayload<LeadEventData>>();
    let survey_payload = gen.subschema_for::<EventPayload<SurveyEventData>>();
    let header = |name: &str, doc: &str| json!({ "name": name, "in": "header", "required": true, "schema": { "type": "string" }, "description": doc });
    EventType::ALL
        .iter()
        .map(|t| {
            let payload = if t.is_lead() {
                &lead_payload
            } else if *t == EventType::SurveyResponded {
                &survey_payload
            } else {
                &conversation_payload
            };
            let op = json!({ "post": {
                "operationId": format!("webhook_{}", t.as_str().replace('.', "_")),
                "summary": t.description(),
                "tags": ["webhooks"],
                "parameters": [
                    header("webhook-id", "The event's id, the same on every attempt: deduplicate on it."),
                    header("webhook-timestamp", "Seconds since the epoch when this attempt was signed."),
                    header("webhook-signature", "Space-separated `v1,<base64 HMAC-SHA256>` over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the endpoint secret's base64 after `whsec_` (Standard Webhooks). After a rotation the previous secret signs too for 24 hours."),
                ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": payload } } },
                "responses": { "2XX": { "description": "Received. Any other answer, or none within 15 s, is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h." } }
            }});
            (t.as_str().to_string(), op)
        })
        .collect()
}

fn operation(r: &Route, gen: &mut schemars::SchemaGenerator) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(operation_id(r)));
    op.insert("summary".into(), json!(r.summary));
    op.insert("tags".into(), json!([r.tag]));
    let (security, scope) = match r.access {
        Access::Public | Access::SelfAuthenticated => (json!([]), None),
        Access::Platform => (json!([{ "platformAdmin": [] }]), None),
        Access::Conversation(p) => (
            json!([{ "conversationToken": [] }, { "secretKey": [] }, { "agentToken": [] }]),
            Some(p),
        ),
        Access::Customer => (json!([{ "conversationToken": [] }]), None),
        Access::Tenant(p) => {
            let mut s = vec![json!({ "secretKey": [] }), json!({ "agentToken": [] })];
            if p.allowed_for_public_key() {
                s.push(json!({ "widgetKey": [] }));
            }
            (Value::Array(s), Some(p))
        }
    };
    op.insert("security".into(), security);
    if let Some(p) = scope {
        op.insert("x-required-scope".into(), json!(p.scope()));
        op.insert("x-min-role".into(), json!(p.min_role().as_str()));
    }
    let mut params: Vec<Value> = r
        .template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    params.extend(r.query_params().map(|q| {
        json!({ "name": q.name, "in": "query", "required": false, "description": q.doc, "schema": q.schema() })
    }));
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if r.template == "/v1/conversations/{conversation_id}/files"
        || r.template == "/v1/knowledge/files"
    {
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "description": "The file's bytes (its type is read from them; the Content-Type is not trusted)", "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } }, "*/*": { "schema": { "type": "string", "format": "binary" } } } }),
        );
    }
    if let Some(req) = r.request {
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": req(gen) } } }),
        );
    }
    let mut responses = Map::new();
    let ok = match r.response {
        Some(resp) => {
            json!({ "description": "Success", "content": { "application/json": { "schema": resp(gen) } } })
        }
        None if r.template == "/v1/leads/export" => {
            json!({ "description": "CSV (RFC 4180), one row per lead", "content": { "text/csv": { "schema": { "type": "string" } } } })
        }
        None if r.template == "/v1/surveys/responses/export" => {
            json!({ "description": "CSV (RFC 4180), one row per answered survey", "content": { "text/csv": { "schema": { "type": "string" } } } })
        }
        None if r.template == "/v1/analytics/export" => {
            json!({ "description": "CSV (RFC 4180), the chosen report's table", "content": { "text/csv": { "schema": { "type": "string" } } } })
        }
        None if r.template == "/v1/files/{file_id}" => {
            json!({ "description": "The file's bytes, with its checked type; `Content-Disposition: attachment` for anything but an image", "content": { "*/*": { "schema": { "type": "string", "format": "binary" } } } })
        }
        None if r.template == "/survey" => {
            json!({ "description": "An HTML page", "content": { "text/html": { "schema": { "type": "string" } } } })
        }
        None => json!({ "description": "Success" }),
    };
    // Sends that are safe to retry answer a repeat of an `Idempotency-Key` with the original.
    if r.success == 201
        && matches!(
            r.template,
            "/v1/conversations/{conversation_id}/messages"
                | "/v1/conversations/{conversation_id}/files"
        )
    {
        let mut again = ok.clone();
        again["description"] =
            json!("A retry with the same Idempotency-Key: the original message (`ack.duplicate` is true); nothing is stored again");
        responses.insert("200".into(), again);
    }
    responses.insert(r.success.to_string(), ok);
    if r.tag == "web" {
        // Static assets carry an ETag.
        responses.insert(
            "304".into(),
            json!({ "description": "Not modified (the If-None-Match ETag matches)" }),
        );
    }
    for code in error_codes(r) {
        let status = code.status().to_string();
        let entry = responses
            .entry(status)
            .or_insert_with(|| json!({ "description": "", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }, "x-error-codes": [] }));
        if let Some(codes) = entry.get_mut("x-error-codes").and_then(Value::as_array_mut) {
            codes.push(json!(code.as_str()));
        }
        // The survey page answers what its handler decides as a page a person can read;
        // what the pipeline refuses before it (limits, bad query) stays a JSON envelope.
        if r.template == "/survey" {
            if let Some(content) = entry.get_mut("content").and_then(Value::as_object_mut) {
                content.insert(
                    "text/html".into(),
                    json!({ "schema": { "type": "string" } }),
                );
            }
        }
        if let Some(d) = entry.get_mut("description") {
            let joined = entry_codes(d, code);
            *d = json!(joined);
        }
    }
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

fn entry_codes(desc: &Value, code: ErrorCode) -> String {
    match desc.as_str() {
        Some("") | None => format!("Error: {}", code.as_str()),
        Some(d) => format!("{d}, {}", code.as_str()),
    }
}

/// The error codes a route can answer with: those its shape implies (body, path, query,
/// access, WebSocket) and those its handler declares. Long on purpose: one flat rule per shape,
/// read as a table; splitting it would hide which rule adds which code.
pub fn error_codes(r: &Route) -> Vec<ErrorCode> {
    use ErrorCode::*;
    let mut codes = vec![Internal, StorageError, BindingMissing, PayloadTooLarge];
    if r.request.is_some() {
        codes.extend([
            InvalidJson,
            BadRequest,
            ValidationFailed,
            UnsupportedMediaType,
        ]);
    }
    if r.template.contains('{') {
        codes.push(NotFound);
    }
    if r.query_params().next().is_some() {
        codes.push(ValidationFailed);
    }
    if r.success == 101 {
        codes.extend([UpgradeRequired, NotSupported]);
    }
    match r.access {
        Access::Public => {}
        // Webhooks: signatures, unconfigured or unknown tenants, bodies, budgets.
        Access::SelfAuthenticated => codes.extend([
            InvalidSignature,
            Forbidden,
            BadRequest,
            InvalidJson,
            ValidationFailed,
            RateLimited,
        ]),
        Access::Platform => codes.extend([Unauthorized, InvalidToken]),
        // 409: the tenant's settings changed twice during the request.
        Access::Tenant(_) | Access::Conversation(_) | Access::Customer => codes.extend([
            Unauthorized,
            InvalidToken,
            TokenExpired,
            Forbidden,
            RateLimited,
            Conflict,
        ]),
    }
    codes.extend(r.errors.iter().copied());
    let mut seen = Vec::new();
    codes.retain(|c| {
        let new = !seen.contains(c);
        seen.push(*c);
        new
    });
    codes
}

fn operation_id(r: &Route) -> String {
    let mut id = r.method.as_str().to_ascii_lowercase();
    for seg in r
        .template
        .split('/')
        .filter(|s| !s.is_empty() && *s != "v1")
    {
        let seg = seg.trim_start_matches('{').trim_end_matches('}');
        id.push('_');
        id.push_str(&seg.replace(['-', '.'], "_"));
    }
    id
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "request_id"],
                "properties": {
                    "code": { "type": "string", "enum": ErrorCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>() },
                    "message": { "type": "string" },
                    "request_id": { "type": "string" },
                    "field": { "type": "string", "description": "Path of the offending input field." }
                }
            }
        }
    })
}
