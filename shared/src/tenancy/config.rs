//! The tenant's configuration: one typed, versioned JSON document. Typed so a bad value is a
//! 422 naming the field at write time, not a surprise at answer time; versioned so two admins
//! editing at once cannot silently overwrite each other (optimistic concurrency).

use crate::error::{ApiError, ApiResult};
use crate::input::check;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TenantConfig {
    /// How the assistant presents itself.
    pub persona: Persona,
    /// Default conversation language (BCP 47 tag, e.g. `en` or `pt-BR`).
    pub language: String,
    pub business_hours: BusinessHours,
    /// Origins allowed to use the tenant's public widget key (e.g. `https://shop.example`).
    pub allowed_origins: Vec<String>,
    pub escalation: EscalationRules,
    /// Providers, models and timeouts for AI answers.
    pub ai: crate::ai::config::AiConfig,
    /// SMS/WhatsApp (Twilio), email (Resend) and voice (VAPI) settings.
    pub channels: crate::channels::config::ChannelsConfig,
    /// How agents and admins sign in to the console.
    pub sign_in: crate::auth::sign_in::SignInConfig,
    /// How long customers' conversations are kept.
    pub privacy: Privacy,
    /// How leads are scored, qualified and routed.
    pub leads: Leads,
    /// How leads map onto the connected CRMs' fields.
    pub crm: crate::crm::record::CrmConfig,
    /// Satisfaction surveys: templates and when they are sent (needs the `surveys` flag).
    pub surveys: crate::surveys::template::SurveysConfig,
    /// Quality reviews: scorecards, the review queue's sample, automatic AI reviews.
    pub quality: crate::quality::scorecard::QualityConfig,
    /// Analytics: agents' capacity and goals.
    pub analytics: crate::analytics::agents::AnalyticsConfig,
    /// Service-level targets per priority.
    pub sla: crate::analytics::sla::SlaConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Leads {
    /// A new lead whose score reaches this becomes qualified and is routed (0: never by score).
    pub qualify_at: u32,
    /// Scoring rules: each signal and its points.
    pub rules: Vec<crate::leads::scoring::ScoreRule>,
    /// Territories checked in order before the least-loaded sales agent.
    pub territories: Vec<crate::leads::routing::Territory>,
    /// The widget's pre-chat form (absent: no form).
    pub form: Option<LeadForm>,
}

/// What the widget asks before the first message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadForm {
    /// Fields shown, in order: `name`, `email`, `phone`, `company`.
    pub fields: Vec<String>,
    /// Fields the visitor must fill.
    #[serde(default)]
    pub required: Vec<String>,
    /// The consent checkbox's wording, stored with each consent (empty: no checkbox).
    #[serde(default)]
    pub consent_text: String,
}

impl Default for Leads {
    fn default() -> Self {
        Leads {
            qualify_at: 50,
            rules: crate::leads::scoring::default_rules(),
            territories: Vec::new(),
            form: None,
        }
    }
}

/// Data retention. Absent means conversations are kept until a customer is erased.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Privacy {
    /// Delete conversations (messages, ratings, deliveries, calls) whose last activity is older
    /// than this many days, and customers left with none (the cron sweep, in bounded batches).
    pub retention_days: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Persona {
    pub name: String,
    pub tone: String,
    /// Extra instructions for the assistant, appended to the system prompt.
    pub instructions: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BusinessHours {
    /// Offset from UTC in minutes (e.g. 60 for CET). A fixed offset, not a zone name: the edge
    /// carries no time-zone database.
    pub utc_offset_minutes: i32,
    /// Opening hours per weekday; a day that is absent is closed. Empty means always open.
    pub days: Vec<DayHours>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DayHours {
    /// `mon` … `sun`.
    pub day: String,
    /// `HH:MM`, 24-hour clock, local to `utc_offset_minutes`.
    pub open: String,
    pub close: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationRules {
    /// Hand off when retrieval confidence is below this (0..1).
    pub min_confidence: f64,
    /// Hand off after this many consecutive negative-sentiment customer messages.
    pub negative_turns: u32,
    /// Hand off after this many AI turns without resolution.
    pub max_ai_turns: u32,
    /// Phrases that always request a human (case-insensitive).
    pub keywords: Vec<String>,
}

impl Default for TenantConfig {
    fn default() -> Self {
        TenantConfig {
            persona: Persona::default(),
            language: "en".into(),
            business_hours: BusinessHours::default(),
            allowed_origins: Vec::new(),
            escalation: EscalationRules::default(),
            ai: Default::default(),
            channels: Default::default(),
            sign_in: Default::default(),
            privacy: Default::default(),
            leads: Default::default(),
            crm: Default::default(),
            surveys: Default::default(),
            quality: Default::default(),
            analytics: Default::default(),
            sla: Default::default(),
        }
    }
}

impl Default for Persona {
    fn default() -> Self {
        Persona {
            name: "Assistant".into(),
            tone: "friendly and concise".into(),
            instructions: String::new(),
        }
    }
}

impl Default for EscalationRules {
    fn default() -> Self {
        EscalationRules {
            min_confidence: 0.35,
            negative_turns: 2,
            max_ai_turns: 6,
            keywords: vec!["human".into(), "agent".into(), "representative".into()],
        }
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn minutes(field: &str, hhmm: &str) -> ApiResult<u32> {
    let bad = || ApiError::validation(field, "must be HH:MM (24-hour)");
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 24 || m > 59 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl TenantConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> ApiResult<()> {
        check::text("persona.name", &self.persona.name, 1, 60)?;
        check::text("persona.tone", &self.persona.tone, 0, 200)?;
        check::text("persona.instructions", &self.persona.instructions, 0, 4000)?;
        let lang_ok = (2..=16).contains(&self.language.len())
            && self.language.split('-').all(|p| {
                !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        if !lang_ok {
            return Err(ApiError::validation(
                "language",
                "must be a BCP 47 tag such as en or pt-BR",
            ));
        }
        check::range(
            "business_hours.utc_offset_minutes",
            self.business_hours.utc_offset_minutes,
            -720,
            840,
        )?;
        // Every offset in use is a multiple of 15 minutes, and analytics counts in quarter hours.
        if self.business_hours.utc_offset_minutes % 15 != 0 {
            return Err(ApiError::validation(
                "business_hours.utc_offset_minutes",
                "must be a multiple of 15 minutes",
            ));
        }
        if self.business_hours.days.len() > 7 {
            return Err(ApiError::validation(
                "business_hours.days",
                "at most one entry per weekday",
            ));
        }
        let mut seen = Vec::new();
        for (i, d) in self.business_hours.days.iter().enumerate() {
            let f = format!("business_hours.days[{i}]");
            if !DAYS.contains(&d.day.as_str()) || seen.contains(&d.day) {
                return Err(ApiError::validation(
                    format!("{f}.day"),
                    "must be a distinct weekday: mon … sun",
                ));
            }
            seen.push(d.day.clone());
            let (open, close) = (
                minutes(&format!("{f}.open"), &d.open)?,
                minutes(&format!("{f}.close"), &d.close)?,
            );
            if open >= close {
                return Err(ApiError::validation(
                    format!("{f}.close"),
                    "must be after open",
                ));
            }
        }
        if self.allowed_origins.len() > 50 {
            return Err(ApiError::validation(
                "allowed_origins",
                "at most 50 origins",
            ));
        }
        for (i, o) in self.allowed_origins.iter().enumerate() {
            check::origin(&format!("allowed_origins[{i}]"), o)?;
        }
        let e = &self.escalation;
        if !(0.0..=1.0).contains(&e.min_confidence) || e.min_confidence.is_nan() {
            return Err(ApiError::validation(
                "escalation.min_confidence",
                "must be between 0 and 1",
            ));
        }
        check::range("escalation.negative_turns", e.negative_turns, 0, 50)?;
        check::range("escalation.max_ai_turns", e.max_ai_turns, 0, 200)?;
        if e.keywords.len() > 50 {
            return Err(ApiError::validation(
                "escalation.keywords",
                "at most 50 keywords",
            ));
        }
        for (i, k) in e.keywords.iter().enumerate() {
            check::text(&format!("escalation.keywords[{i}]"), k, 1, 60)?;
        }
        check::range("leads.qualify_at", self.leads.qualify_at, 0, 10_000)?;
        if self.leads.rules.len() > 50 || self.leads.territories.len() > 100 {
            return Err(ApiError::validation(
                "leads",
                "at most 50 rules and 100 territories",
            ));
        }
        for (i, r) in self.leads.rules.iter().enumerate() {
            check::range(&format!("leads.rules[{i}].points"), r.points, -1000, 1000)?;
            r.check()
                .map_err(|m| ApiError::validation(format!("leads.rules[{i}]"), m))?;
        }
        for (i, t) in self.leads.territories.iter().enumerate() {
            check::text(&format!("leads.territories[{i}].match"), &t.pattern, 2, 100)?;
            check::text(
                &format!("leads.territories[{i}].owner_id"),
                &t.owner_id,
                1,
                64,
            )?;
        }
        if let Some(form) = &self.leads.form {
            let known = crate::leads::scoring::FIELDS;
            if form.fields.is_empty()
                || form.fields.len() > known.len()
                || form.fields.iter().any(|f| !known.contains(&f.as_str()))
                || form.required.iter().any(|f| !form.fields.contains(f))
            {
                return Err(ApiError::validation(
                    "leads.form",
                    "fields: some of name, email, phone, company; required: among the fields",
                ));
            }
            check::text("leads.form.consent_text", &form.consent_text, 0, 500)?;
        }
        if let Some(days) = self.privacy.retention_days {
            check::range("privacy.retention_days", days, 1, 3650)?;
        }
        self.crm.validate()?;
        self.surveys.validate()?;
        self.quality.validate()?;
        self.analytics.validate()?;
        self.sla.validate()?;
        self.ai.validate()?;
        self.sign_in.validate()?;
        self.channels.validate()
    }

    /// Whether the business is open at `now_ms` (Unix ms). No hours configured means always open.
    pub fn is_open_at(&self, now_ms: i64) -> bool {
        let hours = &self.business_hours;
        if hours.days.is_empty() {
            return true;
        }
        let local_min = now_ms.div_euclid(60_000) + hours.utc_offset_minutes as i64;
        let day_index = (local_min.div_euclid(1440) + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
        let minute = local_min.rem_euclid(1440) as u32;
        hours.days.iter().any(|d| {
            d.day == DAYS[day_index]
                && matches!((minutes("", &d.open), minutes("", &d.close)), (Ok(o), Ok(c)) if minute >= o && minute < c)
        })
    }

    /// Whether `origin` may use the public widget key.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_errors_name_the_field() {
        assert!(TenantConfig::default().validate().is_ok());
        let c = TenantConfig {
            allowed_origins: vec![
                "https://ok.example".into(),
                "https://bad.example/path".into(),
            ],
            ..TenantConfig::default()
        };
        assert_eq!(
            c.validate().unwrap_err().field.as_deref(),
            Some("allowed_origins[1]")
        );
        let mut c = TenantConfig::default();
        c.business_hours.days = vec![DayHours {
            day: "mon".into(),
            open: "09:00".into(),
            close: "08:00".into(),
        }];
        assert_eq!(
            c.validate().unwrap_err().field.as_deref(),
            Some("business_hours.days[0].close")
        );
        let mut c = TenantConfig::default();
        c.escalation.min_confidence = 1.5;
        assert_eq!(
            c.validate().unwrap_err().field.as_deref(),
            Some("escalation.min_confidence")
        );
    }

    #[test]
    fn business_hours_respect_offset_and_weekday() {
        let mut c = TenantConfig::default();
        assert!(c.is_open_at(0));
        c.business_hours.days = vec![DayHours {
            day: "mon".into(),
            open: "09:00".into(),
            close: "17:00".into(),
        }];
        c.business_hours.utc_offset_minutes = 60;
        // 2024-01-01 was a Monday. 08:30 UTC = 09:30 local → open; 16:30 UTC = 17:30 local → closed.
        let monday = 1_704_067_200_000i64;
        assert!(c.is_open_at(monday + (8 * 60 + 30) * 60_000));
        assert!(!c.is_open_at(monday + (16 * 60 + 30) * 60_000));
        assert!(
            !c.is_open_at(monday + 86_400_000 + 9 * 3_600_000),
            "tuesday is closed"
        );
    }
}
