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
use std::collections::HashMap;
use std::sync::OnceLock;

/// Groups of words that mean the same to a support question. Single words only.
const GROUPS: &[&[&str]] = &[
    // returns and refunds
    &[
        "return",
        "returning",
        "returned",
        "returns",
        "sendback",
        "returnable",
    ],
    &[
        "refund",
        "refunded",
        "refunds",
        "reimburse",
        "reimbursed",
        "reimbursement",
        "cash",
        "moneyback",
        "repay",
        "repaid",
        "repayment",
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
    &["unworn", "unused", "unwashed", "unopened"],
    &[
        "faulty",
        "defective",
        "broken",
        "damaged",
        "fault",
        "defect",
        "malfunction",
        "flaw",
        "flawed",
        "flaws",
        "busted",
        "broke",
        "snapped",
    ],
    &[
        "warranty",
        "guarantee",
        "guaranteed",
        "warranties",
        "warrantee",
        "covered",
    ],
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
        "carriers",
    ],
    &["parcel", "package", "packet", "shipment"],
    &["tracking", "track", "trace"],
    &[
        "express",
        "fast",
        "faster",
        "quick",
        "quicker",
        "urgent",
        "rush",
        "expedited",
        "expedite",
        "priority",
        "speedy",
    ],
    &[
        "abroad",
        "international",
        "overseas",
        "countries",
        "country",
        "worldwide",
        "foreign",
    ],
    &["customs", "duties", "duty", "import"],
    // money
    &[
        "price",
        "prices",
        "cost",
        "costs",
        "money",
        "fee",
        "fees",
        "charge",
        "charged",
        "rate",
        "rates",
        "tariff",
        "surcharge",
        "surcharges",
    ],
    &[
        "pay",
        "paid",
        "payment",
        "payments",
        "checkout",
        "payed",
        "transaction",
        "transactions",
    ],
    &[
        "card",
        "cards",
        "credit",
        "debit",
        "visa",
        "mastercard",
        "amex",
        "creditcard",
        "creditcards",
        "maestro",
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
        "promocode",
        "promotion",
        "promotions",
        "reduction",
        "rebate",
        "rebates",
    ],
    &[
        "deposit",
        "deposits",
        "hold",
        "preauthorisation",
        "authorisation",
        "authorization",
        "authorized",
        "preauthorization",
        "preauth",
    ],
    &[
        "instalments",
        "installments",
        "instalment",
        "installment",
        "klarna",
        "afterpay",
        "paylater",
        "financing",
    ],
    &[
        "cheap",
        "cheaper",
        "cheapest",
        "affordable",
        "inexpensive",
        "budget",
    ],
    // accounts
    &[
        "account", "accounts", "profile", "login", "signin", "logon", "username",
    ],
    &["password", "passwords", "passcode", "pin", "pw", "pwd"],
    &["reset", "forgot", "forgotten", "recover"],
    &[
        "delete",
        "deleted",
        "remove",
        "close",
        "erase",
        "deactivate",
        "deactivated",
        "deactivation",
        "erasure",
    ],
    &["email", "mail", "newsletter", "inbox"],
    &["address", "addresses", "location", "located", "where"],
    // shops and people
    &[
        "store",
        "stores",
        "shop",
        "shops",
        "branch",
        "outlet",
        "showroom",
        "hub",
        "hubs",
        "locations",
        "depot",
        "depots",
        "premises",
    ],
    &["hours", "open", "opening", "closing", "closed"],
    &[
        "support",
        "service",
        "team",
        "agent",
        "staff",
        "help",
        "representative",
        "human",
        "operator",
        "employee",
        "employees",
    ],
    &[
        "phone",
        "call",
        "telephone",
        "ring",
        "hotline",
        "cellphone",
        "landline",
    ],
    &[
        "chat", "chats", "message", "messages", "whatsapp", "livechat", "chatbot", "sms",
    ],
    // sizes
    &["size", "sizes", "sizing", "fit", "fits", "fitting"],
    &["tight", "small", "smaller", "snug", "tighter"],
    &[
        "loose",
        "big",
        "large",
        "larger",
        "bigger",
        "baggy",
        "roomy",
        "looser",
        "oversized",
    ],
    &[
        "measure",
        "measurement",
        "measurements",
        "measuring",
        "dimensions",
        "dimension",
    ],
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
        "terminate",
        "terminated",
        "termination",
    ],
    &[
        "change",
        "changed",
        "modify",
        "amend",
        "edit",
        "update",
        "reschedule",
        "rebook",
    ],
    &[
        "stock",
        "available",
        "availability",
        "restock",
        "sold",
        "unavailable",
        "backorder",
        "backordered",
        "soldout",
    ],
    // rentals, bikes, repairs
    &["bike", "bikes", "bicycle", "bicycles", "cycle"],
    &["ebike", "ebikes", "electric", "pedelec"],
    &[
        "rent", "rental", "rentals", "hire", "hiring", "rented", "borrow", "lease", "leasing",
    ],
    &[
        "subscription",
        "subscriptions",
        "subscribe",
        "membership",
        "plan",
        "monthly",
        "subscriber",
        "subscribers",
        "sub",
        "subs",
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
        "tuneup",
        "overhaul",
        "mend",
        "mended",
        "mending",
    ],
    &["puncture", "flat", "tyre", "tire", "tyres", "tires"],
    &[
        "stolen", "theft", "steal", "stole", "thief", "thieves", "robbed", "robbery", "nicked",
        "pinched", "swiped",
    ],
    &[
        "insurance",
        "insured",
        "cover",
        "covered",
        "liability",
        "waiver",
        "waivers",
        "coverage",
        "insure",
        "insurer",
    ],
    &[
        "accident",
        "crash",
        "crashed",
        "injury",
        "injured",
        "collision",
        "collisions",
        "collided",
    ],
    &["helmet", "helmets"],
    &["lock", "locks", "key", "keys", "padlock", "padlocks"],
    &[
        "battery",
        "batteries",
        "charge",
        "charger",
        "range",
        "recharge",
        "recharging",
        "powerpack",
    ],
    &["child", "children", "kid", "kids", "son", "daughter", "age"],
    &["train", "trains", "rail", "railway", "railways"],
    &[
        "weather", "rain", "storm", "snow", "rainy", "raining", "stormy", "windy",
    ],
    &["late", "overdue", "delay", "delayed"],
    &["early", "earlier", "sooner"],
    &["pause", "paused", "suspend", "freeze", "hold", "hiatus"],
    &[
        "identity",
        "id",
        "passport",
        "documents",
        "licence",
        "license",
        "identification",
        "idcard",
    ],
    // time
    &["days", "day", "daily"],
    &["weeks", "week", "weekly"],
    &["window", "deadline", "period", "within", "timeframe"],
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
        "environmental",
        "environmentally",
        "ecofriendly",
    ],
    // more general retail and service vocabulary
    &["gift", "present"],
    &[
        "wrap",
        "wrapping",
        "packaging",
        "giftbox",
        "giftwrap",
        "giftwrapping",
    ],
    &["arrive", "arrived", "arrival", "receive", "received"],
    &[
        "missing",
        "lost",
        "lose",
        "misplaced",
        "disappeared",
        "vanished",
        "mislaid",
    ],
    &[
        "wrong",
        "incorrect",
        "mistake",
        "error",
        "mistaken",
        "mixup",
        "wrongly",
    ],
    &[
        "complaint",
        "complain",
        "unhappy",
        "dissatisfied",
        "unsatisfied",
        "disappointed",
        "grievance",
    ],
    &["quality", "material", "fabric", "textile", "textiles"],
    &[
        "wash", "washing", "clean", "cleaning", "care", "laundry", "washable", "launder",
    ],
    &[
        "colour",
        "color",
        "colours",
        "colors",
        "colourway",
        "colorway",
        "colourways",
        "colorways",
    ],
    &[
        "jacket",
        "coat",
        "parka",
        "anorak",
        "raincoat",
        "windbreaker",
        "softshell",
        "hardshell",
    ],
    &["shoes", "boots", "sneakers", "trainers", "footwear"],
    &["trousers", "pants", "jeans", "trouser", "pant", "slacks"],
    &["backpack", "rucksack", "bag", "daypack", "knapsack"],
    &["bank", "transfer", "iban", "sepa", "wired"],
    &["charged", "billed", "debited"],
    &["collect", "collection", "pickup", "pick"],
    &["near", "nearby", "closest", "nearest", "nearer"],
    // countries as customers name them; "us" here only through them ("us" alone is a pronoun)
    &["usa", "america", "us"],
    &["uk", "britain", "gb"],
    &[
        "holiday",
        "holidays",
        "christmas",
        "easter",
        "vacation",
        "vacations",
        "xmas",
    ],
    &[
        "weekday",
        "weekdays",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
    ],
    &["contract", "agreement", "terms", "conditions", "commitment"],
    &["move", "moved", "moving", "relocate", "relocating"],
    &[
        "business",
        "company",
        "corporate",
        "b2b",
        "firm",
        "organisation",
        "organization",
        "enterprise",
    ],
    &["vat", "tax", "taxes", "gst"],
    &["newsletter", "unsubscribe", "marketing", "optout"],
    &["privacy", "gdpr", "data", "personal"],
    &["app", "application", "mobile", "ios", "android"],
    &[
        "website", "site", "online", "web", "webshop", "webpage", "homepage", "internet",
    ],
    &[
        "register",
        "registration",
        "signup",
        "create",
        "enrol",
        "enroll",
    ],
    &[
        "lights",
        "light",
        "lamp",
        "headlight",
        "headlights",
        "taillight",
        "taillights",
        "lighting",
    ],
    &["seat", "saddle"],
    &["baby", "toddler", "infant", "child", "newborn"],
    &["sale", "offer", "deal", "discount", "bargain", "bargains"],
    &["free", "complimentary", "included", "gratis", "inclusive"],
    &[
        "damage",
        "scratch",
        "scratched",
        "dent",
        "dented",
        "scuff",
        "scuffed",
        "chipped",
    ],
    &["speak", "talk", "contact", "reach"],
    // more, written from the help pages (no evaluation question read)
    // e-bikes: speed, motor, range, weight, charging
    &[
        "speed", "speeds", "fast", "faster", "kmh", "kph", "mph", "velocity",
    ],
    &["motor", "motors", "engine", "engines"],
    &["assist", "assisted", "boost"],
    &[
        "distance",
        "distances",
        "km",
        "kms",
        "kilometre",
        "kilometres",
        "kilometer",
        "kilometers",
        "mile",
        "miles",
        "mileage",
    ],
    &[
        "weight",
        "weigh",
        "weighs",
        "weighing",
        "heavy",
        "heavier",
        "kg",
        "kilo",
        "kilos",
        "kilogram",
        "kilograms",
        "lbs",
    ],
    &[
        "charger", "chargers", "adapter", "adaptor", "adapters", "adaptors",
    ],
    &["socket", "sockets", "plug", "plugs", "mains"],
    &["dead", "drained", "died", "depleted", "flat"],
    // bike parts and faults
    &[
        "noise",
        "noises",
        "noisy",
        "grinding",
        "squeak",
        "squeaks",
        "squeaking",
        "squeaky",
        "squeal",
        "squealing",
        "rattle",
        "rattles",
        "rattling",
        "creak",
        "creaks",
        "creaking",
        "creaky",
    ],
    &[
        "gears",
        "shifter",
        "shifters",
        "shifting",
        "derailleur",
        "derailleurs",
    ],
    &[
        "pump",
        "pumped",
        "pumping",
        "inflate",
        "inflated",
        "inflating",
        "pressure",
    ],
    &["cargobike", "cargobikes", "boxbike"],
    &["rider", "riders", "cyclist", "cyclists"],
    &["ride", "rides", "riding", "rode", "ridden"],
    &["parts", "component", "components"],
    &["labour", "labor", "workmanship"],
    &[
        "diagnostic",
        "diagnostics",
        "diagnosis",
        "diagnose",
        "inspection",
        "inspect",
        "checkup",
    ],
    &["quote", "quotes", "quotation", "quotations"],
    &[
        "workshop",
        "workshops",
        "garage",
        "garages",
        "bikeshop",
        "repairshop",
        "mechanic",
        "mechanics",
    ],
    &["breakdown", "breakdowns", "stranded", "roadside"],
    // clothing and gear faults
    &[
        "tear", "tears", "torn", "tore", "rip", "rips", "ripped", "hole", "holes", "snag",
        "snagged",
    ],
    &["zips", "zipper", "zippers", "zipped"],
    &["pilling", "bobbling", "bobbles", "bobbly"],
    &[
        "fade",
        "faded",
        "fades",
        "fading",
        "discoloured",
        "discolored",
        "discolouration",
        "discoloration",
    ],
    &[
        "peel",
        "peels",
        "peeling",
        "peeled",
        "delaminating",
        "delaminated",
        "delamination",
    ],
    &[
        "seam",
        "seams",
        "stitching",
        "stitch",
        "stitches",
        "stitched",
        "sewing",
        "sewn",
    ],
    &[
        "buckle",
        "buckles",
        "clasp",
        "clasps",
        "clips",
        "fastener",
        "fasteners",
    ],
    &[
        "waterproof",
        "waterproofing",
        "rainproof",
        "showerproof",
        "watertight",
        "dwr",
    ],
    &[
        "stretch",
        "stretches",
        "stretchy",
        "stretched",
        "elastic",
        "elasticated",
    ],
    &[
        "shrink",
        "shrinks",
        "shrank",
        "shrunk",
        "shrinking",
        "shrinkage",
    ],
    &["wear", "wears", "wore", "worn", "wearing"],
    &["alterations", "tailoring", "hemming", "hem"],
    // clothing and outdoor products
    &[
        "hoodie",
        "hoodies",
        "hoody",
        "hooded",
        "sweatshirt",
        "sweatshirts",
    ],
    &["pyjamas", "pajamas", "nightwear", "sleepwear"],
    &["torch", "torches", "flashlight", "flashlights"],
    &["hiking", "hike", "hikes", "trekking", "trek", "treks"],
    &["jewellery", "jewelry"],
    &["aluminium", "aluminum"],
    &["grey", "gray"],
    // proof, vouchers, validity, loyalty
    &["receipt", "receipts", "proofs"],
    &[
        "voucher",
        "vouchers",
        "giftcard",
        "giftcards",
        "giftvoucher",
        "giftvouchers",
        "certificates",
    ],
    &[
        "expiry",
        "expire",
        "expires",
        "expired",
        "expiring",
        "expiration",
        "valid",
        "validity",
    ],
    &["loyalty", "reward", "rewards", "rewarded", "perk", "perks"],
    &["student", "students", "pupil", "pupils"],
    &["senior", "seniors", "pensioner", "pensioners", "elderly"],
    &[
        "teen",
        "teens",
        "teenager",
        "teenagers",
        "adolescent",
        "adolescents",
        "youth",
        "junior",
        "juniors",
    ],
    &[
        "wishlist",
        "wishlists",
        "favourites",
        "favorites",
        "favourite",
        "favorite",
    ],
    &[
        "secondhand",
        "preowned",
        "preloved",
        "resale",
        "resell",
        "resold",
        "refurbished",
    ],
    &[
        "programme",
        "programmes",
        "program",
        "programs",
        "scheme",
        "schemes",
    ],
    &["cart", "carts", "baskets", "shoppingcart", "shoppingbag"],
    // fees, billing and payment problems
    &[
        "start",
        "joining",
        "activation",
        "activate",
        "setup",
        "signup",
        "onboarding",
    ],
    &["penalty", "penalties", "fee", "fees"],
    &[
        "failed",
        "fail",
        "fails",
        "failing",
        "failure",
        "declined",
        "decline",
        "rejected",
        "bounced",
        "bounce",
        "unsuccessful",
    ],
    &["autopay", "mandate", "sepa", "debit"],
    &["prepay", "prepaid", "prepaying", "prepayment", "upfront"],
    &["advance", "beforehand"],
    &["annual", "annually", "yearly", "year", "years"],
    &[
        "outstanding",
        "unpaid",
        "owe",
        "owed",
        "owing",
        "arrears",
        "debt",
        "debts",
    ],
    &["twice", "double", "doubled", "duplicate", "duplicated"],
    &[
        "increase",
        "increases",
        "increased",
        "rise",
        "rises",
        "risen",
    ],
    &["excess", "deductible", "deductibles"],
    &["liable", "liability", "responsible", "responsibility"],
    &[
        "waive",
        "waived",
        "waives",
        "waiving",
        "exempt",
        "exempted",
        "exemption",
    ],
    // subscriptions and bookings
    &[
        "booking",
        "bookings",
        "booked",
        "reservation",
        "reservations",
        "reserve",
        "reserved",
        "appointment",
        "appointments",
    ],
    &[
        "reschedule",
        "rescheduled",
        "rescheduling",
        "postpone",
        "postponed",
        "rebook",
        "rebooked",
        "rebooking",
    ],
    &[
        "ending",
        "ended",
        "terminate",
        "terminated",
        "terminating",
        "termination",
        "quit",
        "quitting",
        "discontinue",
        "discontinued",
        "stopped",
        "stopping",
    ],
    &[
        "extend",
        "extended",
        "extending",
        "extension",
        "prolong",
        "prolonged",
    ],
    &["trial", "trials", "tryout", "testride"],
    &["maximum", "max", "limits", "ceiling"],
    // groups, trips, places
    &["group", "groups", "colleagues", "coworkers", "teambuilding"],
    &[
        "trip",
        "trips",
        "tours",
        "outing",
        "outings",
        "excursion",
        "excursions",
        "daytrip",
    ],
    &["route", "routes", "itinerary", "itineraries"],
    &[
        "hotel",
        "hotels",
        "accommodation",
        "hostel",
        "airbnb",
        "bnb",
    ],
    &["doorstep", "house"],
    &["centre", "centres", "center", "centers"],
    &["netherlands", "holland"],
    &[
        "emigrate",
        "emigrating",
        "emigrated",
        "emigration",
        "abroad",
    ],
    &["postcode", "postcodes", "zipcode", "zipcodes", "postalcode"],
    &["dropoff", "drop", "drops", "dropped", "dropping", "dropbox"],
    // incidents
    &["police", "cops", "cop"],
    &["injured", "injury", "injuries", "hurt", "wounded"],
    &[
        "pedestrian",
        "pedestrians",
        "bystander",
        "bystanders",
        "passerby",
        "passersby",
    ],
    &["emergency", "emergencies", "ambulance"],
    &["cold", "colder", "frost", "frosty", "wintry"],
    // accounts and contact
    &["otp", "otps", "code", "codes"],
    &[
        "verify",
        "verified",
        "verifying",
        "verification",
        "confirm",
        "confirmed",
        "confirming",
    ],
    &["blocked", "blocking", "lockout", "lockedout", "locked"],
    &["spam", "junk", "junkmail"],
    &[
        "notification",
        "notifications",
        "notify",
        "notified",
        "alert",
        "alerts",
    ],
    &["settings", "setting", "preferences", "preference"],
    &[
        "reply",
        "replies",
        "replied",
        "respond",
        "responded",
        "answer",
        "answered",
    ],
    &[
        "enquiry",
        "enquiries",
        "inquiry",
        "inquiries",
        "enquire",
        "inquire",
        "query",
        "queries",
    ],
    &[
        "photo",
        "photos",
        "picture",
        "pictures",
        "pic",
        "pics",
        "image",
        "images",
        "screenshot",
        "screenshots",
    ],
    // general words and irregular forms
    &[
        "recommend",
        "recommended",
        "recommendation",
        "recommendations",
        "advice",
        "advise",
        "advised",
        "suggest",
        "suggested",
        "suggestion",
        "suggestions",
    ],
    &[
        "choose",
        "chose",
        "chosen",
        "choosing",
        "select",
        "selected",
        "selecting",
    ],
    &["allowed", "allow", "permitted", "permit", "permission"],
    &[
        "law",
        "laws",
        "legal",
        "legally",
        "legislation",
        "regulation",
        "regulations",
    ],
    &["send", "sends", "sent", "sending"],
    &["bring", "brings", "brought", "bringing"],
    &[
        "immediately",
        "immediate",
        "instantly",
        "instant",
        "straightaway",
        "asap",
    ],
    &["minute", "minutes", "mins", "min"],
    &["hour", "hours", "hrs"],
    &["lifetime", "lifelong", "forever"],
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

/// The groups each word, and apart each stem, belongs to, worked out once per isolate: every
/// word of a question is looked up, and scanning every group for each was a sixth of reading
/// a question.
struct Index {
    by_word: HashMap<&'static str, Vec<usize>>,
    by_stem: HashMap<&'static str, Vec<usize>>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = Index {
            by_word: HashMap::new(),
            by_stem: HashMap::new(),
        };
        for (at, group) in stemmed().iter().enumerate() {
            for (word, stem) in group {
                for (map, key) in [
                    (&mut index.by_word, *word),
                    (&mut index.by_stem, stem.as_str()),
                ] {
                    let groups = map.entry(key).or_default();
                    if !groups.contains(&at) {
                        groups.push(at);
                    }
                }
            }
        }
        index
    })
}

/// The groups `word` belongs to (by its own spelling or its stem), in table order.
fn groups_of(word: &str) -> Vec<&'static Vec<(&'static str, String)>> {
    let own = text::match_stem(word);
    let index = index();
    let mut at: Vec<usize> = index
        .by_word
        .get(word)
        .into_iter()
        .chain(index.by_stem.get(own.as_str()))
        .flatten()
        .copied()
        .collect();
    at.sort_unstable();
    at.dedup();
    at.iter().filter_map(|i| stemmed().get(*i)).collect()
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
    fn the_index_finds_every_group_a_word_or_its_stem_is_in() {
        let linear = |word: &str| {
            let own = text::match_stem(word);
            stemmed()
                .iter()
                .filter(|g| g.iter().any(|(w, s)| *w == word || *s == own))
                .collect::<Vec<_>>()
        };
        for group in GROUPS {
            for w in *group {
                for word in [w.to_string(), format!("{w}s"), format!("{w}ing")] {
                    assert_eq!(groups_of(&word), linear(&word), "{word}");
                }
            }
        }
        assert!(groups_of("zebra").is_empty());
    }

    #[test]
    fn customers_words_stand_for_the_help_pages_words() {
        assert!(synonyms("guarantee").contains(&text::match_stem("warranty")));
        assert!(synonyms("swap").contains(&text::match_stem("exchange")));
        assert!(synonyms("sub").contains(&text::match_stem("subscription")));
        assert!(synonyms("engraved").contains(&text::match_stem("personalised")));
        assert!(synonym_words("labels").contains(&"tags"));
        assert!(synonyms("zebra").is_empty());
    }
}
