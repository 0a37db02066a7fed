//! Customer-service synonyms in English: customers say "swap", "guarantee" and "engraved" where
//! help pages say "exchange", "warranty" and "personalised". Each group's words stand for each
//! other when a question is matched against the knowledge base (retrieval adds the ones the
//! knowledge base uses; the responder counts any of them as the question's word).
//!
//! Hand-made and general (retail, delivery, payments, accounts, rentals, repairs, contact), not
//! any one tenant's wording; with a provider configured, its embeddings and model do the rest.

// Sees outside bytes (questions): no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::text;
use std::sync::OnceLock;

/// Groups of words that mean the same to a support question. Single words only.
const GROUPS: &[&[&str]] = &[
    // returns and refunds
    &["return", "returning", "returned", "returns", "sendback"],
    &[
        "refund",
        "refunded",
        "refunds",
        "reimburse",
        "reimbursed",
        "reimbursement",
        "cash",
        "moneyback",
    ],
    &[
        "exchange",
        "exchanged",
        "swap",
        "swapped",
        "switch",
        "replace",
    ],
    &["tags", "tag", "labels", "label"],
    &[
        "personalised",
        "personalized",
        "engraved",
        "engraving",
        "monogrammed",
        "customised",
        "customized",
        "custom",
        "printed",
    ],
    &["unworn", "unused", "unwashed"],
    &[
        "faulty",
        "defective",
        "broken",
        "damaged",
        "fault",
        "defect",
        "malfunction",
    ],
    &["warranty", "guarantee", "guaranteed", "warranties"],
    &["swimwear", "swimsuit", "bikini", "trunks"],
    &["underwear", "lingerie", "boxers", "briefs", "socks"],
    // delivery
    &[
        "delivery",
        "deliver",
        "delivered",
        "shipping",
        "ship",
        "shipped",
        "postage",
        "dispatch",
        "dispatched",
        "courier",
        "post",
    ],
    &["parcel", "package", "packet", "shipment"],
    &["tracking", "track", "trace"],
    &[
        "express", "fast", "faster", "quick", "quicker", "urgent", "rush",
    ],
    &[
        "abroad",
        "international",
        "overseas",
        "countries",
        "country",
        "worldwide",
    ],
    &["customs", "duties", "duty", "import"],
    // money
    &[
        "price", "prices", "cost", "costs", "fee", "fees", "charge", "charged", "rate", "rates",
        "tariff",
    ],
    &["pay", "paid", "payment", "payments", "checkout"],
    &[
        "card",
        "cards",
        "credit",
        "debit",
        "visa",
        "mastercard",
        "amex",
    ],
    &["amex", "american"],
    &["invoice", "invoices", "receipt", "receipts", "bill", "vat"],
    &[
        "discount",
        "discounts",
        "coupon",
        "voucher",
        "promo",
        "code",
    ],
    &["deposit", "deposits", "hold", "preauthorisation"],
    &[
        "instalments",
        "installments",
        "instalment",
        "installment",
        "klarna",
    ],
    &["cheap", "cheaper", "cheapest", "affordable"],
    // accounts
    &["account", "accounts", "profile", "login", "signin"],
    &["password", "passwords", "passcode", "pin"],
    &["reset", "forgot", "forgotten", "recover"],
    &["delete", "deleted", "remove", "close", "erase"],
    &["email", "mail", "newsletter"],
    &["address", "addresses", "location", "located", "where"],
    // shops and people
    &[
        "store", "stores", "shop", "shops", "branch", "outlet", "showroom", "hub", "hubs",
    ],
    &["hours", "open", "opening", "closing", "closed"],
    &["support", "service", "team", "agent", "staff", "help"],
    &["phone", "call", "telephone", "ring", "hotline"],
    &["chat", "chats", "message", "messages", "whatsapp"],
    // sizes
    &["size", "sizes", "sizing", "fit", "fits", "fitting"],
    &["tight", "small", "smaller"],
    &["loose", "big", "large", "larger", "bigger"],
    &["measure", "measurement", "measurements", "measuring"],
    &[
        "knitwear", "sweater", "jumper", "pullover", "cardigan", "knit",
    ],
    // orders
    &[
        "order",
        "orders",
        "ordered",
        "purchase",
        "purchased",
        "bought",
        "buy",
    ],
    &[
        "cancel",
        "cancelled",
        "canceled",
        "cancellation",
        "cancelation",
        "cancelling",
    ],
    &["change", "changed", "modify", "amend", "edit", "update"],
    &["stock", "available", "availability", "restock", "sold"],
    // rentals, bikes, repairs
    &["bike", "bikes", "bicycle", "bicycles", "cycle"],
    &["ebike", "ebikes", "electric", "pedelec"],
    &[
        "rent", "rental", "rentals", "hire", "hiring", "rented", "borrow",
    ],
    &[
        "subscription",
        "subscriptions",
        "subscribe",
        "membership",
        "plan",
        "monthly",
    ],
    &[
        "repair",
        "repairs",
        "fix",
        "fixed",
        "fixing",
        "service",
        "servicing",
        "maintenance",
        "mechanic",
    ],
    &["puncture", "flat", "tyre", "tire", "tyres", "tires"],
    &["stolen", "theft", "steal", "stole"],
    &["insurance", "insured", "cover", "covered", "liability"],
    &["accident", "crash", "crashed", "injury", "injured"],
    &["helmet", "helmets"],
    &["lock", "locks", "key", "keys"],
    &["battery", "batteries", "charge", "charger", "range"],
    &["child", "children", "kid", "kids", "son", "daughter", "age"],
    &["train", "trains", "rail"],
    &["weather", "rain", "storm", "snow"],
    &["late", "overdue", "delay", "delayed"],
    &["early", "earlier", "sooner"],
    &["pause", "paused", "suspend", "freeze", "hold"],
    &[
        "identity",
        "id",
        "passport",
        "documents",
        "licence",
        "license",
    ],
    // time
    &["days", "day", "weeks", "week"],
    &["window", "deadline", "period", "within"],
    &["weekend", "saturday", "sunday"],
    &["tonight", "evening", "night", "late"],
    // materials and sustainability
    &[
        "recycled",
        "recycle",
        "recycling",
        "sustainable",
        "sustainability",
        "eco",
    ],
    // more general retail and service vocabulary
    &["gift", "present"],
    &["wrap", "wrapping", "packaging", "giftbox"],
    &["arrive", "arrived", "arrival", "receive", "received"],
    &["missing", "lost", "lose", "misplaced", "disappeared"],
    &["wrong", "incorrect", "mistake", "error"],
    &["complaint", "complain", "unhappy", "dissatisfied"],
    &["quality", "material", "fabric"],
    &["wash", "washing", "clean", "cleaning", "care", "laundry"],
    &["colour", "color", "colours", "colors"],
    &["jacket", "coat", "parka", "anorak"],
    &["shoes", "boots", "sneakers", "trainers", "footwear"],
    &["trousers", "pants", "jeans"],
    &["backpack", "rucksack", "bag"],
    &["bank", "transfer", "iban", "sepa"],
    &["charged", "billed", "debited"],
    &["collect", "collection", "pickup", "pick"],
    &["near", "nearby", "closest", "nearest"],
    &["holiday", "holidays", "christmas", "easter"],
    &[
        "weekday",
        "weekdays",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
    ],
    &["contract", "agreement", "terms", "conditions"],
    &["move", "moved", "moving", "relocate", "relocating"],
    &["business", "company", "corporate", "b2b"],
    &["vat", "tax", "taxes"],
    &["newsletter", "unsubscribe", "marketing"],
    &["privacy", "gdpr", "data", "personal"],
    &["app", "application", "mobile"],
    &["website", "site", "online", "web"],
    &["register", "registration", "signup", "create"],
    &["lights", "light", "lamp"],
    &["seat", "saddle"],
    &["baby", "toddler", "infant", "child"],
    &["sale", "offer", "deal", "discount"],
    &["free", "complimentary", "included"],
    &["damage", "scratch", "scratched", "dent"],
    &["speak", "talk", "contact", "reach"],
];

/// Each group's words with their stems, worked out once per isolate.
fn stemmed() -> &'static [Vec<(&'static str, String)>] {
    static STEMMED: OnceLock<Vec<Vec<(&'static str, String)>>> = OnceLock::new();
    STEMMED.get_or_init(|| {
        GROUPS
            .iter()
            .map(|g| g.iter().map(|w| (*w, text::match_stem(w))).collect())
            .collect()
    })
}

/// The groups `word` belongs to (by its own spelling or its stem).
fn groups_of(word: &str) -> Vec<&'static Vec<(&'static str, String)>> {
    let own = text::match_stem(word);
    stemmed()
        .iter()
        .filter(|g| g.iter().any(|(w, s)| *w == word || *s == own))
        .collect()
}

/// Stems of the words that stand for `word` (its groups' words, stemmed), without `word`'s
/// own stem; empty when no group has it.
pub fn synonyms(word: &str) -> Vec<String> {
    let own = text::match_stem(word);
    let mut out: Vec<String> = Vec::new();
    for group in groups_of(word) {
        for (_, s) in group {
            if *s != own && !out.contains(s) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// The surface words of `word`'s groups (what a keyword search can look for).
pub fn synonym_words(word: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for group in groups_of(word) {
        for (w, _) in group {
            if *w != word && !out.contains(w) {
                out.push(w);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_words_stand_for_the_help_pages_words() {
        assert!(synonyms("guarantee").contains(&text::match_stem("warranty")));
        assert!(synonyms("swap").contains(&text::match_stem("exchange")));
        assert!(synonyms("engraved").contains(&text::match_stem("personalised")));
        assert!(synonym_words("labels").contains(&"tags"));
        assert!(synonyms("zebra").is_empty());
    }
}
