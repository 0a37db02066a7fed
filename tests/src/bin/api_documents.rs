//! Writes the API's OpenAPI and AsyncAPI documents (as the server generates them) to a folder:
//! the TypeScript client is generated from these, and `scripts/test` checks the committed copies
//! are current.
//!
//! `cargo run -p prism-e2e --bin api_documents -- clients/typescript`

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let openapi = prism_core::routes::openapi::document(prism_core::routes::TABLE);
    let asyncapi = prism_core::routes::asyncapi::document();
    for (name, doc) in [("openapi.json", openapi), ("asyncapi.json", asyncapi)] {
        let path = std::path::Path::new(&dir).join(name);
        let text = serde_json::to_string_pretty(&doc).expect("document serialises") + "\n";
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}
