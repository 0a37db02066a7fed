//! The responder's own words (greeting, thanks, handing over, the lead-in to a quoted answer) in
//! the customer's language: English, Spanish, German, French and Portuguese. Everything else a
//! customer reads comes from the knowledge base or a model.

/// Languages the fixed phrases exist in.
const LANGS: [&str; 5] = ["en", "es", "de", "fr", "pt"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phrase {
    Greeting,
    Thanks,
    HandoffOpen,
    HandoffClosed,
    /// Before a quoted answer from the help pages.
    LeadIn,
    /// Before a quoted answer when the help pages are in another language than the customer's.
    LeadInOtherLanguage,
    /// Beside a handoff, before a help page that may be related.
    MaybeRelated,
    /// Instead of a handoff when the workspace has no team to hand to (`human_handoff` off).
    NoTeam,
}

/// The language to speak: the conversation's recorded language, else the one detected in the
/// message, else the tenant's; English when none of those has phrases.
pub fn language<'a>(
    recorded: Option<&'a str>,
    detected: Option<&'a str>,
    tenant: &'a str,
) -> &'static str {
    [recorded, detected, Some(tenant)]
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let primary = l
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            LANGS.into_iter().find(|x| *x == primary)
        })
        .next()
        .unwrap_or("en")
}

pub fn say(p: Phrase, lang: &str) -> &'static str {
    use Phrase::*;
    match (p, lang) {
        (Greeting, "es") => "¡Hola! ¿En qué puedo ayudarte hoy?",
        (Greeting, "de") => "Hallo! Wie kann ich dir heute helfen?",
        (Greeting, "fr") => "Bonjour ! Comment puis-je vous aider aujourd'hui ?",
        (Greeting, "pt") => "Olá! Como posso ajudar hoje?",
        (Greeting, _) => "Hi! How can I help you today?",
        (Thanks, "es") => "¡De nada! ¿Hay algo más en lo que pueda ayudarte?",
        (Thanks, "de") => "Gern geschehen! Kann ich sonst noch helfen?",
        (Thanks, "fr") => "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        (Thanks, "pt") => "De nada! Posso ajudar em mais alguma coisa?",
        (Thanks, _) => "You're welcome! Anything else I can help with?",
        (HandoffOpen, "es") => "Te pongo en contacto con una persona de nuestro equipo; te responderá aquí mismo en breve.",
        (HandoffOpen, "de") => "Ich verbinde dich mit jemandem aus unserem Team – die Antwort kommt gleich hier.",
        (HandoffOpen, "fr") => "Je vous mets en relation avec un membre de notre équipe ; il vous répondra ici même très vite.",
        (HandoffOpen, "pt") => "Vou ligar-te a um membro da nossa equipa; vai responder aqui mesmo em breve.",
        (HandoffOpen, _) => "I'm connecting you with a member of our team — they'll reply right here shortly.",
        (HandoffClosed, "es") => "Nuestro equipo no está disponible ahora, pero te responderá aquí en cuanto vuelva.",
        (HandoffClosed, "de") => "Unser Team ist gerade nicht da, antwortet dir aber hier, sobald es zurück ist.",
        (HandoffClosed, "fr") => "Notre équipe est absente pour le moment, mais vous répondra ici dès son retour.",
        (HandoffClosed, "pt") => "A nossa equipa está offline agora, mas vai responder aqui assim que voltar.",
        (HandoffClosed, _) => "Our team is offline right now, but they'll reply right here as soon as they're back.",
        (NoTeam, "es") => "No tengo una respuesta segura a eso y aquí no hay un equipo al que pasarte. ¿Puedes decirlo de otra manera?",
        (NoTeam, "de") => "Darauf habe ich keine sichere Antwort, und hier gibt es kein Team, an das ich dich weitergeben kann. Kannst du es anders formulieren?",
        (NoTeam, "fr") => "Je n'ai pas de réponse sûre à cela, et il n'y a pas d'équipe à qui vous transférer ici. Pouvez-vous reformuler ?",
        (NoTeam, "pt") => "Não tenho uma resposta segura para isso e aqui não há uma equipa para quem te passar. Podes dizê-lo de outra forma?",
        (NoTeam, _) => "I don't have a reliable answer to that, and there is no team to pass you to here. Could you put it another way?",
        (LeadIn, "es") => "Esto es lo que dicen nuestras páginas de ayuda:",
        (LeadIn, "de") => "Das steht dazu in unserer Hilfe:",
        (LeadIn, "fr") => "Voici ce qu'indiquent nos pages d'aide :",
        (LeadIn, "pt") => "Eis o que dizem as nossas páginas de ajuda:",
        (LeadIn, _) => "Here's what our help pages say:",
        (LeadInOtherLanguage, "es") => "Esto es lo que dicen nuestras páginas de ayuda (en otro idioma):",
        (LeadInOtherLanguage, "de") => "Das steht dazu in unserer Hilfe (in einer anderen Sprache):",
        (LeadInOtherLanguage, "fr") => "Voici ce qu'indiquent nos pages d'aide (dans une autre langue) :",
        (LeadInOtherLanguage, "pt") => "Eis o que dizem as nossas páginas de ajuda (noutra língua):",
        (LeadInOtherLanguage, _) => "Here's what our help pages say (in another language):",
        (MaybeRelated, "es") => "Mientras tanto, esta página de ayuda puede estar relacionada:",
        (MaybeRelated, "de") => "Bis dahin hilft vielleicht diese Hilfeseite:",
        (MaybeRelated, "fr") => "En attendant, cette page d'aide pourrait vous être utile :",
        (MaybeRelated, "pt") => "Entretanto, esta página de ajuda pode estar relacionada:",
        (MaybeRelated, _) => "Meanwhile, this help page may be related:",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaks_the_recorded_then_detected_then_tenant_language() {
        assert_eq!(language(Some("es-MX"), Some("de"), "en"), "es");
        assert_eq!(language(Some("ja"), Some("de"), "en"), "de");
        assert_eq!(language(None, None, "fr"), "fr");
        assert_eq!(language(Some("zz"), None, "xx"), "en");
        assert!(say(Phrase::HandoffOpen, "pt").contains("equipa"));
    }
}
