//! A seat's section and status as they travel on the wire and sit in the database.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Section {
    Vip,
    Floor,
    Balcony,
    General,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vip => "VIP",
            Self::Floor => "FLOOR",
            Self::Balcony => "BALCONY",
            Self::General => "GENERAL",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Vip, Self::Floor, Self::Balcony, Self::General]
            .into_iter()
            .find(|section| section.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum SeatStatus {
    Available,
    Locked,
    Reserved,
}

impl SeatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::Locked => "LOCKED",
            Self::Reserved => "RESERVED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Available, Self::Locked, Self::Reserved]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// How many seats of an event are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub total: i64,
    pub locked: i64,
    pub reserved: i64,
}

impl Counts {
    pub fn available(&self) -> i64 {
        self.total - self.locked - self.reserved
    }
}

/// One seat moving from one status to another in a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatChange {
    pub seat_id: Uuid,
    pub from: SeatStatus,
    pub to: SeatStatus,
}

impl SeatChange {
    pub fn new(seat_id: Uuid, from: SeatStatus, to: SeatStatus) -> Self {
        Self { seat_id, from, to }
    }
}

/// How `changes` move an event's `(locked, reserved)` counts.
pub fn count_delta(changes: &[SeatChange]) -> (i64, i64) {
    let weight = |status: SeatStatus| match status {
        SeatStatus::Available => (0, 0),
        SeatStatus::Locked => (1, 0),
        SeatStatus::Reserved => (0, 1),
    };
    changes.iter().fold((0, 0), |(locked, reserved), change| {
        let (to_locked, to_reserved) = weight(change.to);
        let (from_locked, from_reserved) = weight(change.from);
        (
            locked + to_locked - from_locked,
            reserved + to_reserved - from_reserved,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_follow_each_move() {
        use SeatStatus::{Available, Locked, Reserved};
        let change = |from, to| SeatChange::new(Uuid::new_v4(), from, to);
        assert_eq!(count_delta(&[]), (0, 0));
        assert_eq!(
            count_delta(&[change(Available, Locked), change(Available, Locked)]),
            (2, 0)
        );
        assert_eq!(count_delta(&[change(Locked, Reserved)]), (-1, 1));
        assert_eq!(
            count_delta(&[change(Reserved, Available), change(Locked, Available)]),
            (-1, -1)
        );
        // A lapsed lock taken over by another booking: still one locked seat.
        assert_eq!(count_delta(&[change(Locked, Locked)]), (0, 0));
    }

    #[test]
    fn names_round_trip() {
        for section in [
            Section::Vip,
            Section::Floor,
            Section::Balcony,
            Section::General,
        ] {
            assert_eq!(Section::parse(section.as_str()), Some(section));
        }
        for status in [
            SeatStatus::Available,
            SeatStatus::Locked,
            SeatStatus::Reserved,
        ] {
            assert_eq!(SeatStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Section::parse("vip"), None);
        assert_eq!(SeatStatus::parse("SOLD"), None);
    }
}
