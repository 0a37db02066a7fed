//! Files in conversations (issue 20): checked by their bytes, stored, posted as messages,
//! downloaded through short-lived links that open only the file they name.

mod common;

use common::{Api, Reply, TestTenant};
use prism_core::http::{Method, Request};
use serde_json::{json, Value};

/// A 3×2 PNG (header only: enough for the type and the size).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x9d, 0x2d, 0x66, 0x54,
];
pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn upload(api: &Api, conv: &str, bearer: &str, key: &str, query: &str, bytes: &[u8]) -> Reply {
    let req = Request::new(
        Method::Post,
        &format!("https://api.test/v1/conversations/{conv}/files?{query}"),
    )
    .with_header("authorization", &format!("Bearer {bearer}"))
    .with_header("content-type", "application/octet-stream")
    .with_header("idempotency-key", key)
    .with_body(bytes.to_vec());
    api.send(req)
}

/// The download a link's URL opens (its path and query on the test host).
fn open(api: &Api, url: &str) -> Reply {
    let path = url.split_once("/v1/").map(|(_, p)| p).unwrap();
    api.send(Request::new(
        Method::Get,
        &format!("https://api.test/v1/{path}"),
    ))
}

fn setup(tier: &str) -> (Api, TestTenant, String, String) {
    let api = Api::new();
    let t = api.create_tenant("files", tier, None);
    let (conv, token, _) = api.start_conversation(&t, json!({"name": "Ana"}));
    (api, t, conv, token)
}

#[test]
fn a_customer_sends_an_image_and_the_agent_opens_it_through_a_link() {
    let (api, t, conv, token) = setup("pro");
    let r = upload(
        &api,
        &conv,
        &token,
        "img-1",
        "name=C%3A%5Cfakepath%5Cbroken%20box.exe",
        PNG,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let a = &r.body["message"]["meta"]["attachments"][0];
    assert_eq!(a["kind"], "image");
    assert_eq!(a["content_type"], "image/png");
    assert_eq!(
        a["name"], "broken box.png",
        "the bytes decide the extension"
    );
    assert_eq!(
        (a["width"].as_i64(), a["height"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(a["size"], PNG.len());
    assert_eq!(r.body["message"]["author"]["type"], "customer");
    assert_eq!(r.body["message"]["text"], "🖼 broken box.png");
    let file_id = a["id"].as_str().unwrap().to_string();

    // A retry stores nothing twice and answers with the original message.
    let again = upload(&api, &conv, &token, "img-1", "name=other.png", PNG);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["ack"]["duplicate"], true);
    assert_eq!(again.body["message"]["seq"], r.body["message"]["seq"]);
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM files"), 1);

    // The history carries the attachment to every participant.
    let h = api.get(&format!("/v1/conversations/{conv}/messages"), &t.secret_key);
    assert_eq!(
        h.body["messages"][0]["meta"]["attachments"][0]["id"],
        file_id.as_str()
    );

    // The agent (secret key here) asks for a link and opens it without a credential.
    let link = api.get(
        &format!("/v1/conversations/{conv}/files/{file_id}"),
        &t.secret_key,
    );
    assert_eq!(link.status, 200, "{}", link.body);
    assert_eq!(link.body["inline"], true);
    let url = link.body["url"].as_str().unwrap();
    assert!(url.starts_with("https://api.test/v1/files/"), "{url}");
    let got = open(&api, url);
    assert_eq!(got.status, 200);
    assert_eq!(got.resp.body.as_bytes(), PNG);
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert!(got
        .header("content-disposition")
        .unwrap()
        .starts_with("inline; filename=\"broken box.png\""));
    assert_eq!(
        got.header("cross-origin-resource-policy"),
        Some("cross-origin")
    );
    assert!(got
        .header("content-security-policy")
        .unwrap()
        .contains("sandbox"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));

    // The customer gets links too.
    let mine = api.get(&format!("/v1/conversations/{conv}/files/{file_id}"), &token);
    assert_eq!(mine.status, 200, "{}", mine.body);
}

#[test]
fn documents_download_as_attachments_and_a_caption_is_a_question() {
    let (api, t, conv, token) = setup("pro");
    let r = upload(
        &api,
        &conv,
        &token,
        "pdf-1",
        "name=invoice.pdf&caption=Is%20this%20invoice%20right%3F",
        PDF,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["message"]["text"], "Is this invoice right?");
    let a = &r.body["message"]["meta"]["attachments"][0];
    assert_eq!(
        (a["kind"].as_str(), a["name"].as_str()),
        (Some("pdf"), Some("invoice.pdf"))
    );
    // The caption was answered (the AI replied after the customer's message).
    let h = api.get(&format!("/v1/conversations/{conv}/messages"), &t.secret_key);
    let authors: Vec<&str> = h.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(authors.first(), Some(&"customer"));
    assert!(authors.contains(&"ai"), "{authors:?}");

    // A bare file is not a question: nothing answers it.
    let before = authors.len();
    let text = upload(
        &api,
        &conv,
        &token,
        "txt-1",
        "name=notes.csv",
        b"order,qty\n1,2\n",
    );
    assert_eq!(text.status, 201, "{}", text.body);
    assert_eq!(
        text.body["message"]["meta"]["attachments"][0]["content_type"],
        "text/csv; charset=utf-8"
    );
    let h = api.get(&format!("/v1/conversations/{conv}/messages"), &t.secret_key);
    assert_eq!(h.body["messages"].as_array().unwrap().len(), before + 1);

    let id = a["id"].as_str().unwrap();
    let link = api.get(&format!("/v1/conversations/{conv}/files/{id}"), &token);
    assert_eq!(link.body["inline"], false);
    let got = open(&api, link.body["url"].as_str().unwrap());
    assert_eq!(got.status, 200);
    assert_eq!(got.resp.body.as_bytes(), PDF);
    assert!(got
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment; filename=\"invoice.pdf\""));

    // An agent's file is theirs.
    let (_, agent) = api.user_with_role(&t, "agent");
    let r = upload(&api, &conv, &agent, "agent-pdf", "name=label.pdf", PDF);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["message"]["author"]["type"], "agent");
}

#[test]
fn what_is_not_on_the_allow_list_or_over_the_plan_is_refused_and_nothing_is_stored() {
    let (api, _t, conv, token) = setup("free");
    for (key, name, bytes, code) in [
        (
            "svg",
            "a.svg",
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
            "unsupported_media_type",
        ),
        (
            "html",
            "a.txt",
            b"  <html><script>alert(1)</script>",
            "unsupported_media_type",
        ),
        (
            "exe",
            "a.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
            "unsupported_media_type",
        ),
        (
            "zip",
            "a.zip",
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00\x00\x00",
            "unsupported_media_type",
        ),
        ("empty", "a.txt", b"", "validation_failed"),
    ] {
        let r = upload(&api, &conv, &token, key, &format!("name={name}"), bytes);
        assert_eq!(r.code(), code, "{name}: {}", r.body);
    }
    // Free plan: 5 MiB per file.
    let mut big = PDF.to_vec();
    big.resize(6 * 1024 * 1024, b' ');
    let r = upload(&api, &conv, &token, "big", "name=big.pdf", &big);
    assert_eq!(
        (r.status, r.code()),
        (413, "payload_too_large"),
        "{}",
        r.body
    );
    // Over the route's cap (any plan): refused by the declared length before anything runs.
    let req = Request::new(
        Method::Post,
        &format!("https://api.test/v1/conversations/{conv}/files?name=x.pdf"),
    )
    .with_header("authorization", &format!("Bearer {token}"))
    .with_header("idempotency-key", "huge")
    .with_header("content-length", "1000000000");
    assert_eq!(api.send(req).status, 413);
    // No key: refused before storing.
    let req = Request::new(
        Method::Post,
        &format!("https://api.test/v1/conversations/{conv}/files"),
    )
    .with_header("authorization", &format!("Bearer {token}"))
    .with_body(PNG.to_vec());
    assert_eq!(api.send(req).code(), "validation_failed");
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM files"), 0);
    let h = api.get(&format!("/v1/conversations/{conv}/messages"), &token);
    assert_eq!(h.body["messages"].as_array().unwrap().len(), 0);
}

#[test]
fn storage_per_tenant_is_bounded() {
    let api = Api::new();
    let t = api.create_tenant("quota", "free", None);
    let (conv, token, _) = api.start_conversation(&t, json!({}));
    // Free: 500 MiB in all. Pretend most of it is used.
    use prism_core::ports::SqlDatabase;
    futures::executor::block_on(api.rig.db.execute(
        "INSERT INTO files (id, tenant_id, conversation_id, storage_key, name, content_type, kind, size, sha256, uploaded_by_type, uploaded_by_id, source, created_at) VALUES ('fil_x', ?1, ?2, 'k', 'n', 'application/pdf', 'pdf', ?3, '', 'customer', 'c', 'upload', 0)",
        &[t.id.as_str().into(), conv.as_str().into(), (500i64 * 1024 * 1024 - 10).into()],
    ))
    .unwrap();
    let r = upload(&api, &conv, &token, "one", "name=a.png", PNG);
    assert_eq!(r.code(), "quota_exceeded", "{}", r.body);
}

#[test]
fn links_open_only_their_file_for_a_while_and_only_participants_get_them() {
    let (api, t, conv, token) = setup("pro");
    let a = upload(&api, &conv, &token, "a", "name=a.png", PNG);
    let b = upload(&api, &conv, &token, "b", "name=b.pdf", PDF);
    let (fa, fb) = (
        a.body["message"]["meta"]["attachments"][0]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        b.body["message"]["meta"]["attachments"][0]["id"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    // Another customer of the same tenant, and another tenant's agent, get nothing.
    let (other_conv, other_token, _) = api.start_conversation(&t, json!({"name": "Eve"}));
    assert_eq!(
        api.get(
            &format!("/v1/conversations/{conv}/files/{fa}"),
            &other_token
        )
        .status,
        404
    );
    assert_eq!(
        api.get(
            &format!("/v1/conversations/{other_conv}/files/{fa}"),
            &other_token
        )
        .status,
        404
    );
    let t2 = api.create_tenant("other", "pro", None);
    assert_eq!(
        api.get(
            &format!("/v1/conversations/{conv}/files/{fa}"),
            &t2.secret_key
        )
        .status,
        404
    );
    // Nor can a customer upload into someone else's conversation.
    assert_eq!(
        upload(&api, &conv, &other_token, "x", "name=x.png", PNG).status,
        404
    );

    let link = api.get(&format!("/v1/conversations/{conv}/files/{fa}"), &token);
    let url = link.body["url"].as_str().unwrap().to_string();
    // The token opens its own file only.
    let swapped = url.replace(&fa, &fb);
    assert_eq!(open(&api, &swapped).code(), "invalid_token");
    // A changed signature fails.
    let mut tampered = url.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(open(&api, &tampered).code(), "invalid_token");
    assert_eq!(
        open(&api, &format!("https://api.test/v1/files/{fa}")).code(),
        "invalid_token"
    );
    // It works now, and not after ten minutes.
    assert_eq!(open(&api, &url).status, 200);
    api.rig.clock.advance(10 * 60 * 1000 + 1);
    let late = open(&api, &url);
    assert_eq!(
        (late.status, late.code()),
        (401, "token_expired"),
        "{}",
        late.body
    );
    // A closed conversation takes no more files.
    let r = api.call(
        Method::Post,
        &format!("/v1/conversations/{conv}/status"),
        Some(&t.secret_key),
        Some(json!({"status": "closed"})),
    );
    assert!(r.status < 300, "{}", r.body);
    assert_eq!(
        upload(&api, &conv, &t.secret_key, "late", "name=c.png", PNG).status,
        409
    );
}

#[test]
fn erasing_the_customer_deletes_their_files_and_old_links_die() {
    let (api, t, conv, token) = setup("pro");
    let r = upload(&api, &conv, &token, "a", "name=passport.png", PNG);
    let fid = r.body["message"]["meta"]["attachments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = api.get(
        &format!("/v1/conversations/{conv}/files/{fid}"),
        &t.secret_key,
    );
    let url = link.body["url"].as_str().unwrap().to_string();
    let customer = api
        .get(&format!("/v1/conversations/{conv}"), &t.secret_key)
        .body["customer_id"]
        .as_str()
        .map(String::from)
        .or_else(|| {
            api.get(&format!("/v1/conversations/{conv}"), &t.secret_key)
                .body["conversation"]["customer_id"]
                .as_str()
                .map(String::from)
        })
        .unwrap();
    let e = api.call(
        Method::Post,
        &format!("/v1/customers/{customer}/erase"),
        Some(&t.secret_key),
        None,
    );
    assert_eq!(e.status, 200, "{}", e.body);
    assert_eq!(api.count("SELECT COUNT(*) AS n FROM files"), 0);
    assert_eq!(open(&api, &url).status, 404, "the bytes are gone");
    // And the message no longer names the file.
    let h = api.get(&format!("/v1/conversations/{conv}/messages"), &t.secret_key);
    assert!(h.body["messages"][0]["meta"].is_null(), "{}", h.body);
}

#[test]
fn a_photo_with_a_question_reaches_gemini_as_inline_image_data() {
    use prism_core::testing::ScriptedHttp;
    let (api, t, conv, token) = setup("pro");
    let http = ScriptedHttp::new(|req, _| {
        assert!(req.path.ends_with(":streamGenerateContent"), "{}", req.path);
        common::gemini_reply(
            "The box in your photo is dented; I am sorry. A replacement is on its way.",
        )
    });
    api.use_gemini(&t, http.clone());
    let r = upload(
        &api,
        &conv,
        &token,
        "photo",
        "name=box.png&caption=My%20parcel%20arrived%20like%20this%2C%20what%20now%3F",
        PNG,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let calls = http.calls.borrow();
    let chat = calls
        .iter()
        .find(|c| c.path.ends_with(":streamGenerateContent"))
        .expect("gemini asked");
    let body: Value = serde_json::from_slice(&chat.body).unwrap();
    let parts = body["contents"].as_array().unwrap().last().unwrap()["parts"].clone();
    assert!(parts[0]["text"]
        .as_str()
        .unwrap()
        .contains("My parcel arrived like this"));
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(PNG);
    assert_eq!(
        parts[1]["inline_data"],
        json!({"mime_type": "image/png", "data": data})
    );
    drop(calls);
    // The answer despite no knowledge-base passage about parcels (an image is not judged by
    // retrieval confidence).
    let h = api.get(&format!("/v1/conversations/{conv}/messages"), &t.secret_key);
    let last = h.body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["author"]["type"], "ai", "{}", h.body);
    assert!(last["text"].as_str().unwrap().contains("dented"));
}

#[test]
fn a_pdf_becomes_a_knowledge_base_document_that_answers() {
    let (api, t, _, _) = setup("pro");
    let pdf =
        prism_core::testing::pdf_saying("Gift cards never expire and can be used in every shop.");
    let req = Request::new(
        Method::Post,
        "https://api.test/v1/knowledge/files?name=Gift%20cards.pdf",
    )
    .with_header("authorization", &format!("Bearer {}", t.secret_key))
    .with_body(pdf);
    let r = api.send(req);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["title"], "Gift cards");
    let s = api.get(
        "/v1/knowledge/search?q=do%20gift%20cards%20expire",
        &t.secret_key,
    );
    assert_eq!(s.status, 200, "{}", s.body);
    assert!(s.body.to_string().contains("never expire"), "{}", s.body);
    // Not text: a clear error, nothing stored.
    let req = Request::new(
        Method::Post,
        "https://api.test/v1/knowledge/files?name=x.png",
    )
    .with_header("authorization", &format!("Bearer {}", t.secret_key))
    .with_body(PNG.to_vec());
    assert_eq!(api.send(req).code(), "unsupported_media_type");
    // A scoped key without knowledge:write cannot.
    let reader = api.key_with_scopes(&t, &["knowledge:read"]);
    let req = Request::new(
        Method::Post,
        "https://api.test/v1/knowledge/files?name=a.txt",
    )
    .with_header("authorization", &format!("Bearer {reader}"))
    .with_body(b"hello".to_vec());
    assert_eq!(api.send(req).status, 403);
}
