//! What every channel does with a customer's inbound message: find the customer by their
//! address on that channel, append to their open conversation on that channel (or open one),
//! store the message idempotently under the provider's message id, and let the AI answer.

use crate::conversations::client::Conversation;
use crate::conversations::engine::{InitRequest, PostRequest, Posted};
use crate::conversations::model::{Channel, Participant};
use crate::conversations::{customers, mirror};
use crate::error::{ApiResult, ErrorCode};
use crate::ids::new_id;
use crate::platform::Platform;
use serde_json::Value;
use std::rc::Rc;

pub struct Inbound<'a> {
    pub tenant_id: &'a str,
    /// `sms`, `whatsapp`, `email` or `voice`.
    pub channel: Channel,
    /// Customer identity kind (`phone`, `whatsapp`, `email`) and address.
    pub kind: &'a str,
    pub address: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// The provider's id for the message: retries of the same webhook store nothing new.
    pub message_id: &'a str,
    pub text: &'a str,
    pub meta: Option<Value>,
    /// A known conversation to append to (email threads); else the customer's open one.
    pub conversation_id: Option<String>,
    /// An email's Message-ID, recorded for threading before the answer is sent (so the reply
    /// carries In-Reply-To).
    pub thread_message_id: Option<&'a str>,
    /// Whether the AI should answer (voice transcripts are answered by the voice agent itself).
    pub answer: bool,
    /// Files that came with the message, fetched and stored before it is posted.
    pub files: Vec<super::media::Remote>,
}

/// Opens a new conversation on the message's channel for `customer`.
async fn open_conversation(
    p: &Platform,
    m: &Inbound<'_>,
    customer: &customers::Customer,
) -> ApiResult<String> {
    let id = new_id(&*p.random, "cnv");
    Conversation::new(p, m.tenant_id, &id)
        .init(&InitRequest {
            tenant_id: m.tenant_id.into(),
            conversation_id: id.clone(),
            customer_id: customer.id.clone(),
            customer_name: customer
                .name
                .clone()
                .unwrap_or_else(|| m.address.to_string()),
            channel: m.channel,
            subject: m.subject.map(|s| s.chars().take(200).collect()),
            tags: Vec::new(),
            language: None,
        })
        .await?;
    Ok(id)
}

pub struct Delivered {
    pub conversation_id: String,
    pub posted: Posted,
}

/// Stores the message; the AI's answer runs in the background (after the webhook is
/// acknowledged on Cloudflare) and its reply leaves through the outbox.
pub async fn receive(p: &Rc<Platform>, m: Inbound<'_>) -> ApiResult<Delivered> {
    let db = p.db()?;
    let customer = customers::find_or_create(
        db,
        &*p.random,
        m.tenant_id,
        &customers::Identity {
            kind: m.kind,
            external_id: m.address,
            name: m.name,
            email: m.email,
            phone: m.phone,
        },
        p.now_ms(),
    )
    .await?;
    let conversation_id = match thread_for(p, &m, &customer).await? {
        Some(id) => id,
        None => open_conversation(p, &m, &customer).await?,
    };
    let post = with_files(p, &m, &conversation_id, &customer).await?;
    let (conversation_id, posted) = match Conversation::new(p, m.tenant_id, &conversation_id)
        .post(&post)
        .await
    {
        Ok(posted) => (conversation_id, posted),
        // A reply to a closed conversation starts a new one: refusing it would make the
        // provider retry until the message is dropped.
        Err(e) if e.code == ErrorCode::Conflict => {
            let id = open_conversation(p, &m, &customer).await?;
            let post = with_files(p, &m, &id, &customer).await?;
            let posted = Conversation::new(p, m.tenant_id, &id).post(&post).await?;
            (id, posted)
        }
        Err(e) => return Err(e),
    };
    if let Some(mid) = m.thread_message_id {
        super::resend::remember(db, m.tenant_id, mid, &conversation_id, p.now_ms()).await?;
    }
    // A message that is only files is not a question: it waits for a person.
    let bare_files = m.text.trim().is_empty() && !m.files.is_empty();
    if m.answer && !bare_files && !posted.ack.duplicate && posted.status.ai_answers() {
        answer_in_background(p, m.tenant_id, &conversation_id, posted.message.seq).await;
    }
    Ok(Delivered {
        conversation_id,
        posted,
    })
}

/// The conversation this message continues, if any. A thread named by the message's headers
/// counts only if it is this sender's own conversation on this channel: headers are chosen
/// by whoever writes the email. Otherwise the sender's open conversation on the channel.
async fn thread_for(
    p: &Platform,
    m: &Inbound<'_>,
    customer: &customers::Customer,
) -> ApiResult<Option<String>> {
    let db = p.db()?;
    if let Some(id) = m.conversation_id.as_deref() {
        match mirror::get(db, m.tenant_id, id).await {
            Ok(c) if c.customer_id == customer.id && c.channel == m.channel => {
                return Ok(Some(id.to_string()))
            }
            Ok(_) => {}
            Err(e) if e.code == ErrorCode::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    mirror::open_for_customer(db, m.tenant_id, &customer.id, m.channel).await
}

/// The customer's message as the conversation stores it: text capped (empty becomes a
/// placeholder so nothing is silently dropped), the provider's message id as the idempotency
/// key, printable ASCII only.
fn post_request(m: &Inbound<'_>, customer: &customers::Customer) -> PostRequest {
    let text: String = m
        .text
        .chars()
        .take(crate::conversations::protocol::MAX_TEXT_CHARS)
        .collect();
    let text = if text.trim().is_empty() {
        "(no text)".to_string()
    } else {
        text
    };
    let client_msg_id: String = m
        .message_id
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect();
    PostRequest {
        participant: Participant::Customer {
            id: customer.id.clone(),
            name: customer
                .name
                .clone()
                .unwrap_or_else(|| m.address.to_string()),
        },
        client_msg_id,
        text,
        meta: m.meta.clone(),
    }
}

/// The message to post, with its files fetched and stored for `conversation_id` first: the
/// attachments ride its `meta`, files that could not be taken are listed as `unfetched`, and a
/// message with no text is named by its files.
async fn with_files(
    p: &Platform,
    m: &Inbound<'_>,
    conversation_id: &str,
    customer: &customers::Customer,
) -> ApiResult<PostRequest> {
    let mut post = post_request(m, customer);
    if m.files.is_empty() {
        return Ok(post);
    }
    let author = post.participant.author();
    let taken = super::media::take(
        p,
        m.tenant_id,
        conversation_id,
        &author,
        &post.client_msg_id,
        &m.files,
    )
    .await?;
    let mut meta = match post.meta.take() {
        Some(Value::Object(o)) => o,
        _ => serde_json::Map::new(),
    };
    let attachments: Vec<_> = taken.files.iter().map(|f| f.attachment()).collect();
    meta.insert("attachments".into(), serde_json::json!(attachments));
    if !taken.missed.is_empty() {
        meta.insert("unfetched".into(), Value::Array(taken.missed));
    }
    if m.text.trim().is_empty() && !taken.files.is_empty() {
        post.text = crate::files::upload::caption_for(&taken.files);
    }
    post.meta = Some(Value::Object(meta));
    Ok(post)
}

/// The AI answers after the provider has its 200: webhooks must answer fast, and the reply
/// goes back out through the channel's outbound queue.
async fn answer_in_background(p: &Rc<Platform>, tenant_id: &str, conversation_id: &str, seq: i64) {
    let (p2, tenant_id, cid) = (
        p.clone(),
        tenant_id.to_string(),
        conversation_id.to_string(),
    );
    p.background
        .run(Box::pin(async move {
            let _ = Conversation::new(&p2, &tenant_id, &cid)
                .ai_answer(seq)
                .await;
            super::outbound::deliver_pending(&p2, &tenant_id, &cid).await;
        }))
        .await;
}
