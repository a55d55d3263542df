//! The four mails: what each says, rendered from askama templates (one layout, one body per
//! mail, each as HTML and as plain text; `templates/`). No I/O here.

pub mod calendar;
pub mod format;

use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use ticketflow_common::kafka::messages::{
    BookingCancelled, BookingConfirmed, BookingFailed, UserRegistered,
};

/// The mail types (`type` of a stored notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Welcome,
    BookingConfirmed,
    BookingFailed,
    BookingCancelled,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Welcome => "WELCOME",
            Kind::BookingConfirmed => "BOOKING_CONFIRMED",
            Kind::BookingFailed => "BOOKING_FAILED",
            Kind::BookingCancelled => "BOOKING_CANCELLED",
        }
    }
}

/// A rendered mail, ready for SMTP.
#[derive(Debug, Clone)]
pub struct Mail {
    pub kind: Kind,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The `.ics` of a confirmation.
    pub calendar: Option<String>,
}

/// How mails present things: the zone dates are written in, where links point.
#[derive(Debug, Clone)]
pub struct Presentation {
    pub timezone: Tz,
    pub public_url: String,
}

/// What the templates show; `None` fields are left out.
pub struct View {
    pub title: String,
    pub name: String,
    pub event_name: String,
    pub event_date: Option<String>,
    pub venue: Option<String>,
    pub seats: Option<String>,
    pub amount: Option<String>,
    pub reference: String,
    pub reason: Option<String>,
    pub events_url: String,
    pub bookings_url: String,
}

impl View {
    fn new(title: &str, p: &Presentation) -> Self {
        Self {
            title: title.to_owned(),
            name: String::new(),
            event_name: String::new(),
            event_date: None,
            venue: None,
            seats: None,
            amount: None,
            reference: String::new(),
            reason: None,
            events_url: format!("{}/", p.public_url),
            bookings_url: format!("{}/bookings", p.public_url),
        }
    }
}

macro_rules! templates {
    ($($name:ident = $path:literal),* $(,)?) => {
        $(
            #[derive(Template)]
            #[template(path = $path)]
            struct $name<'a> {
                v: &'a View,
            }
        )*
    };
}

templates! {
    WelcomeHtml = "welcome.html",
    WelcomeText = "welcome.txt",
    ConfirmedHtml = "booking_confirmed.html",
    ConfirmedText = "booking_confirmed.txt",
    FailedHtml = "booking_failed.html",
    FailedText = "booking_failed.txt",
    CancelledHtml = "booking_cancelled.html",
    CancelledText = "booking_cancelled.txt",
}

fn render(kind: Kind, v: &View) -> askama::Result<(String, String)> {
    Ok(match kind {
        Kind::Welcome => (WelcomeHtml { v }.render()?, WelcomeText { v }.render()?),
        Kind::BookingConfirmed => (ConfirmedHtml { v }.render()?, ConfirmedText { v }.render()?),
        Kind::BookingFailed => (FailedHtml { v }.render()?, FailedText { v }.render()?),
        Kind::BookingCancelled => (CancelledHtml { v }.render()?, CancelledText { v }.render()?),
    })
}

fn mail(kind: Kind, to: &str, subject: String, view: &View) -> askama::Result<Mail> {
    let (html, text) = render(kind, view)?;
    Ok(Mail {
        kind,
        to: to.to_owned(),
        // A header: a name from a message must not smuggle in line breaks.
        subject: subject.chars().filter(|c| !c.is_control()).collect(),
        html,
        text,
        calendar: None,
    })
}

/// `user.registered` → `Welcome to TicketFlow!`.
pub fn welcome(m: &UserRegistered, p: &Presentation) -> askama::Result<Mail> {
    let mut v = View::new("Welcome to TicketFlow!", p);
    v.name = m.name.clone();
    mail(Kind::Welcome, &m.email, v.title.clone(), &v)
}

/// `booking.confirmed` → `Booking Confirmed – <eventName>`, with the `.ics`. `issued` is the
/// message's timestamp (the calendar's `DTSTAMP`).
pub fn confirmed(
    m: &BookingConfirmed,
    issued: DateTime<Utc>,
    p: &Presentation,
) -> askama::Result<Mail> {
    let mut v = View::new("Your booking is confirmed", p);
    v.event_name = m.event_name.clone();
    v.event_date = Some(format::date(&m.event_date, p.timezone).unwrap_or(m.event_date.clone()));
    v.venue = Some(m.venue_name.clone());
    v.seats = Some(m.seat_labels.join(", "));
    v.amount = Some(format::amount(m.total_amount, &m.currency));
    v.reference = m.booking_id.to_string();
    let mut confirmed = mail(
        Kind::BookingConfirmed,
        &m.user_email,
        format!("Booking Confirmed – {}", m.event_name),
        &v,
    )?;
    confirmed.calendar = DateTime::parse_from_rfc3339(&m.event_date)
        .ok()
        .map(|starts| {
            calendar::ics(&calendar::Ticket {
                booking_id: &v.reference,
                event_name: &m.event_name,
                starts: starts.with_timezone(&Utc),
                venue: &m.venue_name,
                seats: v.seats.as_deref().unwrap_or_default(),
                stamp: issued,
                url: &v.bookings_url,
            })
        });
    Ok(confirmed)
}

/// `booking.failed` → `Booking Failed – Reference <bookingId>`, the reason in words.
pub fn failed(m: &BookingFailed, p: &Presentation) -> askama::Result<Mail> {
    let mut v = View::new("Your booking did not go through", p);
    v.event_name = m.event_name.clone();
    v.reference = m.booking_id.to_string();
    v.reason = Some(format::failure_reason(&m.reason).to_owned());
    mail(
        Kind::BookingFailed,
        &m.user_email,
        format!("Booking Failed – Reference {}", m.booking_id),
        &v,
    )
}

/// `booking.cancelled` → `Booking Cancelled – <eventName>`.
pub fn cancelled(m: &BookingCancelled, p: &Presentation) -> askama::Result<Mail> {
    let mut v = View::new("Your booking is cancelled", p);
    v.event_name = m.event_name.clone();
    v.seats = Some(m.seat_labels.join(", "));
    v.amount = Some(format::amount(m.total_amount, &m.currency));
    v.reference = m.booking_id.to_string();
    mail(
        Kind::BookingCancelled,
        &m.user_email,
        format!("Booking Cancelled – {}", m.event_name),
        &v,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn presentation() -> Presentation {
        Presentation {
            timezone: chrono_tz::Asia::Kolkata,
            public_url: "https://tickets.example".to_owned(),
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() -> askama::Result<()> {
        let m = BookingCancelled {
            booking_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            user_email: "a@b.example".to_owned(),
            event_id: Uuid::new_v4(),
            event_name: "Rock & <Roll>\r\nBcc: x@evil.example".to_owned(),
            seat_ids: vec![Uuid::new_v4()],
            seat_labels: vec!["A1".to_owned()],
            total_amount: 1499.0,
            currency: "INR".to_owned(),
        };
        let mail = cancelled(&m, &presentation())?;
        assert!(
            mail.html.contains("Rock &#38; &#60;Roll&#62;"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<Roll>"));
        assert!(mail.text.contains("Rock & <Roll>"), "{}", mail.text);
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        assert!(mail
            .subject
            .starts_with("Booking Cancelled – Rock & <Roll>"));
        assert!(mail.text.contains("₹1,499.00") && mail.html.contains("₹1,499.00"));
        Ok(())
    }

    #[test]
    fn a_confirmation_without_a_parseable_date_still_goes_out() -> askama::Result<()> {
        let m = BookingConfirmed {
            booking_id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            user_email: "a@b.example".to_owned(),
            event_id: Uuid::new_v4(),
            event_name: "Gig".to_owned(),
            event_date: "soon".to_owned(),
            venue_name: "Hall".to_owned(),
            seat_ids: vec![],
            seat_labels: vec!["B2".to_owned(), "B3".to_owned()],
            total_amount: 25.0,
            currency: "EUR".to_owned(),
        };
        let mail = confirmed(&m, Utc::now(), &presentation())?;
        assert!(mail.calendar.is_none());
        assert!(mail.text.contains("soon") && mail.text.contains("B2, B3"));
        assert!(mail.text.contains("€25.00"));
        Ok(())
    }
}
