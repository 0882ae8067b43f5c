//! HTTP-dates (RFC 9110 §5.6.7), for `Retry-After` and the cache's `Date`, `Expires` and
//! `Last-Modified`.
//!
//! Date parsing is written by hand (no `chrono`, no `js_sys::Date`) so the core stays pure and
//! the wasm stays small.

/// Milliseconds in a second: HTTP times are in seconds, the pipeline's in ms.
pub(crate) const MS_PER_SECOND: f64 = 1000.0;
const SECONDS_PER_DAY: i64 = 86_400;

/// Parses an HTTP-date into ms since the Unix epoch.
///
/// Accepts the three forms of RFC 9110 §5.6.7: IMF-fixdate (`"Sun, 06 Nov 1994 08:49:37 GMT"`),
/// RFC 850 (`"Sunday, 06-Nov-94 08:49:37 GMT"`, years 70–99 are 19xx, others 20xx) and asctime
/// (`"Sun Nov  6 08:49:37 1994"`). The weekday name must be a real one but is not checked
/// against the date. Out-of-range fields (day past the month's end, hour ≥ 24, minute ≥ 60,
/// second > 60) give `None`. Surrounding whitespace is ignored.
pub fn parse_http_date(value: &str) -> Option<f64> {
    // One parse for the three forms (not one function each): they differ only in the order
    // of their fields and in RFC 850's two-digit year.
    let mut tokens = crate::core::text::split_ascii_whitespace(value);
    let first = tokens.next()?;
    let comma = first.strip_suffix(",");
    if !is_weekday(comma.unwrap_or(first)) {
        return None;
    }
    let (day, mon, year, time, rfc850) = if comma.is_some() {
        // `DD Mon YYYY HH:MM:SS GMT`, or RFC 850's `DD-Mon-YY HH:MM:SS GMT` (four-digit years
        // are tolerated there because some servers send them in this form).
        let second = tokens.next()?;
        let (day, mon, year, rfc850) = if crate::core::text::find(second, "-").is_some() {
            let mut it = crate::core::text::split(second, b'-');
            let fields = (it.next()?, it.next()?, it.next()?, true);
            if it.next().is_some() {
                return None;
            }
            fields
        } else {
            (second, tokens.next()?, tokens.next()?, false)
        };
        let time = tokens.next()?;
        if !is_gmt(tokens.next()) {
            return None;
        }
        (day, mon, year, time, rfc850)
    } else {
        // asctime, after `"Sun"`: `Mon D HH:MM:SS YYYY` (the day is space-padded, which the
        // whitespace split absorbs).
        let mon = tokens.next()?;
        let day = tokens.next()?;
        let time = tokens.next()?;
        (day, mon, tokens.next()?, time, false)
    };
    if tokens.next().is_some() {
        return None;
    }
    let year = if rfc850 && year.len() == 2 {
        let yy = digits(year, 2, 2)?;
        if yy >= 70 {
            1900 + yy
        } else {
            2000 + yy
        }
    } else {
        digits(year, 4, 4)?
    };
    let (hour, minute, second) = parse_time(time)?;
    DateParts {
        year: i64::from(year),
        month: month(mon)?,
        day: digits(day, 1, 2)?,
        hour,
        minute,
        second,
    }
    .to_epoch_ms()
}

/// Whether `s` is one or more ASCII digits.
pub(super) fn all_digits(s: &str) -> bool {
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return false;
        }
    }
    !s.is_empty()
}

/// Parses exactly `min..=max` ASCII digits.
fn digits(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !all_digits(s) {
        return None;
    }
    crate::core::text::parse_u64(s).map(|n| n as u32)
}

const WEEKDAYS: [(&str, &str); 7] = [
    ("Mon", "Monday"),
    ("Tue", "Tuesday"),
    ("Wed", "Wednesday"),
    ("Thu", "Thursday"),
    ("Fri", "Friday"),
    ("Sat", "Saturday"),
    ("Sun", "Sunday"),
];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Short or long name, case-insensitively: senders mix the forms up and the name carries no
/// information we need.
fn is_weekday(s: &str) -> bool {
    for (short, long) in WEEKDAYS {
        if s.eq_ignore_ascii_case(short) || s.eq_ignore_ascii_case(long) {
            return true;
        }
    }
    false
}

/// 1-based month number.
fn month(s: &str) -> Option<u32> {
    let mut n = 0;
    for m in MONTHS {
        n += 1;
        if s.eq_ignore_ascii_case(m) {
            return Some(n);
        }
    }
    None
}

fn is_gmt(s: Option<&str>) -> bool {
    s.is_some_and(|s| s.eq_ignore_ascii_case("GMT"))
}

struct DateParts {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

/// `HH:MM:SS`, two digits each.
fn parse_time(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = crate::core::text::split(s, b':');
    let h = digits(it.next()?, 2, 2)?;
    let m = digits(it.next()?, 2, 2)?;
    let sec = digits(it.next()?, 2, 2)?;
    if it.next().is_some() {
        return None;
    }
    Some((h, m, sec))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl DateParts {
    fn to_epoch_ms(&self) -> Option<f64> {
        if !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour >= 24
            || self.minute >= 60
            || self.second > 60
        {
            return None;
        }
        // A leap second (":60") simply rolls into the next minute.
        let seconds = days_from_civil(self.year, self.month, self.day) * SECONDS_PER_DAY
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        Some(seconds as f64 * MS_PER_SECOND)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::prelude::*;
    use alloc::format;
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    const EPOCH_1994: f64 = 784_111_777_000.0;

    #[test]
    fn http_date_all_three_forms() {
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun Nov 06 08:49:37 1994",
            "  Sun, 06 Nov 1994 08:49:37 GMT  ",
            "sun, 06 nov 1994 08:49:37 gmt",
        ] {
            assert_eq!(parse_http_date(s), Some(EPOCH_1994), "{s:?}");
        }
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600_000.0)
        );
        assert_eq!(
            parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799_000.0)
        );
        assert_eq!(
            parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"),
            Some(-1_000.0)
        );
        // Leap second rolls over.
        assert_eq!(
            parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT"),
            parse_http_date("Sun, 01 Jan 2017 00:00:00 GMT")
        );
    }

    #[test]
    fn rfc850_two_digit_years() {
        assert_eq!(
            parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"),
            Some(0.0)
        );
        assert_eq!(
            parse_http_date("Wednesday, 31-Dec-69 00:00:00 GMT"),
            parse_http_date("Wed, 31 Dec 2069 00:00:00 GMT")
        );
        assert_eq!(
            parse_http_date("Saturday, 01-Jan-00 00:00:00 GMT"),
            Some(946_684_800_000.0)
        );
        assert_eq!(
            parse_http_date("Friday, 31-Dec-99 23:59:59 GMT"),
            Some(946_684_799_000.0)
        );
    }

    #[test]
    fn bad_dates_are_none() {
        for bad in [
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Tue, 29 Feb 1900 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:37 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 08:49:37:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov -994 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-994 08:49:37 GMT",
            "Sunday, 06-Nov-94-1 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37",
            "Sun Nov  6 08:49:37",
            "Sun Nov 31 08:49:37 1994",
            "Sun Nov  6 08:49:37 1994 GMT",
            "Sun, ",
            "Sun",
            ",",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    /// Test-only IMF-fixdate formatter (Hinnant's `civil_from_days`).
    fn format_imf(epoch_seconds: i64) -> String {
        let days = epoch_seconds.div_euclid(SECONDS_PER_DAY);
        let secs = epoch_seconds.rem_euclid(SECONDS_PER_DAY);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        // 1970-01-01 was a Thursday; WEEKDAYS starts at Monday.
        let weekday = WEEKDAYS[(days + 3).rem_euclid(7) as usize].0;
        format!(
            "{weekday}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
            MONTHS[(m - 1) as usize],
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }

    #[test]
    fn formatter_matches_known_value() {
        assert_eq!(format_imf(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(format_imf(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 1024,
            rng_seed: RngSeed::Fixed(0xDA7E),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn imf_fixdate_round_trips(secs in -62_167_219_200i64..=253_402_300_799) {
            let s = format_imf(secs);
            prop_assert_eq!(parse_http_date(&s), Some(secs as f64 * 1000.0), "{}", s);
        }
    }
}
