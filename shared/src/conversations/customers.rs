//! Customers: the people a tenant talks to, identified per channel (a verified widget user, an
//! anonymous visitor, a phone number, an email address). Found or created on first contact.

use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::params;
use crate::ports::{Random, SqlDatabase};
use crate::records::{self, FromRow};
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Customer {
    pub id: String,
    pub kind: String,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: i64,
    /// When the customer was erased (name, email, phone and every message redacted).
    pub erased_at: Option<i64>,
}

pub struct Identity<'a> {
    pub kind: &'a str,
    pub external_id: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// The customer with this identity, created if new (details refreshed when given).
pub async fn find_or_create(
    db: &dyn SqlDatabase,
    random: &dyn Random,
    tenant_id: &str,
    who: &Identity<'_>,
    now: i64,
) -> ApiResult<Customer> {
    let id = new_id(random, "cus");
    db.execute(
        "INSERT INTO customers (id, tenant_id, kind, external_id, name, email, phone, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (tenant_id, kind, external_id) DO UPDATE SET
           name = COALESCE(excluded.name, customers.name), email = COALESCE(excluded.email, customers.email),
           phone = COALESCE(excluded.phone, customers.phone), updated_at = excluded.updated_at",
        &params![id.as_str(), tenant_id, who.kind, who.external_id, who.name, who.email, who.phone, now],
    )
    .await?;
    let rows = db
        .query(
            "SELECT id, kind, external_id, name, email, phone, created_at, erased_at FROM customers WHERE tenant_id = ?1 AND kind = ?2 AND external_id = ?3",
            &params![tenant_id, who.kind, who.external_id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::internal("customer vanished"))
}

/// The customer with this identity, if the tenant has met them.
pub async fn find(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    kind: &str,
    external_id: &str,
) -> ApiResult<Option<Customer>> {
    let rows = db
        .query(
            "SELECT id, kind, external_id, name, email, phone, created_at, erased_at FROM customers WHERE tenant_id = ?1 AND kind = ?2 AND external_id = ?3",
            &params![tenant_id, kind, external_id],
        )
        .await?;
    records::first(&rows)
}

impl FromRow for Customer {
    fn from_row(r: &crate::ports::Row) -> ApiResult<Customer> {
        Ok(Customer {
            id: r.text("id").unwrap_or_default(),
            kind: r.text("kind").unwrap_or_default(),
            external_id: r.text("external_id").unwrap_or_default(),
            name: r.text("name"),
            email: r.text("email"),
            phone: r.text("phone"),
            created_at: r.int("created_at").unwrap_or(0),
            erased_at: r.int("erased_at"),
        })
    }
}

pub async fn get(db: &dyn SqlDatabase, tenant_id: &str, id: &str) -> ApiResult<Customer> {
    let rows = db
        .query(
            "SELECT id, kind, external_id, name, email, phone, created_at, erased_at FROM customers WHERE tenant_id = ?1 AND id = ?2",
            &params![tenant_id, id],
        )
        .await?;
    records::first(&rows)?.ok_or_else(|| ApiError::not_found("customer"))
}

/// A customer as the console's customer panel shows them: who they are, the other identities
/// the tenant knows for the same person (same email or phone, on another channel), and every
/// conversation any of those identities had, newest first.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Profile {
    pub customer: Customer,
    /// Other identities with the same email or phone (an SMS number, an email thread, a
    /// verified widget user), so one person's history reads as one.
    pub identities: Vec<Customer>,
    /// Channels this person has used, in the order first seen.
    pub channels: Vec<super::Channel>,
    pub conversations: Vec<super::mirror::ConversationSummary>,
}

/// The most conversations a profile lists (newest first).
const PROFILE_CONVERSATIONS: u32 = 100;

/// The most other identities one person is taken to have.
pub const MAX_IDENTITIES: u32 = 20;

/// The tenant's other customers with the same email or phone as `customer`: the same person
/// met on another channel.
pub async fn same_person(
    db: &dyn SqlDatabase,
    tenant_id: &str,
    customer: &Customer,
) -> ApiResult<Vec<Customer>> {
    let rows = db
        .query(
            "SELECT id, kind, external_id, name, email, phone, created_at, erased_at FROM customers
             WHERE tenant_id = ?1 AND id != ?2 AND ((?3 IS NOT NULL AND email = ?3) OR (?4 IS NOT NULL AND phone = ?4))
             ORDER BY created_at LIMIT ?5",
            &params![tenant_id, customer.id.as_str(), customer.email.as_deref(), customer.phone.as_deref(), MAX_IDENTITIES],
        )
        .await?;
    rows.iter().map(Customer::from_row).collect()
}

pub async fn profile(db: &dyn SqlDatabase, tenant_id: &str, id: &str) -> ApiResult<Profile> {
    let customer = get(db, tenant_id, id).await?;
    let identities = same_person(db, tenant_id, &customer).await?;
    let mut ids: Vec<&str> = vec![customer.id.as_str()];
    ids.extend(identities.iter().map(|c| c.id.as_str()));
    let conversations =
        super::mirror::for_customers(db, tenant_id, &ids, PROFILE_CONVERSATIONS).await?;
    let mut channels = Vec::new();
    for c in conversations.iter().rev() {
        if !channels.contains(&c.channel) {
            channels.push(c.channel);
        }
    }
    Ok(Profile {
        customer,
        identities,
        channels,
        conversations,
    })
}
