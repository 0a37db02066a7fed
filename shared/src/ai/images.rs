//! The images a customer sent with a question, as input for a model that sees images. Bounded:
//! a few images, each small enough to travel inline in one request.

use super::providers::InlineImage;
use crate::conversations::protocol::MessageView;
use crate::files::sniff::FileKind;
use crate::files::store;
use crate::platform::Platform;
use serde_json::Value;

/// Images per question sent to the model.
const MAX_IMAGES: usize = 3;
/// Largest image sent inline (Gemini takes inline data up to 20 MB per request in all).
const MAX_IMAGE_BYTES: i64 = 4 * 1024 * 1024;

/// The question's images from the store (its own conversation's files only). A file that
/// cannot be read is left out: the text still names it.
pub async fn of_question(
    p: &Platform,
    tenant_id: &str,
    question: &MessageView,
) -> Vec<InlineImage> {
    use base64::Engine;
    let ids: Vec<String> = question
        .meta
        .as_ref()
        .and_then(|m| m.get("attachments"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("kind").and_then(Value::as_str) == Some("image"))
        .filter_map(|a| a.get("id").and_then(Value::as_str).map(String::from))
        .take(MAX_IMAGES)
        .collect();
    let (Ok(db), Ok(blobs)) = (p.db(), p.blobs()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for id in ids {
        let Ok(Some(f)) = store::get(db, tenant_id, &id).await else {
            continue;
        };
        if f.kind != FileKind::Image || f.size > MAX_IMAGE_BYTES {
            continue;
        }
        if let Ok(Some(bytes)) = blobs.get(&f.storage_key).await {
            out.push(InlineImage {
                mime_type: f.content_type.clone(),
                data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            });
        }
    }
    out
}
