//! The invariants, as a pure function of a [`Snapshot`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::{group, Booking, Snapshot, Violation};

/// 1. A seat RESERVED in inventory whose holding booking is not CONFIRMED or does not exist.
pub const RESERVED_WITHOUT_CONFIRMED_BOOKING: &str = "reserved-without-confirmed-booking";
/// 2. A CONFIRMED booking whose seats are not all RESERVED by it.
pub const CONFIRMED_SEATS_NOT_RESERVED: &str = "confirmed-booking-seats-not-reserved";
/// 3. A CONFIRMED booking without exactly one SUCCESS payment.
pub const CONFIRMED_WITHOUT_ONE_SUCCESS_PAYMENT: &str = "confirmed-without-one-success-payment";
/// 4a. A FAILED or CANCELLED booking that still holds seats (LOCKED or RESERVED).
pub const ENDED_BOOKING_HOLDS_SEATS: &str = "ended-booking-holds-seats";
/// 4b. A FAILED or CANCELLED booking with a SUCCESS payment (charged, not refunded).
pub const ENDED_BOOKING_CHARGED: &str = "ended-booking-charged";
/// 5. A booking still PENDING past `expires_at` + grace.
pub const PENDING_PAST_TIMEOUT: &str = "pending-past-timeout";
/// 6a. A payment whose booking does not exist.
pub const PAYMENT_WITHOUT_BOOKING: &str = "payment-without-booking";
/// 6b. A SUCCESS payment whose amount (minor units) or currency differs from the booking's.
pub const PAYMENT_AMOUNT_MISMATCH: &str = "payment-amount-mismatch";
/// 7. `event_inventory.locked/reserved` differing from the event's `seat_holds` rows.
pub const INVENTORY_COUNTS_DRIFT: &str = "inventory-counts-drift";

/// Every rule name, in the order violations are reported.
pub const RULES: [&str; 9] = [
    RESERVED_WITHOUT_CONFIRMED_BOOKING,
    CONFIRMED_SEATS_NOT_RESERVED,
    CONFIRMED_WITHOUT_ONE_SUCCESS_PAYMENT,
    ENDED_BOOKING_HOLDS_SEATS,
    ENDED_BOOKING_CHARGED,
    PENDING_PAST_TIMEOUT,
    PAYMENT_WITHOUT_BOOKING,
    PAYMENT_AMOUNT_MISMATCH,
    INVENTORY_COUNTS_DRIFT,
];

const PENDING: &str = "PENDING";
const CONFIRMED: &str = "CONFIRMED";
const FAILED: &str = "FAILED";
const CANCELLED: &str = "CANCELLED";
const RESERVED: &str = "RESERVED";
const LOCKED: &str = "LOCKED";
const SUCCESS: &str = "SUCCESS";

/// Every violation in `snapshot` at `now`, ordered by rule (as in [`RULES`]), then subject.
/// `grace`: see the crate documentation.
pub fn check(snapshot: &Snapshot, now: DateTime<Utc>, grace: TimeDelta) -> Vec<Violation> {
    let bookings: HashMap<Uuid, &Booking> = snapshot.bookings.iter().map(|b| (b.id, b)).collect();
    let hold_of_seat: HashMap<Uuid, _> = snapshot.holds.iter().map(|h| (h.seat_id, h)).collect();
    let holds_of_booking = group(&snapshot.holds, |h| h.booking_id);
    // Payment booking ids are lowercase UUID strings; parse so case never matters.
    let payments_of_booking = group(&snapshot.payments, |p| {
        p.booking_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
    });
    // A booking whose last change is within the grace may have its other stores catching up.
    let settled = |b: &Booking| b.updated_at + grace <= now;

    let mut out = Vec::new();
    let mut add = |rule: &'static str, subject: String, detail: String| {
        out.push(Violation {
            rule,
            subject,
            detail,
        });
    };

    // 1.
    for hold in snapshot.holds.iter().filter(|h| h.status == RESERVED) {
        let detail = match bookings.get(&hold.booking_id) {
            None => format!("held by booking {}, which does not exist", hold.booking_id),
            Some(b) if b.status != CONFIRMED && settled(b) => {
                format!("held by booking {}, which is {}", b.id, b.status)
            }
            Some(_) => continue,
        };
        add(
            RESERVED_WITHOUT_CONFIRMED_BOOKING,
            hold.seat_id.to_string(),
            detail,
        );
    }

    for b in snapshot.bookings.iter().filter(|b| settled(b)) {
        let payments = payments_of_booking
            .get(&Some(b.id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let successes = payments
            .iter()
            .filter(|p| p.status.as_deref() == Some(SUCCESS))
            .count();
        let holds = holds_of_booking
            .get(&b.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match b.status.as_str() {
            CONFIRMED => {
                // 2.
                let problems: Vec<String> = b
                    .seat_ids
                    .iter()
                    .filter_map(|seat| match hold_of_seat.get(seat) {
                        None => Some(format!("seat {seat} is not held")),
                        Some(h) if h.booking_id != b.id => Some(format!(
                            "seat {seat} is {} by booking {}",
                            h.status, h.booking_id
                        )),
                        Some(h) if h.status != RESERVED => {
                            Some(format!("seat {seat} is only {}", h.status))
                        }
                        Some(_) => None,
                    })
                    .collect();
                if !problems.is_empty() {
                    add(
                        CONFIRMED_SEATS_NOT_RESERVED,
                        b.id.to_string(),
                        problems.join("; "),
                    );
                }
                // 3.
                if successes != 1 {
                    add(
                        CONFIRMED_WITHOUT_ONE_SUCCESS_PAYMENT,
                        b.id.to_string(),
                        format!(
                            "{successes} SUCCESS payments (payments: {})",
                            describe(payments)
                        ),
                    );
                }
            }
            FAILED | CANCELLED => {
                // 4a.
                if !holds.is_empty() {
                    let seats: Vec<String> = holds
                        .iter()
                        .map(|h| format!("{} {}", h.seat_id, h.status))
                        .collect();
                    add(
                        ENDED_BOOKING_HOLDS_SEATS,
                        b.id.to_string(),
                        format!("{} but holds {}", b.status, seats.join(", ")),
                    );
                }
                // 4b.
                if successes > 0 {
                    add(
                        ENDED_BOOKING_CHARGED,
                        b.id.to_string(),
                        format!(
                            "{} but charged (payments: {})",
                            b.status,
                            describe(payments)
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    // 5.
    for b in &snapshot.bookings {
        if b.status == PENDING && b.expires_at + grace < now {
            add(
                PENDING_PAST_TIMEOUT,
                b.id.to_string(),
                format!(
                    "PENDING, expired at {} ({}s ago, grace {}s)",
                    b.expires_at.to_rfc3339(),
                    (now - b.expires_at).num_seconds(),
                    grace.num_seconds()
                ),
            );
        }
    }

    // 6.
    for p in &snapshot.payments {
        let booking = p
            .booking_id
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok())
            .and_then(|id| bookings.get(&id));
        let Some(b) = booking else {
            add(
                PAYMENT_WITHOUT_BOOKING,
                p.id.clone(),
                format!(
                    "{} payment for booking {}, which does not exist",
                    p.status.as_deref().unwrap_or("(no status)"),
                    p.booking_id.as_deref().unwrap_or("(none)")
                ),
            );
            continue;
        };
        if p.status.as_deref() == Some(SUCCESS)
            && (p.amount_minor != Some(b.total_minor)
                || p.currency.as_deref() != Some(b.currency.as_str()))
        {
            add(
                PAYMENT_AMOUNT_MISMATCH,
                p.id.clone(),
                format!(
                    "charged {} {} for booking {} totalling {} {}",
                    p.amount_minor
                        .map_or_else(|| "(no amount)".to_owned(), |n| n.to_string()),
                    p.currency.as_deref().unwrap_or("(no currency)"),
                    b.id,
                    b.total_minor,
                    b.currency
                ),
            );
        }
    }

    // 7. Every event with a counts row or a hold.
    let mut counted: BTreeMap<Uuid, Counts> = BTreeMap::new();
    for e in &snapshot.events {
        counted.entry(e.event_id).or_default().0 =
            Some((i64::from(e.locked), i64::from(e.reserved)));
    }
    for h in &snapshot.holds {
        let entry = counted.entry(h.event_id).or_default();
        match h.status.as_str() {
            LOCKED => entry.1 += 1,
            RESERVED => entry.2 += 1,
            _ => {}
        }
    }
    for (event, (stored, locked, reserved)) in counted {
        let detail = match stored {
            None => format!(
                "no event_inventory row, but seat_holds has {locked} LOCKED and {reserved} RESERVED"
            ),
            Some(counts) if counts != (locked, reserved) => format!(
                "event_inventory says locked={} reserved={}, seat_holds has {locked} LOCKED and {reserved} RESERVED",
                counts.0, counts.1
            ),
            Some(_) => continue,
        };
        add(INVENTORY_COUNTS_DRIFT, event.to_string(), detail);
    }

    out.sort_by(|a, b| {
        let rank = |rule| RULES.iter().position(|r| *r == rule);
        (rank(a.rule), &a.subject).cmp(&(rank(b.rule), &b.subject))
    });
    out
}

/// An event's `event_inventory` counts (if it has a row) and its LOCKED and RESERVED holds.
type Counts = (Option<(i64, i64)>, i64, i64);

fn describe(payments: &[&crate::Payment]) -> String {
    if payments.is_empty() {
        return "none".to_owned();
    }
    payments
        .iter()
        .map(|p| format!("{} {}", p.id, p.status.as_deref().unwrap_or("(no status)")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventCounts, Hold, Payment};

    fn booking(status: &str, seats: &[Uuid], at: DateTime<Utc>) -> Booking {
        Booking {
            id: Uuid::new_v4(),
            status: status.to_owned(),
            seat_ids: seats.to_vec(),
            total_minor: 100,
            currency: "USD".to_owned(),
            expires_at: at,
            updated_at: at,
        }
    }

    fn payment(booking: &str, status: &str) -> Payment {
        Payment {
            id: Uuid::new_v4().to_string(),
            booking_id: Some(booking.to_owned()),
            status: Some(status.to_owned()),
            amount_minor: Some(100),
            currency: Some("USD".to_owned()),
        }
    }

    fn rules(violations: &[Violation]) -> Vec<&'static str> {
        violations.iter().map(|v| v.rule).collect()
    }

    #[test]
    fn cases_the_stores_constraints_normally_prevent() {
        let now = Utc::now();
        let long_ago = now - TimeDelta::hours(1);
        let (event, seat) = (Uuid::new_v4(), Uuid::new_v4());
        let confirmed = booking(CONFIRMED, &[seat], long_ago);
        let snapshot = Snapshot {
            holds: vec![Hold {
                seat_id: seat,
                event_id: event,
                booking_id: confirmed.id,
                status: RESERVED.to_owned(),
            }],
            // Two charges despite the unique index (an index dropped by hand), one payment
            // whose booking id is not a UUID, and an event with holds but no counts row.
            payments: vec![
                payment(&confirmed.id.to_string(), SUCCESS),
                payment(&confirmed.id.to_string().to_uppercase(), SUCCESS),
                payment("not-a-uuid", SUCCESS),
            ],
            events: vec![EventCounts {
                event_id: Uuid::new_v4(),
                locked: 0,
                reserved: 0,
            }],
            bookings: vec![confirmed],
        };
        let violations = check(&snapshot, now, TimeDelta::seconds(30));
        assert_eq!(
            rules(&violations),
            [
                CONFIRMED_WITHOUT_ONE_SUCCESS_PAYMENT,
                PAYMENT_WITHOUT_BOOKING,
                INVENTORY_COUNTS_DRIFT
            ],
            "{violations:#?}"
        );
        assert!(violations[0].detail.starts_with("2 SUCCESS payments"));
        assert_eq!(violations[2].subject, event.to_string());
    }

    #[test]
    fn a_confirmed_booking_whose_seat_another_booking_reserved() {
        let now = Utc::now();
        let long_ago = now - TimeDelta::hours(1);
        let seat = Uuid::new_v4();
        let mine = booking(CONFIRMED, &[seat], long_ago);
        let theirs = booking(CONFIRMED, &[seat], long_ago);
        let event = Uuid::new_v4();
        let snapshot = Snapshot {
            holds: vec![Hold {
                seat_id: seat,
                event_id: event,
                booking_id: theirs.id,
                status: RESERVED.to_owned(),
            }],
            events: vec![EventCounts {
                event_id: event,
                locked: 0,
                reserved: 1,
            }],
            payments: vec![
                payment(&mine.id.to_string(), SUCCESS),
                payment(&theirs.id.to_string(), SUCCESS),
            ],
            bookings: vec![mine.clone(), theirs],
        };
        let violations = check(&snapshot, now, TimeDelta::seconds(30));
        assert_eq!(rules(&violations), [CONFIRMED_SEATS_NOT_RESERVED]);
        assert_eq!(violations[0].subject, mine.id.to_string());
    }
}
