//! The leads export as CSV (RFC 4180). Cells a spreadsheet would run as a formula (starting
//! with `=`, `+`, `-`, `@`, tab or carriage return) are prefixed with `'`, because lead fields
//! come from what strangers typed.

use super::store::Lead;

pub const HEADER: &str =
    "id,name,email,phone,company,stage,score,score_reasons,owner_id,source,channel,intent,consent,created_at,updated_at";

pub fn row(l: &Lead) -> String {
    let reasons = l
        .score_reasons
        .iter()
        .map(|r| format!("{} ({:+})", r.rule, r.points))
        .collect::<Vec<_>>()
        .join("; ");
    let cells = [
        l.id.clone(),
        l.name.clone().unwrap_or_default(),
        l.email.clone().unwrap_or_default(),
        l.phone.clone().unwrap_or_default(),
        l.company.clone().unwrap_or_default(),
        l.stage.as_str().to_string(),
        l.score.to_string(),
        reasons,
        l.owner_id.clone().unwrap_or_default(),
        l.source.clone(),
        l.channel
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        l.intent.clone().unwrap_or_default(),
        l.consent
            .as_ref()
            .map(|c| format!("{} ({})", c.text, crate::time::rfc3339(c.at)))
            .unwrap_or_default(),
        crate::time::rfc3339(l.created_at),
        crate::time::rfc3339(l.updated_at),
    ];
    cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",")
}

/// One cell, quoted when needed and defused when it looks like a formula (the surveys export
/// writes its cells with it too).
pub fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+4420"), "'+4420");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
    }
}
