//! Messaging channels: SMS and WhatsApp (Twilio), email (Resend), voice (VAPI), and billing
//! (Stripe). Every inbound webhook is verified on its raw bytes ([`signatures`]), recorded once
//! before processing ([`events`]), and lands in the same conversation model, AI pipeline and
//! inbox as the web widget ([`inbound`]). Replies leave through a durable outbox drained by a
//! queue ([`outbound`]), with retries, backoff and a dead-letter state.

pub mod config;
pub mod events;
pub mod inbound;
pub mod media;
pub mod outbound;
pub mod resend;
pub mod signatures;
pub mod stripe;
pub mod tts;
pub mod twilio;
pub mod vapi;
