//! The `.ics` file a confirmation carries (RFC 5545), so the ticket lands in a calendar.

use chrono::{DateTime, Utc};

use super::format::ical_utc;

/// One event: what, when, where, and the booking it belongs to. `stamp` is when the
/// confirmation was issued (the triggering message's time), so every attempt renders the same
/// file.
pub struct Ticket<'a> {
    pub booking_id: &'a str,
    pub event_name: &'a str,
    pub starts: DateTime<Utc>,
    pub venue: &'a str,
    pub seats: &'a str,
    pub stamp: DateTime<Utc>,
    pub url: &'a str,
}

/// The calendar, lines folded at 75 octets and ended by CRLF.
pub fn ics(ticket: &Ticket<'_>) -> String {
    let description = format!(
        "Booking reference {}\nSeats: {}\nYour bookings: {}",
        ticket.booking_id, ticket.seats, ticket.url
    );
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//TicketFlow//Booking confirmation//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:booking-{}@ticketflow.dev", ticket.booking_id),
        format!("DTSTAMP:{}", ical_utc(&ticket.stamp)),
        format!("DTSTART:{}", ical_utc(&ticket.starts)),
        format!("SUMMARY:{}", text(ticket.event_name)),
        format!("LOCATION:{}", text(ticket.venue)),
        format!("DESCRIPTION:{}", text(&description)),
        "STATUS:CONFIRMED".to_owned(),
        "TRANSP:OPAQUE".to_owned(),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.iter().map(|line| fold(line)).collect()
}

/// A TEXT value: backslash, `;`, `,` and newlines escaped.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Splits a content line into lines of at most 75 octets (continuations start with a space),
/// never inside a UTF-8 character, and ends it with CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_folds() {
        assert_eq!(text("A1, A2; \\ok\nnext"), "A1\\, A2\\; \\\\ok\\nnext");
        let long = format!("SUMMARY:{}", "é".repeat(60));
        let folded = fold(&long);
        for line in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert_eq!(folded.replace("\r\n ", "").trim_end(), long);
    }
}
