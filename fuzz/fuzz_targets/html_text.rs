//! Knowledge documents and email bodies: HTML/Markdown/text extraction, chunking, tokenising and
//! the local message analysis, question understanding (typo correction, synonyms, the
//! lexicon), on any UTF-8 input (the API only accepts UTF-8 JSON strings).
#![no_main]
use libfuzzer_sys::fuzz_target;
use prism_core::knowledge::{chunk, ingest, text};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for format in ["html", "markdown", "text"] {
        let body = ingest::plain_text(format, s);
        for c in chunk::chunk(&format!("# Title\n\n{body}")) {
            assert!(c.text.chars().count() <= chunk::MAX_CHARS + chunk::OVERLAP_CHARS + 1);
        }
    }
    let _ = text::terms(s);
    // A question read against a vocabulary built from the same bytes (typo correction walks it),
    // and the built-in responder quoting a passage made of them.
    let mut vocab = prism_core::knowledge::vocab::Vocabulary::default();
    vocab.add_passage(s);
    vocab.add_passage("Returns within 30 days. Warranty claims need a photo.");
    let q = prism_core::knowledge::query::understand(s, Some(&vocab));
    assert!(q.terms.iter().all(|t| t.weight.is_some_and(f32::is_finite)));
    let _ = prism_core::knowledge::query::understand(s, None);
    // The built-in responder, with the same bytes as question and as the pages it reads (its
    // tests of a sentence for a time of day, a distance, an address see page text as it is).
    use prism_core::knowledge::{search::Hit, store::Passage};
    let hit = |doc: &str, text: &str, score: f64| Hit {
        passage: Passage {
            chunk_id: 1,
            document_id: doc.into(),
            title: doc.into(),
            source_url: None,
            heading: String::new(),
            text: text.into(),
        },
        score,
        similarity: Some(0.5),
        keyword_rank: Some(1),
    };
    let hits = [
        hit("a", s, 1.0),
        hit("b", "Rosenthaler Strasse 12, open from 10:00, range 90 km.", 0.9),
        hit("a", s, 0.0),
    ];
    // Two questions per input (the responder reads every sentence: more would slow the whole
    // target several times over): the input itself, and one asking for a rare kind of fact.
    let asked = ["what time do you open", "address of your shop?", "how far can I go"];
    let translated = data.len() % 2 == 0;
    for question in [s, asked[data.len() % asked.len()]] {
        let q = prism_core::knowledge::query::understand(question, Some(&vocab));
        if let Ok((text, used)) = prism_core::ai::providers::offline::reply(&q, &hits, translated) {
            assert!(used.iter().all(|&i| i < hits.len()) && !text.is_empty());
        }
    }
    let _ = prism_core::knowledge::search::fts_query(&q.search_text);
    let _ = prism_core::ai::analysis::local(s, "en");
    let _ = prism_core::channels::resend::reply_text(s);
    // The search box: whatever is typed becomes quoted prefix terms and nothing else.
    let q = prism_core::conversations::search::match_query(s);
    assert!(q.split(" AND ").all(|t| t.is_empty() || (t.starts_with('"') && t.ends_with("\"*") && t.matches('"').count() == 2)));
    let _ = prism_core::input::check::language("language", s);
    // Leads and CRM: contact details and intent found in a customer's words, the answer-cache
    // guard, names split for a CRM, and SOQL literals that must stay literals.
    let found = prism_core::leads::capture::find(s);
    assert!(found.phone.as_deref().is_none_or(|p| p.starts_with('+') && p[1..].bytes().all(|b| b.is_ascii_digit())));
    let _ = prism_core::ai::answer_cache::carries_contact_details(s);
    let _ = prism_core::crm::record::split_name(s);
    let quoted = prism_core::crm::salesforce::soql_quote(s);
    assert!(quoted.starts_with('\'') && quoted.ends_with('\''));
    assert!(!quoted[1..quoted.len() - 1].replace("\\\\", "").replace("\\'", "").contains('\''));
    // Summaries: what customers wrote, summarised without a model; a model's summary reply.
    use prism_core::summaries::extractive::{summarise, Line};
    let lines = [Line { author: "customer", text: s }, Line { author: "ai", text: s }];
    assert!(summarise(&lines, Some(s)).chars().count() < 800);
    let _ = prism_core::summaries::from_model_json(s);
});
