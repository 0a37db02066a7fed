//! Cross-language query expansion for the built-in retrieval: a customer asking in Spanish,
//! German, French or Portuguese about a knowledge base written in English gets the English words
//! for the customer-service vocabulary they used added to the query, and the function words of
//! those languages stop matching English text by accident ("de", "la", "die"…).
//!
//! A small hand-made lexicon rather than a translation model: it has to run in the worker with no
//! provider, in microseconds. It covers the support vocabulary (orders, returns, delivery,
//! payment, sizes, accounts, shops, rentals and repairs), not general language; with a provider
//! configured, its embeddings and the model do the rest.

// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]

use super::text;

/// Function words of es, de, fr and pt that are not also meaningful English words.
pub const FOREIGN_STOPWORDS: &[&str] = &[
    // es
    "el", "la", "los", "las", "de", "del", "que", "y", "en", "un", "una", "es", "por", "para",
    "con", "mi", "mis", "se", "lo", "le", "les", "al", "sus", "su", "puedo", "hay", "como", "cómo",
    "qué", "cuál", "cuando", "cuándo", "cuánto", "cuánta", "cuántos", "cuántas", "cuanto", "dónde",
    "donde", "este", "esta", "esto", "mí", "tengo", "tienen", "tiene", "hacer", "muy", "más",
    "pero", "si", "sí", "ya", "yo", "usted", "ustedes", // de
    "der", "das", "und", "ist", "ich", "mein", "meine", "meinen", "ein", "eine", "einen", "zu",
    "mit", "für", "wie", "wann", "wo", "kann", "können", "ihr", "ihre", "ihren", "sie", "es",
    "bei", "auf", "den", "dem", "des", "nicht", "auch", "noch", "oder", "wenn", "habe", "gibt",
    "welche", "welcher", "lange", "viel", // fr
    "le", "les", "des", "du", "et", "est", "je", "il", "ne", "pas", "une", "mon", "ma", "mes",
    "vous", "votre", "vos", "pour", "avec", "sur", "dans", "peux", "puis", "comment", "quand",
    "où", "combien", "quel", "quelle", "quels", "quelles", "faire", "ce", "cette", // pt
    "o", "os", "um", "uma", "da", "em", "meu", "minha", "não", "é", "qual", "quando", "onde",
    "quanto", "posso", "vocês", "voce", "você", "com", "na", "nas", "nos", "ao",
    // more es
    "tienen", "puede", "pueden", "quiero", "necesito", "hace", "sobre", "entre", "desde", "hasta",
    "tu", "te", "nos", "mis", "algo", "alguien", "estoy", "está", "están", "ser", "sido",
    // more de
    "ab", "welchem", "welches", "gilt", "eure", "euer", "euren", "darf", "dürfen", "bitte",
    "möchte", "bin", "wird", "werden", "haben", "sind", "war", "kein", "keine", "bis", "vom",
    "zum", "zur", "im", "um", "aus", "nach", "über", "mir", "mich", "dich", "dir", "uns", "muss",
    "soll", "jemand", "etwas", "schon", "sich", "was", // more fr
    "peut", "peuvent", "mettre", "pendant", "été", "dois", "doit", "avez", "avoir", "suis", "sont",
    "fait", "quoi", "qui", "nous", "mais", "en", "au", "aux", "leur", "très", "moi", "toi", "ai",
    // more pt
    "faço", "fazer", "quero", "preciso", "pode", "tenho", "pela", "pelo", "das", "dos", "mas", "eu",
    "isso", "isto", "algum", "alguma", "alguém", "estou", "está", "são", "ser", "foi",
];

/// Foreign support vocabulary → English words as the knowledge base writes them. Keys are
/// lower-case; a key ending in `*` matches any word starting with it.
const LEXICON: &[(&str, &str)] = &[
    // returns, refunds, exchanges
    ("devol*", "return refund"),
    ("reembols*", "refund"),
    ("cambi*", "exchange change"),
    ("rücksend*", "return"),
    ("zurück*", "return"),
    ("retour*", "return"),
    ("retourn*", "return"),
    ("rückerstatt*", "refund"),
    ("erstatt*", "refund"),
    ("rembours*", "refund"),
    ("umtausch*", "exchange"),
    ("umtauschen", "exchange"),
    ("échang*", "exchange"),
    ("echang*", "exchange"),
    ("troc*", "exchange"),
    ("devoluç*", "return refund"),
    ("devolv*", "return"),
    ("garant*", "warranty guarantee"),
    // orders, delivery, shipping
    ("pedido*", "order"),
    ("encomend*", "order"),
    ("bestell*", "order"),
    ("commande*", "order"),
    ("envío*", "shipping delivery"),
    ("envio*", "shipping delivery"),
    ("enviar", "ship send"),
    ("entreg*", "delivery deliver"),
    ("llega*", "arrive delivery"),
    ("versand*", "shipping"),
    ("liefer*", "delivery"),
    ("livr*", "delivery shipping"),
    ("expédi*", "shipping"),
    ("paquet*", "parcel package"),
    ("paket*", "parcel package"),
    ("rastre*", "tracking track"),
    ("seguimiento", "tracking"),
    ("sendungsverfolgung", "tracking"),
    ("suivi", "tracking"),
    ("internacional*", "international"),
    ("international*", "international"),
    ("gratis", "free"),
    ("gratuit*", "free"),
    ("kostenlos*", "free"),
    ("grátis", "free"),
    ("tarda*", "take days"),
    ("dauert", "take days"),
    ("demora*", "take days"),
    ("estados", "us"),
    ("unidos", "us"),
    ("eeuu", "us"),
    ("usa", "us"),
    ("états", "us"),
    ("unis", "us"),
    ("staaten", "us"),
    ("vereinigte*", "us"),
    ("reino", "uk"),
    ("unido", "uk"),
    ("alemania", "germany"),
    ("deutschland", "germany"),
    ("allemagne", "germany"),
    ("alemanha", "germany"),
    ("internacionales", "international"),
    ("akzept*", "accept"),
    ("acept*", "accept"),
    ("aceit*", "accept"),
    ("accept*", "accept"),
    // payment, prices
    ("pago", "payment pay"),
    ("pagar", "pay payment"),
    ("pagamento*", "payment"),
    ("zahl*", "payment pay"),
    ("bezahl*", "payment pay"),
    ("paiement*", "payment"),
    ("payer", "pay"),
    ("tarjeta*", "card"),
    ("karte*", "card"),
    ("carte*", "card"),
    ("cartão", "card"),
    ("precio*", "price cost"),
    ("preis*", "price cost"),
    ("prix", "price cost"),
    ("preço*", "price cost"),
    ("cuesta*", "cost"),
    ("kostet", "cost"),
    ("coût*", "cost"),
    ("custa*", "cost"),
    ("factura*", "invoice"),
    ("rechnung*", "invoice"),
    ("facture*", "invoice"),
    ("fatura*", "invoice"),
    ("descuento*", "discount"),
    ("rabatt*", "discount"),
    ("réduction*", "discount"),
    ("desconto*", "discount"),
    ("cupón", "code discount"),
    ("gutschein*", "voucher code"),
    ("código", "code"),
    // sizes, products
    ("talla*", "size"),
    ("größe*", "size"),
    ("grösse*", "size"),
    ("taille*", "size"),
    ("tamanho*", "size"),
    ("zapato*", "shoes"),
    ("schuh*", "shoes"),
    ("chaussure*", "shoes"),
    ("sapato*", "shoes"),
    ("ropa", "clothes"),
    ("kleidung", "clothes"),
    ("vêtement*", "clothes"),
    ("roupa*", "clothes"),
    ("bañador*", "swimwear"),
    ("bikini*", "swimwear bikini"),
    ("badeanzug*", "swimwear"),
    ("maillot*", "swimwear"),
    // account, shops, contact, hours
    ("cuenta*", "account"),
    ("konto*", "account"),
    ("compte*", "account"),
    ("conta", "account"),
    ("contraseña*", "password"),
    ("passwort*", "password"),
    ("senha*", "password"),
    ("tienda*", "store shop"),
    ("laden", "store shop"),
    ("geschäft*", "store shop"),
    ("filiale*", "store shop"),
    ("magasin*", "store shop"),
    ("boutique*", "store shop"),
    ("loja*", "store shop"),
    ("dirección", "address"),
    ("adresse*", "address"),
    ("endereço*", "address"),
    ("horario*", "hours opening"),
    ("öffnungszeit*", "opening hours"),
    ("horaire*", "opening hours"),
    ("abiert*", "open"),
    ("geöffnet", "open"),
    ("ouvert*", "open"),
    ("aberta*", "open"),
    ("días", "days"),
    ("tage*", "days"),
    ("jours", "days"),
    ("dias", "days"),
    ("semana*", "week"),
    ("woche*", "week"),
    ("semaine*", "week"),
    ("contact*", "contact"),
    ("kontakt*", "contact"),
    ("contacto", "contact"),
    ("teléfono", "phone"),
    ("telefon*", "phone"),
    ("téléphone", "phone"),
    ("telefone", "phone"),
    ("correo", "email"),
    ("cancel*", "cancel"),
    ("storn*", "cancel"),
    ("kündig*", "cancel"),
    ("annul*", "cancel"),
    ("résili*", "cancel"),
    // rentals, bikes, repairs, subscriptions
    ("bicicleta*", "bike bicycle"),
    ("fahrrad*", "bike bicycle"),
    ("vélo*", "bike bicycle"),
    ("velo*", "bike"),
    ("alquil*", "rent rental"),
    ("miet*", "rent rental"),
    ("louer", "rent rental"),
    ("alug*", "rent rental"),
    ("repar*", "repair"),
    ("répar*", "repair"),
    ("suscripci*", "subscription"),
    ("abonnement*", "subscription"),
    ("abo", "subscription"),
    ("assinatura*", "subscription"),
    ("reserva*", "booking reservation"),
    ("buchung*", "booking"),
    ("réservation*", "booking reservation"),
    ("robo", "theft stolen"),
    ("robad*", "stolen theft"),
    ("diebstahl*", "theft stolen"),
    ("gestohlen", "stolen theft"),
    ("volé*", "stolen theft"),
    ("roubo*", "theft stolen"),
    ("daño*", "damage"),
    ("schaden*", "damage"),
    ("dommage*", "damage"),
    ("dano*", "damage"),
    ("batería*", "battery"),
    ("akku*", "battery"),
    ("batterie*", "battery"),
    ("eléctric*", "electric"),
    ("elektr*", "electric"),
    ("électrique*", "electric"),
    ("seguro*", "insurance"),
    ("versicherung*", "insurance"),
    ("assurance*", "insurance"),
    // people, ages, time, places
    ("fianza*", "deposit"),
    ("depósito*", "deposit"),
    ("kaution*", "deposit"),
    ("caution*", "deposit"),
    ("caução", "deposit"),
    ("medir", "measure"),
    ("messen", "measure"),
    ("kinder", "child"),
    ("mesur*", "measure"),
    ("pecho", "chest"),
    ("brust*", "chest"),
    ("poitrine", "chest"),
    ("peito", "chest"),
    ("hij*", "child"),
    ("sohn", "child"),
    ("tochter", "child"),
    ("enfant*", "child"),
    ("fils", "child"),
    ("fille", "child"),
    ("filh*", "child"),
    ("criança*", "child"),
    ("niñ*", "child"),
    ("edad", "age"),
    ("alter", "age"),
    ("âge", "age"),
    ("idade", "age"),
    ("años", "years"),
    ("jahre*", "years"),
    ("jährig*", "years old"),
    ("ans", "years"),
    ("anos", "years"),
    ("palavra", "password"),
    ("passe", "password"),
    ("olvid*", "forgot"),
    ("vergessen", "forgot"),
    ("oubli*", "forgot"),
    ("esquec*", "forgot"),
    ("pausa*", "pause"),
    ("pausier*", "pause"),
    ("invierno", "winter"),
    ("hiver", "winter"),
    ("inverno", "winter"),
    ("ciudad*", "city"),
    ("stadt", "city"),
    ("ville", "city"),
    ("cidade*", "city"),
    ("otra", "another"),
    ("otro", "another"),
    ("andere*", "another"),
    ("autre", "another"),
    ("outra", "another"),
    ("noutra", "another"),
    ("casco", "helmet"),
    ("helm", "helmet"),
    ("casque", "helmet"),
    ("capacete", "helmet"),
    ("llave*", "key"),
    ("schlüssel*", "key"),
    ("clé*", "key"),
    ("chave*", "key"),
    ("perd*", "lost"),
    ("verlor*", "lost"),
    ("tarde", "late"),
    ("spät*", "late"),
    ("verspät*", "late"),
    ("retard*", "late"),
    ("atras*", "late"),
    ("fahren", "ride"),
    ("tren", "train"),
    ("zug", "train"),
    ("comboio", "train"),
    ("lluvia", "rain"),
    ("regen", "rain"),
    ("pluie", "rain"),
    ("chuva", "rain"),
    ("cargador*", "charger"),
    ("ladegerät*", "charger"),
    ("chargeur*", "charger"),
    ("carregador*", "charger"),
    ("hora*", "hour"),
    ("stunde*", "hour"),
    ("heure*", "hour"),
    ("mes", "month"),
    ("monat*", "month"),
    ("mois", "month"),
    ("mês", "month"),
    ("ändern", "change"),
    ("änder*", "change"),
    ("modifi*", "change"),
    ("número", "number"),
    ("nummer", "number"),
    ("numéro", "number"),
    ("nombre", "name"),
    ("nom", "name"),
    ("nome", "name"),
    ("exprés", "express"),
    ("expresso", "express"),
    ("país", "country"),
    ("pays", "country"),
    ("reclam*", "claim"),
    ("roto", "broken"),
    ("kaputt*", "broken"),
    ("cassé*", "broken"),
    ("estudiante*", "student"),
    ("étudiant*", "student"),
    ("estudante*", "student"),
    ("entrega*", "delivery"),
    ("lieferzeit*", "delivery time"),
    ("délai*", "time days"),
    ("plazo*", "time days"),
    ("prazo*", "time days"),
    ("pinchaz*", "puncture"),
    ("platten", "puncture"),
    ("crevaison*", "puncture"),
    ("furo", "puncture"),
    ("seguimiento", "tracking"),
    ("accidente*", "accident"),
    ("unfall*", "accident"),
    ("acidente*", "accident"),
    ("carga", "cargo"),
    ("lasten*", "cargo"),
    ("cargaison", "cargo"),
    // products, services, data (more)
    ("artículo*", "item"),
    ("articulo*", "item"),
    ("artikel*", "item"),
    ("artigo*", "item"),
    ("producto*", "product"),
    ("produkt*", "product"),
    ("produit*", "product"),
    ("produto*", "product"),
    ("chaqueta*", "jacket"),
    ("jacke*", "jacket"),
    ("veste*", "jacket"),
    ("casaco*", "jacket"),
    ("zapatilla*", "shoes"),
    ("mochila*", "backpack"),
    ("rucksack*", "backpack"),
    ("regalo*", "gift"),
    ("geschenk*", "gift"),
    ("cadeau*", "gift"),
    ("presentes", "gift"),
    ("recoger", "collect pick"),
    ("recogida", "collect pick"),
    ("abhol*", "collect pick"),
    ("retirer", "collect pick"),
    ("recolh*", "collect pick"),
    ("llamar", "call phone"),
    ("anruf*", "call phone"),
    ("appeler", "call phone"),
    ("ligar", "call phone"),
    ("sesión", "login"),
    ("anmeld*", "login"),
    ("connecter", "login"),
    ("connexion", "login"),
    ("registr*", "register account"),
    ("inscri*", "register account"),
    ("impuesto*", "tax vat"),
    ("steuer*", "tax vat"),
    ("taxe*", "tax vat"),
    ("imposto*", "tax vat"),
    ("iva", "vat"),
    ("mwst", "vat"),
    ("tva", "vat"),
    ("empresa*", "business company"),
    ("firma", "business company"),
    ("firmen*", "business company"),
    ("entreprise*", "business company"),
    ("datos", "data"),
    ("daten", "data"),
    ("données", "data"),
    ("dados", "data"),
    ("borrar", "delete"),
    ("elimin*", "delete"),
    ("lösch*", "delete"),
    ("supprim*", "delete"),
    ("apagar", "delete"),
    ("excluir", "delete"),
    ("boletín", "newsletter"),
    ("defect*", "faulty defective"),
    ("defekt*", "faulty defective"),
    ("défectu*", "faulty defective"),
    ("defeit*", "faulty defective"),
    ("medida*", "measurement"),
    ("lavar", "wash"),
    ("wasch*", "wash"),
    ("laver", "wash"),
    ("lavage", "wash"),
    ("color*", "colour"),
    ("farbe*", "colour"),
    ("couleur*", "colour"),
    ("cor", "colour"),
    ("recibi*", "receive"),
    ("erhalt*", "receive"),
    ("reçu*", "receive"),
    ("recebi*", "receive"),
    ("equivocad*", "wrong"),
    ("falsch*", "wrong"),
    ("errad*", "wrong"),
    ("queja*", "complaint"),
    ("beschwerde*", "complaint"),
    ("plainte*", "complaint"),
    ("reclamaç*", "complaint"),
    ("mudanza", "move"),
    ("umzug*", "move"),
    ("déménag*", "move"),
    ("mudança", "move"),
    ("extranjero", "abroad"),
    ("ausland", "abroad"),
    ("étranger", "abroad"),
    ("estrangeiro", "abroad"),
    ("aplicación", "app"),
    ("applikation", "app"),
    ("aplicação", "app"),
    ("página", "website"),
    ("webseite", "website"),
    ("transferencia*", "transfer bank"),
    ("überweis*", "transfer bank"),
    ("virement*", "transfer bank"),
    ("transferência*", "transfer bank"),
    ("ofert*", "offer sale"),
    ("angebot*", "offer sale"),
    ("promo*", "promo discount"),
    ("soldes", "sale discount"),
    ("rebaj*", "sale discount"),
    ("luz", "light"),
    ("licht*", "light"),
    ("lumière*", "light"),
    ("sillín", "saddle seat"),
    ("sattel*", "saddle seat"),
    ("selle", "saddle seat"),
    ("candado*", "lock"),
    ("schloss", "lock"),
    ("antivol*", "lock"),
    ("cadeado*", "lock"),
    ("neumático*", "tyre"),
    ("reifen", "tyre"),
    ("pneu*", "tyre"),
    ("frein*", "brake"),
    ("bremse*", "brake"),
    ("freno*", "brake"),
    ("travão*", "brake"),
];

/// Most English words one query may gain (bounds the work per query).
const MAX_ADDED: usize = 16;

/// The English for one lower-case word, when the lexicon has it.
pub fn lookup(w: &str) -> Option<&'static str> {
    LEXICON
        .iter()
        .find(|(key, _)| match key.strip_suffix('*') {
            Some(prefix) => w.starts_with(prefix),
            None => w == *key,
        })
        .map(|(_, english)| *english)
}

/// `q` as English as the lexicon can make it: foreign function words dropped, known foreign
/// words replaced by their English (for judging whether a sentence answers the question, where
/// a foreign word left in would count as a term nothing matches).
pub fn in_english(q: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let words = text::words(q);
    for w in &words {
        if FOREIGN_STOPWORDS.contains(&w.as_str()) {
            continue;
        }
        match lookup(w).filter(|_| !text::STOPWORDS.contains(&w.as_str())) {
            Some(english) => out.extend(english.split(' ')),
            None => out.push(w),
        }
    }
    out.join(" ")
}

/// The English words the lexicon adds for `q`'s foreign words (empty for an English query).
pub fn english_for(q: &str) -> Vec<&'static str> {
    let mut added: Vec<&'static str> = Vec::new();
    for w in text::words(q) {
        if text::STOPWORDS.contains(&w.as_str()) {
            continue;
        }
        if let Some(english) = lookup(&w) {
            for e in english.split(' ') {
                if !added.contains(&e) && added.len() < MAX_ADDED {
                    added.push(e);
                }
            }
        }
    }
    added
}

/// `q` with the English words for its foreign vocabulary appended.
pub fn expand(q: &str) -> String {
    let added = english_for(q);
    if added.is_empty() {
        q.to_string()
    } else {
        format!("{q} {}", added.join(" "))
    }
}

/// The query retrieval works with: `q`'s words minus the foreign function words, then the
/// English words for its foreign vocabulary. An English query comes back as its own words.
pub fn prepare(q: &str) -> String {
    let mut out: Vec<String> = text::words(q)
        .into_iter()
        .filter(|w| !FOREIGN_STOPWORDS.contains(&w.as_str()))
        .collect();
    out.extend(english_for(q).into_iter().map(String::from));
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_support_words_gain_their_english() {
        assert_eq!(
            english_for("¿Cuánto tarda el envío a Alemania?"),
            vec!["take", "days", "shipping", "delivery", "germany"]
        );
        assert_eq!(
            english_for("Wie kann ich meine Bestellung zurückschicken?"),
            vec!["order", "return"]
        );
        assert_eq!(
            english_for("How long does delivery take?"),
            Vec::<&str>::new()
        );
        assert!(expand("Quel est le délai de livraison ?").ends_with(" delivery shipping"));
        assert!(english_for(&"pago ".repeat(100)).len() <= MAX_ADDED);
        assert_eq!(
            prepare("¿Dónde está la tienda de Berlín?"),
            "tienda berlín store shop"
        );
        assert_eq!(prepare("Can I return a page?"), "can i return a page");
        assert_eq!(
            in_english("¿Cuánto tarda el envío?"),
            "take days shipping delivery"
        );
    }
}
