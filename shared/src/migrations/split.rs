//! Splits a migration file into single statements.
//!
//! Spin's SQLite host prepares each call's text as one statement (its in-process connection calls
//! rusqlite's `prepare_cached`, which refuses a text holding several), so a migration file is run
//! statement by statement. Written here rather than taken from a crate: the
//! input is only this repository's own migrations (compiled in, never outside input), and a full
//! SQL parser would be a large dependency for one job. The one subtle case is a trigger, whose
//! body holds `;`-terminated statements: like SQLite's own `sqlite3_complete`, a `CREATE TRIGGER`
//! ends only at the `;` after the `END` that closes its `BEGIN` (a `CASE … END` inside the body is
//! counted, so it does not end the trigger early).

/// The statements of `sql`, each without its terminating `;` and trimmed. A stretch holding
/// only comments is not a statement; a comment before a statement stays part of it.
pub fn statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // Per statement: its first words (to spot CREATE [TEMP] TRIGGER) and BEGIN/CASE depth.
    let mut words = 0usize;
    let mut trigger = false;
    let mut seen_create = false;
    let mut depth = 0usize;
    let mut opened = false;
    // Whether anything but whitespace and comments has been seen since `start`.
    let mut significant = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = find(bytes, i + 2, b"\n").map_or(bytes.len(), |e| e + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
            }
            b'\'' | b'"' | b'`' => {
                significant = true;
                i = skip_quoted(bytes, i, b);
            }
            b'[' => {
                significant = true;
                i = find(bytes, i + 1, b"]").map_or(bytes.len(), |e| e + 1);
            }
            b';' => {
                if !trigger || (opened && depth == 0) {
                    if significant {
                        out.push(sql[start..i].trim());
                    }
                    start = i + 1;
                    (words, trigger, seen_create, depth, opened) = (0, false, false, 0, false);
                    significant = false;
                }
                i += 1;
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let end = bytes[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$'))
                    .map_or(bytes.len(), |n| i + n);
                let word = &sql[i..end];
                words += 1;
                significant = true;
                let is = |k: &str| word.eq_ignore_ascii_case(k);
                if words == 1 {
                    seen_create = is("create");
                } else if seen_create && words <= 3 && is("trigger") {
                    trigger = true;
                } else if trigger && (is("begin") || is("case")) {
                    depth += 1;
                    opened = true;
                } else if trigger && is("end") {
                    depth = depth.saturating_sub(1);
                }
                i = end;
            }
            _ => {
                significant |= !b.is_ascii_whitespace();
                i += 1;
            }
        }
    }
    if significant {
        out.push(sql[start..].trim());
    }
    out
}

/// The index just past a quoted token opened at `i` (a doubled quote is an escaped quote).
fn skip_quoted(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    i += 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn semicolons_in_strings_and_comments_do_not_split() {
        let sql = "-- head; comment\nCREATE TABLE a (x TEXT DEFAULT 'a;b''c;');\n\
                   /* block; */ INSERT INTO a VALUES (\"q;\");\n-- trailing;\n";
        assert_eq!(
            statements(sql),
            vec![
                "-- head; comment\nCREATE TABLE a (x TEXT DEFAULT 'a;b''c;')",
                "/* block; */ INSERT INTO a VALUES (\"q;\")",
            ]
        );
    }

    #[test]
    fn a_trigger_ends_after_the_end_that_closes_its_body() {
        let sql = "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN\n  \
                   INSERT INTO b VALUES (CASE WHEN new.x = 1 THEN 'end;' ELSE 2 END);\n  \
                   DELETE FROM c;\nEND;\nSELECT 1;";
        let got = statements(sql);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].ends_with("END"), "{got:?}");
        assert_eq!(got[1], "SELECT 1");
    }

    #[test]
    fn unterminated_input_is_one_statement_and_never_panics() {
        for sql in [
            "SELECT 'open",
            "/* open",
            "CREATE TRIGGER x BEGIN",
            "[",
            "\"",
            ";;;",
            "",
        ] {
            let got = statements(sql);
            assert!(got.len() <= 1, "{sql:?}: {got:?}");
        }
    }
}
