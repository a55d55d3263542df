//! The venue layout every event's seats are cut from: VIP rows A–B × 10, FLOOR C–F × 15,
//! BALCONY G–I × 12 (the first 116 seats, in the order clients know), then GENERAL rows
//! J, K, … × 20 for as long as seats are needed; stopping at the event's `totalSeats`.

use super::seat::Section;

/// Seats an event may have. Rows are labelled J…Z, then AA, AB, … so labels never run out
/// below this bound (it mirrors event-service's own limit on `totalSeats`).
pub const MAX_SEATS: u32 = 10_000;

const FIXED: [(Section, &[&str], u32); 3] = [
    (Section::Vip, &["A", "B"], 10),
    (Section::Floor, &["C", "D", "E", "F"], 15),
    (Section::Balcony, &["G", "H", "I"], 12),
];
const GENERAL_ROW_SEATS: u32 = 20;
/// Index of `J` among the letters: the first GENERAL row.
const FIRST_GENERAL_ROW: u32 = 9;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSeat {
    /// 0-based place in the layout: the seat map's order.
    pub position: u32,
    pub section: Section,
    pub row: String,
    pub number: u32,
}

impl PlannedSeat {
    /// `C7`: what people read on a ticket.
    pub fn label(&self) -> String {
        format!("{}{}", self.row, self.number)
    }
}

/// The first `total` seats of the layout (at most [`MAX_SEATS`]).
pub fn plan(total: u32) -> Vec<PlannedSeat> {
    let total = total.min(MAX_SEATS);
    let fixed = FIXED.iter().flat_map(|&(section, rows, per_row)| {
        rows.iter()
            .map(move |row| (section, (*row).to_owned(), per_row))
    });
    let general =
        (FIRST_GENERAL_ROW..).map(|index| (Section::General, row_label(index), GENERAL_ROW_SEATS));
    fixed
        .chain(general)
        .flat_map(|(section, row, per_row)| {
            (1..=per_row).map(move |number| (section, row.clone(), number))
        })
        .take(total as usize)
        .zip(0..)
        .map(|((section, row, number), position)| PlannedSeat {
            position,
            section,
            row,
            number,
        })
        .collect()
}

/// Row labels in spreadsheet order: 0 → A, 25 → Z, 26 → AA, 27 → AB, …
fn row_label(mut index: u32) -> String {
    let mut label = Vec::new();
    loop {
        label.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    label.reverse();
    String::from_utf8_lossy(&label).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(seats: &[PlannedSeat]) -> Vec<String> {
        seats.iter().map(PlannedSeat::label).collect()
    }

    #[test]
    fn forty_seats_fill_vip_then_floor() {
        let seats = plan(40);
        assert_eq!(seats.len(), 40);
        let labels = labels(&seats);
        assert_eq!(labels[0], "A1");
        assert_eq!(labels[9], "A10");
        assert_eq!(labels[19], "B10");
        assert_eq!(labels[20], "C1");
        assert_eq!(labels[34], "C15");
        assert_eq!(labels[35..], ["D1", "D2", "D3", "D4", "D5"]);
        assert!(seats[..20].iter().all(|s| s.section == Section::Vip));
        assert!(seats[20..].iter().all(|s| s.section == Section::Floor));
    }

    #[test]
    fn the_fixed_sections_hold_116_seats_then_general_rows_of_20() {
        let seats = plan(800);
        assert_eq!(seats.len(), 800);
        let count = |section| seats.iter().filter(|s| s.section == section).count();
        assert_eq!(count(Section::Vip), 20);
        assert_eq!(count(Section::Floor), 60);
        assert_eq!(count(Section::Balcony), 36);
        assert_eq!(count(Section::General), 800 - 116);
        assert_eq!(seats[115].label(), "I12");
        assert_eq!(seats[116].label(), "J1");
        assert_eq!(seats[135].label(), "J20");
        assert_eq!(seats[136].label(), "K1");
        // 684 GENERAL seats: 34 full rows (J…Z is 17, then AA…AQ) and 4 seats of the next.
        assert_eq!(seats[799].label(), "AR4");
        let positions: Vec<u32> = seats.iter().map(|s| s.position).collect();
        assert_eq!(positions, (0..800).collect::<Vec<_>>());
    }

    #[test]
    fn labels_are_unique_and_row_labels_continue_past_z() {
        let seats = plan(MAX_SEATS + 5);
        assert_eq!(seats.len(), MAX_SEATS as usize);
        let mut seen = std::collections::HashSet::new();
        assert!(seats.iter().all(|s| seen.insert(s.label())));
        assert!(seats.iter().all(|s| s.row.len() <= 8));
        assert_eq!(row_label(25), "Z");
        assert_eq!(row_label(26), "AA");
        assert_eq!(row_label(27), "AB");
        assert_eq!(row_label(26 + 26 * 26), "AAA");
    }

    #[test]
    fn zero_seats_is_an_empty_layout() {
        assert!(plan(0).is_empty());
        assert_eq!(plan(1)[0].label(), "A1");
    }
}
