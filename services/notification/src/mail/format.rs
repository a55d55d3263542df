//! Amounts, dates and failure reasons written for people.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// `1499.0, "INR"` → `₹1,499.00`; `25.0, "EUR"` → `€25.00`. Rupees are grouped the Indian way
/// (`₹1,00,000.00`), every other currency in thousands; a currency without a symbol here is
/// written with its code (`CHF 12.50`).
pub fn amount(major: f64, currency: &str) -> String {
    let minor = (major * 100.0).round();
    let negative = minor < 0.0;
    // Amounts on the wire are bounded far below 2^53 cents, so this is exact.
    let minor = minor.abs() as u64;
    let whole = (minor / 100).to_string();
    let grouped = if currency == "INR" {
        group_indian(&whole)
    } else {
        group_thousands(&whole)
    };
    let number = format!("{grouped}.{:02}", minor % 100);
    let sign = if negative { "-" } else { "" };
    match symbol(currency) {
        Some(symbol) => format!("{sign}{symbol}{number}"),
        None => format!("{sign}{currency} {number}"),
    }
}

fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "INR" => "₹",
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "JPY" => "¥",
        "AUD" => "A$",
        "CAD" => "CA$",
        "SGD" => "S$",
        _ => return None,
    })
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The last three digits, then groups of two: 10000000 → 1,00,00,000.
fn group_indian(digits: &str) -> String {
    if digits.len() <= 3 {
        return digits.to_owned();
    }
    let (head, tail) = digits.split_at(digits.len() - 3);
    let mut out = String::new();
    for (i, c) in head.chars().enumerate() {
        if i > 0 && (head.len() - i) % 2 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out},{tail}")
}

/// An RFC 3339 instant in `zone`, naming the zone: `Saturday, 12 December 2026, 7:30 PM IST
/// (UTC+05:30)`. `None` when `rfc3339` does not parse.
pub fn date(rfc3339: &str, zone: Tz) -> Option<String> {
    let at = DateTime::parse_from_rfc3339(rfc3339)
        .ok()?
        .with_timezone(&zone);
    let local = at.format("%A, %-d %B %Y, %-I:%M %p");
    let abbreviation = at.format("%Z").to_string();
    Some(if zone == Tz::UTC || zone == Tz::Etc__UTC {
        format!("{local} UTC")
    } else if abbreviation.starts_with(['+', '-']) {
        // A zone without a common abbreviation: the offset says it all.
        format!("{local} (UTC{})", at.format("%:z"))
    } else {
        format!("{local} {abbreviation} (UTC{})", at.format("%:z"))
    })
}

/// RFC 3339 → the iCalendar UTC form `20261212T140000Z`.
pub fn ical_utc(at: &DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Why a booking failed, for the person who made it (the wire carries a code).
pub fn failure_reason(code: &str) -> &'static str {
    match code {
        "SEATS_UNAVAILABLE" => {
            "Someone else took one or more of the seats you picked a moment before we could \
             hold them for you. You have not been charged."
        }
        "PAYMENT_FAILED" => {
            "Your payment did not go through, so the seats were released. If any amount was \
             taken, it is refunded to your original payment method."
        }
        "TIMEOUT" => {
            "We could not complete your booking in time, so the seats were released. If any \
             amount was taken, it is refunded to your original payment method."
        }
        _ => {
            "We could not complete your booking and the seats were released. If any amount \
             was taken, it is refunded to your original payment method."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_their_currency() {
        assert_eq!(amount(1499.0, "INR"), "₹1,499.00");
        assert_eq!(amount(100000.0, "INR"), "₹1,00,000.00");
        assert_eq!(amount(12345678.9, "INR"), "₹1,23,45,678.90");
        assert_eq!(amount(25.0, "EUR"), "€25.00");
        assert_eq!(amount(1234567.5, "USD"), "$1,234,567.50");
        assert_eq!(amount(0.29, "GBP"), "£0.29");
        assert_eq!(amount(999.0, "INR"), "₹999.00");
        assert_eq!(amount(12.5, "CHF"), "CHF 12.50");
    }

    #[test]
    fn dates_name_their_zone() {
        let at = "2026-12-12T14:00:00.000Z";
        assert_eq!(
            date(at, chrono_tz::Asia::Kolkata).as_deref(),
            Some("Saturday, 12 December 2026, 7:30 PM IST (UTC+05:30)")
        );
        assert_eq!(
            date(at, chrono_tz::Europe::Berlin).as_deref(),
            Some("Saturday, 12 December 2026, 3:00 PM CET (UTC+01:00)")
        );
        assert_eq!(
            date(at, Tz::UTC).as_deref(),
            Some("Saturday, 12 December 2026, 2:00 PM UTC")
        );
        assert_eq!(date("next friday", Tz::UTC), None);
    }

    #[test]
    fn reasons_are_words() {
        for code in [
            "SEATS_UNAVAILABLE",
            "PAYMENT_FAILED",
            "TIMEOUT",
            "SOMETHING_NEW",
        ] {
            let words = failure_reason(code);
            assert!(!words.contains('_') && words.len() > 40, "{code}: {words}");
        }
        assert_ne!(failure_reason("TIMEOUT"), failure_reason("PAYMENT_FAILED"));
    }
}
