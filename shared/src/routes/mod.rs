//! The route table: one module per API resource, each owning its handlers and validation. The
//! table is the single source for routing, access control, body limits and the OpenAPI document.

mod analytics;
mod assets;
pub mod asyncapi;
mod audit_logs;
mod auth_tokens;
mod canned;
mod conversations;
mod crm;
mod customers;
mod diag;
mod echo;
mod files;
mod health;
mod inbox;
mod keys;
mod knowledge;
mod leads;
mod meta;
pub mod openapi;
mod outgoing_webhooks;
mod platform;
mod privacy;
mod quality;
mod ratings;
mod search;
mod sign_in;
mod summaries;
mod surveys;
mod tenant;
mod translate;
mod users;
mod voice;
mod webhooks;
mod widget;

use crate::auth::{Access, Permission as P};
use crate::error::ErrorCode as E;
use crate::handler;
use crate::http::Method::{Delete, Get, Patch, Post, Put};
use crate::pagination::Page;
use crate::router::QueryParam;
use crate::router::Route;

/// Diagnostics answer 404 when switched off, and check their own inputs.
const DIAG_ERRORS: &[E] = &[
    E::NotFound,
    E::ValidationFailed,
    E::BadRequest,
    E::InvalidJson,
];

/// Every route the platform serves, on every runtime.
pub static TABLE: &[Route] = &[
    // --- platform-wide, no credentials ---
    Route::new(Get, "/health", handler!(health::get))
        .query(&[QueryParam::one_of(
            "deep",
            &["1"],
            "1: probe D1, KV, each Durable Object namespace, the queue and the providers, with latencies (platform admin)",
        )])
        .errors(&[E::Unauthorized, E::InvalidToken])
        .summary("system", "Liveness, version and configured bindings; with deep=1 (platform admin) a probe of every dependency")
        .response::<serde_json::Value>(),
    Route::new(Get, "/v1/meta", handler!(meta::get))
        .summary("system", "API version and serving runtime")
        .response::<serde_json::Value>(),
    Route::new(Get, "/v1/openapi.json", handler!(openapi::get))
        .summary("system", "This OpenAPI document")
        .response::<serde_json::Value>(),
    Route::new(Get, "/v1/asyncapi.json", handler!(asyncapi::get))
        .summary(
            "system",
            "The live protocol (WebSocket frames) as an AsyncAPI 3.0 document",
        )
        .response::<serde_json::Value>(),
    Route::new(Get, "/v1/echo/{room}", handler!(echo::connect))
        .errors(&[E::ValidationFailed])
        .summary(
            "system",
            "WebSocket echo/broadcast room (proves live objects end to end)",
        )
        .success(101),
    Route::new(Get, "/v1/diag/kv/{key}", handler!(diag::kv_get))
        .errors(DIAG_ERRORS)
        .summary(
            "diagnostics",
            "Read a key-value entry (only when diagnostics are enabled)",
        ),
    Route::new(Put, "/v1/diag/kv/{key}", handler!(diag::kv_put))
        .errors(DIAG_ERRORS)
        .summary(
            "diagnostics",
            "Write a key-value entry (only when diagnostics are enabled)",
        )
        .success(204),
    Route::new(Post, "/v1/diag/notes", handler!(diag::note_create))
        .errors(DIAG_ERRORS)
        .summary(
            "diagnostics",
            "Insert a row into the SQL database (only when diagnostics are enabled)",
        )
        .success(201),
    Route::new(Get, "/v1/diag/notes/{id}", handler!(diag::note_get))
        .errors(DIAG_ERRORS)
        .summary(
            "diagnostics",
            "Read a row back from the SQL database (only when diagnostics are enabled)",
        ),
    Route::new(Get, "/v1/diag/bench/vectors", handler!(diag::bench_vectors))
        .errors(DIAG_ERRORS)
        .query(&[
            QueryParam::int("n", 0, 100_000, "Vectors in the index"),
            QueryParam::int("searches", 0, 10_000, "Searches to run"),
            QueryParam::one_of("recall", &["0", "1"], "1 also measures recall@5"),
        ])
        .summary(
            "diagnostics",
            "Benchmark: vector searches inside the runtime (only when diagnostics are enabled)",
        )
        .response::<serde_json::Value>(),
    Route::new(Get, "/v1/diag/bench/gate", handler!(diag::bench_gate))
        .errors(DIAG_ERRORS)
        .query(&[
            QueryParam::int("n", 0, 10_000, "Sequential checks to run"),
            QueryParam::text("shard", 64, "Which gate object"),
        ])
        .summary(
            "diagnostics",
            "Benchmark: sequential rate-limit checks (only when diagnostics are enabled)",
        )
        .response::<serde_json::Value>(),
    Route::new(Get, "/v1/diag/gate", handler!(diag::gate_meta))
        .errors(DIAG_ERRORS)
        .tenant(P::UsageRead)
        .summary(
            "diagnostics",
            "The tenant gate's check count (only when diagnostics are enabled)",
        )
        .response::<serde_json::Value>(),
    Route::new(Post, "/v1/diag/bench/analytics", handler!(diag::bench_analytics))
        .tenant(P::ConfigWrite)
        .errors(DIAG_ERRORS)
        .query(&[QueryParam::int("n", 1, 200_000, "Conversations to seed")])
        .summary(
            "diagnostics",
            "Benchmark: bulk-seed conversations into the caller's tenant and rebuild its analytics (only when diagnostics are enabled)",
        )
        .response::<serde_json::Value>(),
    // --- web: widget, agent console, demo page ---
    Route::new(Get, "/widget.js", handler!(assets::widget)).summary(
        "web",
        "The chat widget script (one <script data-key=pk_…> tag)",
    ),
    Route::new(Get, "/console", handler!(assets::console)).summary("web", "The agent console"),
    Route::new(Get, "/console.js", handler!(assets::console_js))
        .summary("web", "Agent console script"),
    Route::new(Get, "/console.css", handler!(assets::console_css))
        .summary("web", "Agent console styles"),
    Route::new(Get, "/demo", handler!(assets::demo))
        .summary("web", "Demo shop page embedding the widget (?key=pk_…)"),
    Route::new(Get, "/demo.js", handler!(assets::demo_js)).summary("web", "Demo page script"),
    // --- platform administration ---
    Route::new(Post, "/v1/platform/tenants", handler!(platform::create))
        .errors(&[E::Conflict])
        .access(Access::Platform)
        .summary("platform", "Create a tenant with its owner and first keys")
        .request::<platform::CreateTenant>()
        .response::<platform::TenantCreated>()
        .success(201),
    Route::new(Get, "/v1/platform/tenants", handler!(platform::list))
        .paged(&[])
        .access(Access::Platform)
        .summary("platform", "List tenants")
        .response::<Page<crate::tenancy::Tenant>>(),
    Route::new(
        Get,
        "/v1/platform/tenants/{tenant_id}",
        handler!(platform::get),
    )
    .access(Access::Platform)
    .summary("platform", "Get a tenant")
    .response::<crate::tenancy::Tenant>(),
    Route::new(
        Patch,
        "/v1/platform/tenants/{tenant_id}",
        handler!(platform::update),
    )
    .access(Access::Platform)
    .summary("platform", "Change a tenant's name, tier, status or limits")
    .request::<platform::UpdateTenant>()
    .response::<crate::tenancy::Tenant>(),
    Route::new(
        Post,
        "/v1/platform/outbound/sweep",
        handler!(webhooks::sweep),
    )
    .access(Access::Platform)
    .summary(
        "platform",
        "Re-dispatch due outbound sends and webhook deliveries, send delayed surveys and apply retention periods (Cloudflare runs this from its cron trigger)",
    )
    .response::<serde_json::Value>(),
    Route::new(
        Post,
        "/v1/platform/secrets/rotate",
        handler!(platform::rotate_secrets),
    )
    .access(Access::Platform)
    .summary(
        "platform",
        "Re-wrap tenant secrets under the first SECRETS_MASTER_KEYS key (call until more is false)",
    )
    .response::<platform::Rotated>(),
    // --- provider webhooks (each verifies its own signature on the raw body) ---
    Route::new(
        Post,
        "/v1/webhooks/twilio/{tenant_id}",
        handler!(webhooks::twilio),
    )
    .access(Access::SelfAuthenticated)
    .summary(
        "webhooks",
        "Twilio SMS/WhatsApp inbound messages and status callbacks (X-Twilio-Signature)",
    ),
    Route::new(
        Post,
        "/v1/webhooks/resend/{tenant_id}",
        handler!(webhooks::resend),
    )
    .access(Access::SelfAuthenticated)
    .body_limit(256 * 1024)
    .summary(
        "webhooks",
        "Resend inbound email and delivery events (Svix signatures)",
    ),
    Route::new(
        Post,
        "/v1/webhooks/vapi/{tenant_id}",
        handler!(webhooks::vapi),
    )
    .access(Access::SelfAuthenticated)
    .body_limit(1024 * 1024)
    .summary("webhooks", "VAPI voice server events (x-vapi-secret)"),
    Route::new(Post, "/v1/voice/speech", handler!(voice::speech))
        .errors(&[E::UpstreamError])
        .tenant(P::ConversationsWrite)
        .summary(
            "voice",
            "Text to speech in the tenant's ElevenLabs voice (MP3, cached by content hash)",
        )
        .request::<voice::SpeechRequest>()
        .success(200),
    Route::new(Post, "/v1/webhooks/stripe", handler!(webhooks::stripe))
        .access(Access::SelfAuthenticated)
        .body_limit(256 * 1024)
        .summary(
            "webhooks",
            "Stripe subscription events set tenant tiers (Stripe-Signature)",
        ),
    // --- authentication ---
    Route::new(Post, "/v1/auth/token", handler!(auth_tokens::issue))
        .errors(&[E::NotFound])
        .tenant(P::TokenIssue)
        .summary(
            "auth",
            "Exchange a secret key for an agent's short-lived JWT",
        )
        .request::<auth_tokens::TokenRequest>()
        .response::<auth_tokens::TokenResponse>(),
    Route::new(Post, "/v1/auth/refresh", handler!(auth_tokens::refresh))
        .tenant(P::ConversationsRead)
        .summary(
            "auth",
            "A fresh token for the calling agent (before the current one expires)",
        )
        .response::<auth_tokens::TokenResponse>(),
    Route::new(
        Post,
        "/v1/invitations/accept",
        handler!(auth_tokens::accept_invitation),
    )
    .errors(&[E::NotFound, E::Conflict])
    .summary("auth", "Redeem an invitation token and become a user")
    .request::<auth_tokens::AcceptInvitation>()
    .response::<crate::users::User>()
    .success(201),
    // --- agents sign themselves in (console sessions) ---
    Route::new(Get, "/v1/auth/methods", handler!(sign_in::methods))
        .query(&[QueryParam::text("tenant", 64, "The workspace (tenant slug)")])
        .errors(&[E::NotFound])
        .summary("auth", "How a workspace's people sign in (email link, single sign-on)")
        .response::<sign_in::Methods>(),
    Route::new(Post, "/v1/auth/magic-link", handler!(sign_in::request_link))
        .errors(&[E::NotFound, E::Forbidden, E::Conflict, E::RateLimited, E::UpstreamError])
        .summary(
            "auth",
            "Email a one-time sign-in link (the same answer whether or not the address may sign in)",
        )
        .request::<sign_in::LinkRequest>()
        .response::<sign_in::LinkRequested>()
        .success(202),
    Route::new(
        Post,
        "/v1/auth/magic-link/redeem",
        handler!(sign_in::redeem_link),
    )
    .errors(&[E::InvalidToken, E::Forbidden])
    .summary(
        "auth",
        "Redeem a sign-in link: starts a console session (refresh token in an HttpOnly cookie)",
    )
    .request::<sign_in::Redeem>()
    .response::<sign_in::SignedIn>(),
    Route::new(Post, "/v1/auth/invitation", handler!(sign_in::accept_invitation))
        .errors(&[E::NotFound, E::Conflict, E::Forbidden])
        .summary(
            "auth",
            "Accept an invitation in the browser and start a console session",
        )
        .request::<sign_in::Redeem>()
        .response::<sign_in::SignedIn>()
        .success(201),
    Route::new(Get, "/v1/auth/oidc/start", handler!(sign_in::oidc_start))
        .query(&[QueryParam::text("tenant", 64, "The workspace (tenant slug)")])
        .errors(&[E::NotFound, E::UpstreamError])
        .summary(
            "auth",
            "Single sign-on: redirects to the workspace's OpenID Connect provider (PKCE, state, nonce)",
        )
        .success(302),
    Route::new(Get, "/v1/auth/oidc/callback", handler!(sign_in::oidc_callback))
        .query(&[
            QueryParam::text("code", 4096, "The authorization code"),
            QueryParam::text("state", 256, "The state the sign-in started with"),
            QueryParam::text("error", 256, "The provider's error, when it declined"),
        ])
        .summary(
            "auth",
            "Single sign-on callback: starts a console session and returns to the console",
        )
        .success(302),
    Route::new(Post, "/v1/auth/session/refresh", handler!(sign_in::refresh))
        .errors(&[E::Unauthorized, E::Forbidden, E::Conflict, E::NotFound])
        .summary(
            "auth",
            "A new access token for the console session in the cookie (the cookie rotates)",
        )
        .response::<sign_in::SignedIn>(),
    Route::new(Post, "/v1/auth/session/logout", handler!(sign_in::logout))
        .errors(&[E::Forbidden])
        .summary("auth", "Sign out: ends the console session in the cookie")
        .success(204),
    Route::new(Post, "/v1/auth/sessions/revoke", handler!(sign_in::revoke_all))
        .tenant(P::ConversationsRead)
        .summary("auth", "Sign out everywhere: ends every console session of the caller")
        .success(204),
    // --- the calling tenant ---
    Route::new(Get, "/v1/tenant", handler!(tenant::get))
        .tenant(P::TenantRead)
        .summary(
            "tenant",
            "The calling tenant, its effective limits and features",
        )
        .response::<tenant::TenantSummary>(),
    Route::new(Get, "/v1/tenant/config", handler!(tenant::get_config))
        .tenant(P::TenantRead)
        .summary("tenant", "The tenant's configuration and its version")
        .response::<tenant::VersionedConfig>(),
    Route::new(Put, "/v1/tenant/config", handler!(tenant::put_config))
        .tenant(P::ConfigWrite)
        .summary(
            "tenant",
            "Replace the configuration (send back the version you read)",
        )
        .request::<tenant::VersionedConfig>()
        .response::<tenant::VersionedConfig>(),
    Route::new(Get, "/v1/tenant/features", handler!(tenant::get_features))
        .tenant(P::TenantRead)
        .summary("tenant", "Effective feature flags")
        .response::<tenant::Features>(),
    Route::new(
        Put,
        "/v1/tenant/features/{flag}",
        handler!(tenant::set_feature),
    )
    .tenant(P::FlagsWrite)
    .summary("tenant", "Turn a feature flag on or off")
    .request::<tenant::SetFeature>()
    .response::<tenant::Features>(),
    Route::new(Get, "/v1/usage", handler!(tenant::usage))
        .tenant(P::UsageRead)
        .summary("tenant", "Requests per day (allowed and rate limited)")
        .response::<tenant::Usage>(),
    Route::new(Get, "/v1/audit-logs", handler!(audit_logs::list))
        .paged(&[])
        .tenant(P::AuditRead)
        .summary("tenant", "List audit log entries")
        .response::<Page<crate::audit::AuditEntry>>(),
    // --- API keys ---
    Route::new(Get, "/v1/api-keys", handler!(keys::list))
        .paged(&[])
        .tenant(P::KeysManage)
        .summary("api-keys", "List API keys (never their secrets)")
        .response::<Page<crate::auth::api_keys::ApiKey>>(),
    Route::new(Post, "/v1/api-keys", handler!(keys::create))
        .tenant(P::KeysManage)
        .summary("api-keys", "Create an API key (the full key is shown once)")
        .request::<keys::CreateKey>()
        .response::<keys::KeyCreated>()
        .success(201),
    Route::new(Delete, "/v1/api-keys/{key_id}", handler!(keys::revoke))
        .tenant(P::KeysManage)
        .summary("api-keys", "Revoke an API key, effective on its next use")
        .response::<crate::auth::api_keys::ApiKey>(),
    // --- users ---
    Route::new(Get, "/v1/users", handler!(users::list))
        .paged(&[])
        .tenant(P::UsersRead)
        .summary("users", "List users")
        .response::<Page<crate::users::User>>(),
    Route::new(Get, "/v1/users/{user_id}", handler!(users::get))
        .tenant(P::UsersRead)
        .summary("users", "Get a user")
        .response::<crate::users::User>(),
    Route::new(Patch, "/v1/users/{user_id}", handler!(users::update))
        .tenant(P::UsersManage)
        .summary("users", "Change a user's name, role, skills or status")
        .request::<users::UpdateUser>()
        .response::<crate::users::User>(),
    Route::new(Post, "/v1/invitations", handler!(users::invite))
        .tenant(P::UsersManage)
        .summary("users", "Invite a person by email")
        .request::<users::Invite>()
        .response::<users::InvitationCreated>()
        .success(201),
    Route::new(Get, "/v1/invitations", handler!(users::list_invitations))
        .paged(&[])
        .tenant(P::UsersManage)
        .summary("users", "List invitations")
        .response::<Page<crate::users::invitations::Invitation>>(),
    Route::new(
        Post,
        "/v1/invitations/{invitation_id}/resend",
        handler!(users::resend_invitation),
    )
    .tenant(P::UsersManage)
    .errors(&[E::Conflict])
    .summary(
        "users",
        "Send an invitation again with a new link (the old link stops working)",
    )
    .response::<users::InvitationCreated>(),
    Route::new(
        Delete,
        "/v1/invitations/{invitation_id}",
        handler!(users::revoke_invitation),
    )
    .tenant(P::UsersManage)
    .errors(&[E::Conflict])
    .summary("users", "Revoke an invitation that was not used")
    .response::<crate::users::invitations::Invitation>(),
    // --- conversations: customers (conversation token) and agents ---
    Route::new(Post, "/v1/conversations", handler!(conversations::start))
        .tenant(P::WidgetSession)
        .summary(
            "conversations",
            "Start a conversation for a visitor or customer; returns its conversation token",
        )
        .request::<conversations::StartConversation>()
        .response::<conversations::Started>()
        .success(201),
    Route::new(Get, "/v1/conversations", handler!(conversations::list))
        .paged(&[
            QueryParam::one_of(
                "status",
                crate::conversations::model::Status::NAMES,
                "Only conversations in this state",
            ),
            QueryParam::text(
                "assignee",
                64,
                "A user id, `me` (the calling agent) or `none` (the unassigned queue)",
            ),
            QueryParam::one_of(
                "channel",
                crate::conversations::Channel::NAMES,
                "Only this channel",
            ),
            QueryParam::text("customer_id", 64, "Only this customer's conversations"),
            QueryParam::one_of(
                "order",
                &["created", "recent"],
                "`created` (default: oldest first, stable for syncing) or `recent` (latest activity first, the inbox)",
            ),
        ])
        .tenant(P::ConversationsRead)
        .summary(
            "conversations",
            "List conversations (the inbox): status, assignee (id, me, none), channel",
        )
        .response::<Page<conversations::Summary>>(),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/deliveries",
        handler!(webhooks::deliveries),
    )
    .tenant(P::ConversationsRead)
    .summary(
        "conversations",
        "Outbound deliveries of a conversation's replies (SMS, WhatsApp, email)",
    )
    .response::<serde_json::Value>(),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}",
        handler!(conversations::get),
    )
    .access(Access::Conversation(P::ConversationsRead))
    .summary("conversations", "A conversation's state and customer")
    .response::<conversations::ConversationDetail>(),
    Route::new(
        Patch,
        "/v1/conversations/{conversation_id}",
        handler!(conversations::update),
    )
    .tenant(P::ConversationsWrite)
    .summary("conversations", "Set tags or priority")
    .request::<conversations::UpdateConversation>()
    .response::<crate::conversations::Meta>(),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/live",
        handler!(conversations::live),
    )
    .access(Access::Conversation(P::ConversationsWrite))
    .summary(
        "conversations",
        "WebSocket: the live conversation protocol (hello/message/typing/read frames)",
    )
    .success(101),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/events",
        handler!(conversations::events),
    )
    .access(Access::Conversation(P::ConversationsRead))
    .query(&[QueryParam::int(
        "after_seq",
        0,
        i64::MAX,
        "Start after this sequence number (Last-Event-ID takes precedence)",
    )])
    .summary(
        "conversations",
        "Server-Sent Events fallback: message events with id = seq; resume with Last-Event-ID",
    ),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/messages",
        handler!(conversations::history),
    )
    .access(Access::Conversation(P::ConversationsRead))
    .query(&[
        QueryParam::int(
            "after_seq",
            0,
            i64::MAX,
            "Messages after this sequence number (oldest first)",
        ),
        QueryParam::int(
            "before_seq",
            0,
            i64::MAX,
            "Messages before this sequence number (newest page)",
        ),
        QueryParam::int("limit", 1, 200, "Messages per page (default 50)"),
    ])
    .summary(
        "conversations",
        "Message history: after_seq or before_seq, limit",
    )
    .response::<crate::conversations::engine::History>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/messages",
        handler!(conversations::send),
    )
    .access(Access::Conversation(P::ConversationsWrite))
    .summary(
        "conversations",
        "Send a message (Idempotency-Key makes retries safe)",
    )
    .request::<conversations::SendMessage>()
    .response::<crate::conversations::engine::Posted>()
    .success(201),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/read",
        handler!(conversations::mark_read),
    )
    .access(Access::Conversation(P::ConversationsWrite))
    .summary(
        "conversations",
        "Mark messages read up to a sequence number",
    )
    .request::<conversations::MarkRead>()
    .success(204),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/typing",
        handler!(conversations::typing),
    )
    .access(Access::Conversation(P::ConversationsWrite))
    .summary(
        "conversations",
        "Typing indicator for clients on the SSE + POST fallback (sockets send a typing frame)",
    )
    .request::<conversations::Typing>()
    .success(204),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/files",
        handler!(files::upload),
    )
    .access(Access::Conversation(P::ConversationsWrite))
    .body_limit(crate::files::limits::MAX_FILE_BYTES)
    .query(&[
        QueryParam::text("name", 255, "The file's name (sanitised; the extension follows the bytes)"),
        QueryParam::text("caption", 4000, "Text sent with the file (the AI answers a customer's caption)"),
        QueryParam::text("client_msg_id", 64, "The client's id for this message; the Idempotency-Key header takes precedence"),
    ])
    .errors(&[E::UnsupportedMediaType, E::PayloadTooLarge, E::QuotaExceeded, E::Conflict, E::ValidationFailed])
    .summary(
        "conversations",
        "Send a file (the body is its bytes): images, PDF, plain text and office documents, checked by their bytes; posted as a message with `meta.attachments` (Idempotency-Key makes retries safe)",
    )
    .response::<crate::conversations::engine::Posted>()
    .success(201),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/files/{file_id}",
        handler!(files::link),
    )
    .access(Access::Conversation(P::ConversationsRead))
    .summary(
        "conversations",
        "A short-lived download link for one of the conversation's files",
    )
    .response::<files::FileLink>(),
    Route::new(Get, "/v1/files/{file_id}", handler!(files::download))
        .access(Access::Public)
        .query(&[QueryParam::text("token", 2048, "The signed token from the file's link")])
        .errors(&[E::InvalidToken, E::TokenExpired])
        .summary(
            "conversations",
            "Download a file through its link (images inline, everything else as an attachment)",
        ),
    Route::new(
        Put,
        "/v1/conversations/{conversation_id}/messages/{seq}/rating",
        handler!(ratings::rate),
    )
    .access(Access::Customer)
    .summary(
        "conversations",
        "The customer rates an answer (thumbs up or down, optional comment); rating again replaces it",
    )
    .request::<ratings::RateMessage>()
    .response::<ratings::Rating>(),
    Route::new(
        Put,
        "/v1/conversations/{conversation_id}/lead",
        handler!(leads::submit_form),
    )
    .access(Access::Customer)
    .summary(
        "conversations",
        "The customer submits the tenant's pre-chat form (only its fields; consent recorded in the tenant's wording)",
    )
    .request::<leads::FormSubmission>()
    .success(204),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/survey",
        handler!(surveys::get_for_customer),
    )
    .access(Access::Customer)
    .summary(
        "surveys",
        "The customer's satisfaction survey for this conversation, in their language (after it is resolved; needs the `surveys` flag)",
    )
    .response::<crate::surveys::CustomerView>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/survey",
        handler!(surveys::answer),
    )
    .access(Access::Customer)
    .summary(
        "surveys",
        "The customer answers the survey; recorded once (a repeat returns the first answer with `duplicate`)",
    )
    .errors(&[E::Conflict])
    .request::<surveys::Answer>()
    .response::<crate::surveys::respond::Recorded>(),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/summary",
        handler!(summaries::get),
    )
    .tenant(P::ConversationsRead)
    .summary(
        "conversations",
        "The conversation's summary for agents (made at handoff and resolution; VAPI's for calls)",
    )
    .response::<crate::summaries::Summary>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/summary",
        handler!(summaries::make),
    )
    .tenant(P::ConversationsWrite)
    .summary(
        "conversations",
        "Summarise the conversation now (the workspace's AI provider, else extractive)",
    )
    .response::<crate::summaries::Summary>(),
    // --- quality reviews ---
    Route::new(Get, "/v1/reviews/scorecards", handler!(quality::scorecards))
        .tenant(P::ConversationsRead)
        .summary("reviews", "The scorecards reviewers score against (the workspace's, or the built-in one)")
        .response::<quality::Scorecards>(),
    Route::new(Get, "/v1/reviews/queue", handler!(quality::queue))
        .tenant(P::ReviewsWrite)
        .summary(
            "reviews",
            "Resolved conversations to review and why: low survey score, escalation, random sample",
        )
        .response::<crate::quality::queue::Queue>(),
    Route::new(Get, "/v1/reviews", handler!(quality::list))
        .paged(&[QueryParam::text("agent_id", 64, "Only reviews of this agent's conversations (agents always see only their own)")])
        .tenant(P::ConversationsRead)
        .summary("reviews", "Reviews, oldest first (agents without `reviews:write`: their own)")
        .response::<Page<crate::quality::Review>>(),
    Route::new(Patch, "/v1/reviews/{review_id}", handler!(quality::respond))
        .tenant(P::ConversationsWrite)
        .summary("reviews", "The reviewed agent acknowledges or disputes a review")
        .request::<quality::ReviewResponse>()
        .response::<crate::quality::Review>(),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/reviews",
        handler!(quality::for_conversation),
    )
    .tenant(P::ConversationsRead)
    .summary(
        "reviews",
        "The conversation's reviews and how far the reviewers are apart (agents: their own reviews)",
    )
    .response::<quality::ConversationReviews>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/reviews",
        handler!(quality::submit),
    )
    .tenant(P::ReviewsWrite)
    .summary(
        "reviews",
        "Score the conversation against a scorecard (a reviewer's second review replaces the first; not one's own conversation: 409)",
    )
    .errors(&[E::Conflict])
    .request::<quality::ReviewInput>()
    .response::<crate::quality::Review>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/reviews/ai",
        handler!(quality::ai),
    )
    .tenant(P::ReviewsWrite)
    .summary(
        "reviews",
        "Score the conversation with the AI reviewer now (the workspace's provider, else the heuristic; marked as such)",
    )
    .errors(&[E::QuotaExceeded])
    .request::<quality::AiReviewInput>()
    .response::<crate::quality::Review>(),
    Route::new(Get, "/v1/surveys/results", handler!(surveys::results))
        .tenant(P::AnalyticsRead)
        .query(&[
            QueryParam::int("days", 1, 365, "Window in days (default 30), by when surveys were sent"),
            QueryParam::one_of("channel", crate::conversations::model::Channel::NAMES, "Only this channel"),
            QueryParam::text("agent_id", 64, "Only conversations this agent took part in"),
        ])
        .summary(
            "surveys",
            "Response rate, CSAT, NPS and CES overall, by channel, by agent and by day (needs the `surveys` and `analytics` flags)",
        )
        .response::<crate::surveys::results::Results>(),
    Route::new(Get, "/v1/surveys/responses", handler!(surveys::responses))
        .paged(&[
            QueryParam::one_of("channel", crate::conversations::model::Channel::NAMES, "Only this channel"),
            QueryParam::text("agent_id", 64, "Only conversations this agent took part in"),
            QueryParam::one_of("kind", crate::surveys::template::Kind::SCORED, "Only surveys scored this way"),
            QueryParam::text("conversation_id", 64, "Only this conversation's survey"),
        ])
        .tenant(P::AnalyticsRead)
        .summary("surveys", "Answered surveys with their scores and comments, oldest first")
        .response::<Page<crate::surveys::Survey>>(),
    Route::new(Get, "/v1/surveys/responses/export", handler!(surveys::export))
        .query(&[
            QueryParam::one_of("channel", crate::conversations::model::Channel::NAMES, "Only this channel"),
            QueryParam::text("agent_id", 64, "Only conversations this agent took part in"),
            QueryParam::one_of("kind", crate::surveys::template::Kind::SCORED, "Only surveys scored this way"),
            QueryParam::text("conversation_id", 64, "Only this conversation's survey"),
        ])
        .tenant(P::AnalyticsRead)
        .summary("surveys", "Every matching answered survey as CSV (up to 10,000 rows)"),
    Route::new(Get, "/survey", handler!(surveys::page))
        .access(Access::Public)
        .query(&[
            QueryParam::text("t", 2048, "The signed token from the survey email"),
            QueryParam::text("score", 4, "Pre-selects this score"),
        ])
        .errors(&[E::InvalidToken, E::TokenExpired, E::Conflict])
        .summary(
            "surveys",
            "The email survey's page (HTML form); opening it records nothing",
        ),
    Route::new(Post, "/survey", handler!(surveys::submit))
        .access(Access::Public)
        .body_limit(16 * 1024)
        .errors(&[E::InvalidToken, E::TokenExpired, E::Conflict, E::ValidationFailed])
        .summary(
            "surveys",
            "The survey page's form (application/x-www-form-urlencoded: `t` and `q.<question id>`): records the answers once",
        ),
    Route::new(Get, "/v1/analytics/overview", handler!(analytics::overview))
        .tenant(P::AnalyticsRead)
        .query(analytics::FILTERS)
        .summary(
            "analytics",
            "Volume, speed (medians, p90), AI containment and cost, quality signals, each day and the busiest hours (needs the `analytics` flag)",
        )
        .response::<crate::analytics::report::Overview>(),
    Route::new(Get, "/v1/analytics/agents", handler!(analytics::agents))
        .tenant(P::AnalyticsRead)
        .query(analytics::FILTERS)
        .summary("analytics", "Agent leaderboard: handled, resolved, response and handle times, ratings, CSAT, goals")
        .response::<crate::analytics::agents::Leaderboard>(),
    Route::new(Get, "/v1/analytics/agents/live", handler!(analytics::live))
        .tenant(P::AnalyticsRead)
        .summary("analytics", "Live board: agents online now, their load against capacity, the unassigned queue")
        .response::<crate::analytics::agents::LiveBoard>(),
    Route::new(Get, "/v1/analytics/sla", handler!(analytics::sla))
        .tenant(P::AnalyticsRead)
        .query(analytics::FILTERS)
        .summary("analytics", "SLA compliance per priority for the period and the conversations at risk now")
        .response::<crate::analytics::sla::SlaReport>(),
    Route::new(Get, "/v1/analytics/export", handler!(analytics::export))
        .tenant(P::AnalyticsRead)
        .query(analytics::EXPORT)
        .summary("analytics", "Any report as CSV (report=summary, by_day, channels, busiest_hours, handoff_reasons, models, intents, agents, sla, at_risk)"),
    Route::new(Post, "/v1/analytics/recompute", handler!(analytics::recompute))
        .tenant(P::ConfigWrite)
        .summary("analytics", "Rebuild the tenant's analytics rollups from its conversations (history from before analytics)")
        .response::<analytics::Recomputed>(),
    Route::new(Get, "/v1/ratings", handler!(ratings::summary))
        .tenant(P::AnalyticsRead)
        .query(&[QueryParam::int("days", 1, 365, "Window in days (default 30)")])
        .summary("analytics", "How visitors rated answers: thumbs up/down by AI and agent, latest comments")
        .response::<ratings::RatingSummary>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/handoff",
        handler!(conversations::handoff),
    )
    .access(Access::Conversation(P::ConversationsWrite))
    .summary(
        "conversations",
        "Ask for a human (customer) or take over from the AI (agent)",
    )
    .request::<conversations::Handoff>()
    .response::<crate::conversations::Meta>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/status",
        handler!(conversations::set_status),
    )
    .tenant(P::ConversationsWrite)
    .summary(
        "conversations",
        "Resolve, reopen, close, or release to the AI (open)",
    )
    .request::<conversations::SetStatus>()
    .response::<crate::conversations::Meta>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/assign",
        handler!(conversations::assign),
    )
    .tenant(P::ConversationsWrite)
    .summary(
        "conversations",
        "Assign, transfer (another user_id) or unassign (null)",
    )
    .request::<conversations::Assign>()
    .response::<crate::conversations::Meta>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/notes",
        handler!(conversations::add_note),
    )
    .tenant(P::ConversationsWrite)
    .summary("conversations", "Add an internal note (agents only)")
    .request::<conversations::AddNote>()
    .response::<crate::conversations::protocol::NoteView>()
    .success(201),
    Route::new(
        Get,
        "/v1/conversations/{conversation_id}/analysis",
        handler!(conversations::analysis),
    )
    .tenant(P::ConversationsRead)
    .summary(
        "conversations",
        "The AI's analysis of each customer message (sentiment, intent, topics, language)",
    )
    .response::<conversations::AnalysisList>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/token",
        handler!(conversations::refresh_token),
    )
    .tenant(P::WidgetSession)
    .summary(
        "conversations",
        "A fresh conversation token for the conversation's own customer",
    )
    .request::<conversations::TokenRefresh>()
    .response::<conversations::TokenIssued>(),
    Route::new(
        Post,
        "/v1/conversations/{conversation_id}/translate",
        handler!(translate::translate),
    )
    .tenant(P::ConversationsWrite)
    .errors(&[E::Conflict, E::QuotaExceeded, E::UpstreamError])
    .summary(
        "conversations",
        "Translate a message for the agent, or a reply into the customer's language (the tenant's AI provider; 409 when none)",
    )
    .request::<translate::TranslateRequest>()
    .response::<crate::ai::translate::Translation>(),
    // --- the console: search and the customer panel ---
    Route::new(Get, "/v1/search", handler!(search::search))
        .tenant(P::ConversationsRead)
        .query(&[
            QueryParam::text("q", 200, "Words to find (required); every word must match, as a prefix"),
            QueryParam::int("limit", 1, 50, "Most messages to return (default 20)"),
        ])
        .errors(&[E::ValidationFailed])
        .summary(
            "conversations",
            "Search every conversation's messages (full text) and the customers (name, email, phone)",
        )
        .response::<crate::conversations::search::SearchResults>(),
    Route::new(Get, "/v1/customers/{customer_id}", handler!(customers::get))
        .tenant(P::ConversationsRead)
        .summary(
            "conversations",
            "A customer, their other identities (same email or phone) and every conversation they had",
        )
        .response::<crate::conversations::customers::Profile>(),
    Route::new(
        Get,
        "/v1/customers/{customer_id}/export",
        handler!(privacy::export),
    )
    .tenant(P::PrivacyManage)
    .summary(
        "customers",
        "Everything held about a customer (and their other identities) as one JSON document: conversations, messages, ratings, analysis, deliveries, calls, opt-outs",
    )
    .response::<crate::privacy::export::CustomerExport>(),
    Route::new(
        Post,
        "/v1/customers/{customer_id}/erase",
        handler!(privacy::erase),
    )
    .tenant(P::PrivacyManage)
    .summary(
        "customers",
        "Erase a customer and their other identities: every message redacted, contact details removed, conversations closed; idempotent; call again until `complete`",
    )
    .errors(&[E::Conflict])
    .response::<crate::privacy::erase::Erasure>(),
    // --- leads ---
    Route::new(Get, "/v1/leads", handler!(leads::list))
        .paged(&[
            QueryParam::one_of("stage", crate::leads::store::Stage::NAMES, "Only leads in this stage"),
            QueryParam::text("owner_id", 64, "Only leads owned by this user"),
            QueryParam::int("min_score", -100_000, 100_000, "Only leads scoring at least this"),
        ])
        .tenant(P::ConversationsRead)
        .summary("leads", "List leads, oldest first (needs the `leads` flag)")
        .response::<Page<crate::leads::Lead>>(),
    Route::new(Post, "/v1/leads", handler!(leads::create))
        .tenant(P::ConversationsWrite)
        .summary(
            "leads",
            "Capture a lead for a customer (merges into the person's lead if one exists: same customer, email or phone)",
        )
        .errors(&[E::NotFound])
        .request::<leads::LeadInput>()
        .response::<crate::leads::Lead>()
        .success(201),
    Route::new(Get, "/v1/leads/export", handler!(leads::export))
        .query(&[
            QueryParam::one_of("stage", crate::leads::store::Stage::NAMES, "Only leads in this stage"),
            QueryParam::text("owner_id", 64, "Only leads owned by this user"),
            QueryParam::int("min_score", -100_000, 100_000, "Only leads scoring at least this"),
        ])
        .tenant(P::ConversationsRead)
        .summary("leads", "Every lead matching the filters as CSV (up to 10,000 rows)"),
    Route::new(Get, "/v1/leads/{lead_id}", handler!(leads::get))
        .tenant(P::ConversationsRead)
        .summary("leads", "A lead with its score reasons and stage history")
        .response::<crate::leads::store::LeadDetail>(),
    Route::new(Patch, "/v1/leads/{lead_id}", handler!(leads::update))
        .tenant(P::ConversationsWrite)
        .summary(
            "leads",
            "Change a lead's details, stage (recorded, announced as lead.stage_changed; qualified leads are routed) or owner",
        )
        .errors(&[E::Conflict])
        .request::<leads::LeadPatch>()
        .response::<crate::leads::store::LeadDetail>(),
    // --- CRM sync ---
    Route::new(Get, "/v1/crm/connections", handler!(crm::list))
        .tenant(P::ConfigWrite)
        .summary("crm", "The tenant's CRM connections (HubSpot, Salesforce) and their state")
        .response::<crm::Connections>(),
    Route::new(Post, "/v1/crm/{provider}/connect", handler!(crm::connect))
        .tenant(P::ConfigWrite)
        .errors(&[E::Conflict])
        .summary(
            "crm",
            "Start connecting `hubspot` or `salesforce`: the OAuth authorize URL to open",
        )
        .response::<crm::Authorize>(),
    Route::new(Get, "/v1/crm/{provider}/callback", handler!(crm::callback))
        .access(Access::Public)
        .query(&[
            QueryParam::text("code", 2048, "The authorization code"),
            QueryParam::text("state", 256, "The state the connect call issued"),
        ])
        .errors(&[E::InvalidToken, E::UpstreamError])
        .summary(
            "crm",
            "OAuth redirect target: exchanges the code (single-use state) and returns to the console",
        )
        .success(302),
    Route::new(Post, "/v1/crm/{provider}/sync", handler!(crm::sync))
        .tenant(P::ConfigWrite)
        .summary("crm", "Push every lead again (newest 1,000) to the connected CRM")
        .response::<crm::Synced>()
        .success(202),
    Route::new(Delete, "/v1/crm/{provider}", handler!(crm::disconnect))
        .tenant(P::ConfigWrite)
        .summary("crm", "Disconnect: forget the tokens, the record links and queued pushes")
        .success(204),
    // --- canned responses ---
    Route::new(Get, "/v1/canned-responses", handler!(canned::list))
        .paged(&[])
        .tenant(P::ConversationsRead)
        .summary("canned-responses", "List canned responses")
        .response::<Page<crate::conversations::canned::Canned>>(),
    Route::new(Post, "/v1/canned-responses", handler!(canned::create))
        .tenant(P::ConfigWrite)
        .summary(
            "canned-responses",
            "Create a canned response (used as /shortcut)",
        )
        .request::<crate::conversations::canned::CannedInput>()
        .response::<crate::conversations::canned::Canned>()
        .success(201),
    Route::new(
        Get,
        "/v1/canned-responses/{canned_id}",
        handler!(canned::get),
    )
    .tenant(P::ConversationsRead)
    .summary("canned-responses", "Get a canned response")
    .response::<crate::conversations::canned::Canned>(),
    Route::new(
        Put,
        "/v1/canned-responses/{canned_id}",
        handler!(canned::update),
    )
    .tenant(P::ConfigWrite)
    .summary("canned-responses", "Replace a canned response")
    .request::<crate::conversations::canned::CannedInput>()
    .response::<crate::conversations::canned::Canned>(),
    Route::new(
        Delete,
        "/v1/canned-responses/{canned_id}",
        handler!(canned::delete),
    )
    .tenant(P::ConfigWrite)
    .summary("canned-responses", "Delete a canned response")
    .response::<crate::conversations::canned::Canned>(),
    // --- outgoing webhooks ---
    Route::new(Get, "/v1/webhooks/event-types", handler!(outgoing_webhooks::event_types))
        .tenant(P::ConfigWrite)
        .summary("webhooks", "The events endpoints can subscribe to (payloads: the document's `webhooks`)"),
    Route::new(Get, "/v1/webhooks/endpoints", handler!(outgoing_webhooks::list))
        .paged(&[])
        .tenant(P::ConfigWrite)
        .summary("webhooks", "List the tenant's webhook endpoints")
        .response::<Page<crate::outgoing::endpoints::Endpoint>>(),
    Route::new(Post, "/v1/webhooks/endpoints", handler!(outgoing_webhooks::create))
        .tenant(P::ConfigWrite)
        .summary(
            "webhooks",
            "Subscribe an HTTPS endpoint to events; returns its signing secret (Standard Webhooks)",
        )
        .errors(&[E::Conflict])
        .request::<crate::outgoing::endpoints::EndpointInput>()
        .response::<crate::outgoing::endpoints::EndpointWithSecret>()
        .success(201),
    Route::new(
        Get,
        "/v1/webhooks/endpoints/{endpoint_id}",
        handler!(outgoing_webhooks::get),
    )
    .tenant(P::ConfigWrite)
    .summary("webhooks", "Get a webhook endpoint")
    .response::<crate::outgoing::endpoints::Endpoint>(),
    Route::new(
        Patch,
        "/v1/webhooks/endpoints/{endpoint_id}",
        handler!(outgoing_webhooks::update),
    )
    .tenant(P::ConfigWrite)
    .summary(
        "webhooks",
        "Change an endpoint's URL, events or description; disable or re-enable it",
    )
    .request::<crate::outgoing::endpoints::EndpointPatch>()
    .response::<crate::outgoing::endpoints::Endpoint>(),
    Route::new(
        Delete,
        "/v1/webhooks/endpoints/{endpoint_id}",
        handler!(outgoing_webhooks::delete),
    )
    .tenant(P::ConfigWrite)
    .summary("webhooks", "Delete an endpoint, its secret and its delivery log")
    .response::<crate::outgoing::endpoints::Endpoint>(),
    Route::new(
        Get,
        "/v1/webhooks/endpoints/{endpoint_id}/secret",
        handler!(outgoing_webhooks::secret),
    )
    .tenant(P::ConfigWrite)
    .summary("webhooks", "The endpoint's current signing secret"),
    Route::new(
        Post,
        "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret",
        handler!(outgoing_webhooks::rotate),
    )
    .tenant(P::ConfigWrite)
    .summary(
        "webhooks",
        "A new signing secret; the old one keeps signing beside it for 24 hours",
    )
    .response::<crate::outgoing::endpoints::EndpointWithSecret>(),
    Route::new(
        Get,
        "/v1/webhooks/endpoints/{endpoint_id}/deliveries",
        handler!(outgoing_webhooks::deliveries),
    )
    .paged(&[QueryParam::one_of(
        "status",
        &["queued", "sending", "delivered", "failed"],
        "Only deliveries in this state",
    )])
    .tenant(P::ConfigWrite)
    .summary("webhooks", "The endpoint's deliveries, oldest first")
    .response::<Page<crate::outgoing::delivery::Delivery>>(),
    Route::new(
        Get,
        "/v1/webhooks/deliveries/{delivery_id}",
        handler!(outgoing_webhooks::delivery),
    )
    .tenant(P::ConfigWrite)
    .summary("webhooks", "A delivery with its payload and every attempt")
    .response::<crate::outgoing::delivery::DeliveryDetail>(),
    Route::new(
        Post,
        "/v1/webhooks/deliveries/{delivery_id}/replay",
        handler!(outgoing_webhooks::replay),
    )
    .tenant(P::ConfigWrite)
    .summary(
        "webhooks",
        "Send a delivered or failed delivery again (same webhook-id)",
    )
    .errors(&[E::Conflict])
    .response::<crate::outgoing::delivery::Delivery>()
    .success(202),
    // --- the agents' live inbox ---
    Route::new(Get, "/v1/inbox/live", handler!(inbox::live))
        .tenant(P::ConversationsRead)
        .summary(
            "inbox",
            "WebSocket: the tenant's live inbox feed (agent token); marks the agent online",
        )
        .success(101),
    Route::new(Get, "/v1/inbox/events", handler!(inbox::events))
        .tenant(P::ConversationsRead)
        .query(&[QueryParam::int(
            "after",
            0,
            i64::MAX,
            "Start after this inbox event (Last-Event-ID takes precedence)",
        )])
        .summary(
            "inbox",
            "Server-Sent Events: the live inbox feed (resume with Last-Event-ID)",
        ),
    Route::new(Get, "/v1/inbox/history", handler!(inbox::history))
        .tenant(P::ConversationsRead)
        .query(&[QueryParam::int(
            "after",
            0,
            i64::MAX,
            "Events after this sequence number",
        )])
        .summary("inbox", "Recent inbox events after a sequence number")
        .response::<crate::objects::inbox::EventPage>(),
    Route::new(Get, "/v1/inbox/online", handler!(inbox::online))
        .tenant(P::ConversationsRead)
        .summary("inbox", "Agents online now, with their skills")
        .response::<serde_json::Value>(),
    // --- knowledge base ---
    Route::new(Post, "/v1/knowledge/documents", handler!(knowledge::create))
        .errors(&[E::QuotaExceeded, E::UpstreamError])
        .tenant(P::KnowledgeWrite)
        .summary(
            "knowledge",
            "Add a document (text, markdown or html); indexed now, or in the background when large",
        )
        .body_limit(knowledge::MAX_DOCUMENT + 64 * 1024)
        .request::<knowledge::DocumentInput>()
        .response::<crate::knowledge::store::Document>()
        .success(201),
    Route::new(Post, "/v1/knowledge/files", handler!(knowledge::create_from_file))
        .errors(&[E::QuotaExceeded, E::UpstreamError, E::UnsupportedMediaType, E::PayloadTooLarge, E::ValidationFailed, E::NotSupported])
        .tenant(P::KnowledgeWrite)
        .query(&[
            QueryParam::text("name", 255, "The file's name (its title when no title is given)"),
            QueryParam::text("title", 200, "The document's title"),
            QueryParam::text("source_url", 2048, "Where customers can read the original"),
        ])
        .summary(
            "knowledge",
            "Add a PDF or plain-text file as a document (the body is its bytes; its text is extracted, up to 300 pages and 256 KiB of text)",
        )
        .body_limit(crate::knowledge::extract::MAX_FILE_BYTES)
        .response::<crate::knowledge::store::Document>()
        .success(201),
    Route::new(Get, "/v1/knowledge/documents", handler!(knowledge::list))
        .paged(&[])
        .tenant(P::KnowledgeRead)
        .summary("knowledge", "List documents with their indexing status")
        .response::<Page<crate::knowledge::store::Document>>(),
    Route::new(
        Get,
        "/v1/knowledge/documents/{document_id}",
        handler!(knowledge::get),
    )
    .tenant(P::KnowledgeRead)
    .query(&[QueryParam::one_of(
        "content",
        &["0", "1"],
        "1 includes the document's content",
    )])
    .summary(
        "knowledge",
        "Get a document (content=1 includes its content)",
    )
    .response::<crate::knowledge::store::Document>(),
    Route::new(
        Put,
        "/v1/knowledge/documents/{document_id}",
        handler!(knowledge::replace),
    )
    .tenant(P::KnowledgeWrite)
    .errors(&[E::QuotaExceeded, E::UpstreamError])
    .summary("knowledge", "Replace a document and re-index it")
    .body_limit(knowledge::MAX_DOCUMENT + 64 * 1024)
    .request::<knowledge::DocumentInput>()
    .response::<crate::knowledge::store::Document>(),
    Route::new(
        Delete,
        "/v1/knowledge/documents/{document_id}",
        handler!(knowledge::delete),
    )
    .tenant(P::KnowledgeWrite)
    .summary("knowledge", "Delete a document and its chunks")
    .response::<crate::knowledge::store::Document>(),
    Route::new(Get, "/v1/knowledge/search", handler!(knowledge::search))
        .tenant(P::KnowledgeRead)
        .query(&[
            QueryParam::text("q", 500, "The question (required)"),
            QueryParam::int("k", 1, 20, "Passages to return (default 5)"),
        ])
        .errors(&[E::ValidationFailed, E::UpstreamError])
        .summary("knowledge", "Hybrid search (vector + keyword, fused): q, k")
        .response::<knowledge::SearchResponse>(),
    Route::new(Post, "/v1/knowledge/reindex", handler!(knowledge::reindex))
        .errors(&[E::QuotaExceeded, E::UpstreamError])
        .tenant(P::KnowledgeWrite)
        .summary(
            "knowledge",
            "Re-index documents embedded with another model than the configured one",
        )
        .response::<knowledge::Reindexed>(),
    // --- tenant secrets (provider keys) ---
    Route::new(Get, "/v1/tenant/secrets", handler!(tenant::list_secrets))
        .tenant(P::ConfigWrite)
        .summary("tenant", "Names of stored secrets (values are write-only)")
        .response::<tenant::SecretNames>(),
    Route::new(
        Put,
        "/v1/tenant/secrets/{name}",
        handler!(tenant::put_secret),
    )
    .tenant(P::ConfigWrite)
    .summary(
        "tenant",
        "Store a secret (e.g. a provider API key) referenced by name from the AI config",
    )
    .request::<tenant::SecretValue>()
    .success(204),
    Route::new(
        Delete,
        "/v1/tenant/secrets/{name}",
        handler!(tenant::delete_secret),
    )
    .tenant(P::ConfigWrite)
    .summary("tenant", "Delete a secret")
    .success(204),
    // --- widget ---
    Route::new(Post, "/v1/widget/resume", handler!(conversations::resume))
        .tenant(P::WidgetSession)
        .errors(&[E::NotFound])
        .summary(
            "widget",
            "The customer's latest unfinished web conversation with a fresh token (another device, a new tab)",
        )
        .request::<conversations::Resume>()
        .response::<conversations::Started>(),
    Route::new(Get, "/v1/widget/settings", handler!(widget::settings))
        .tenant(P::WidgetSession)
        .summary("widget", "What the widget shows before the first message (the pre-chat form)")
        .response::<widget::Settings>(),
    Route::new(Post, "/v1/widget/identify", handler!(widget::identify))
        .tenant(P::WidgetSession)
        .summary(
            "widget",
            "Identify the visitor: verified customer (user_hash) or anonymous",
        )
        .request::<widget::IdentifyRequest>()
        .response::<widget::Identity>(),
];
