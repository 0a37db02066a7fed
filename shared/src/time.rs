//! Calendar helpers over Unix milliseconds (no time-zone database at the edge).

pub const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD` (UTC) for a Unix-ms instant. Howard Hinnant's `civil_from_days`, written out
/// because pulling a date library into the hot path for one function is not worth its size.
pub fn utc_day(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// RFC 3339 UTC with milliseconds (`2026-12-01T20:40:00.123Z`) for epoch milliseconds.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_days() {
        assert_eq!(super::utc_day(0), "1970-01-01");
        assert_eq!(super::utc_day(1_709_208_000_000), "2024-02-29");
        assert_eq!(super::utc_day(1_795_632_609_288), "2026-11-25");
        assert_eq!(super::utc_day(-1), "1969-12-31");
    }
}
