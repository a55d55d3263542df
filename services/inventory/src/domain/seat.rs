//! A seat's section and status as they travel on the wire and sit in the database.

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

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
