// The seat map's rules, free of React: layout (sections → rows → seats, as the venue has them),
// labels, keyboard movement, selection limits and live changes.
import type { Seat, SeatChange, SeatStatus } from "../api/types";
import { formatMoney } from "../lib/format";

/** At most this many seats per booking (booking-service's MAX_SEATS_PER_BOOKING). */
export const MAX_SEATS = 10;

export interface RowModel {
  key: string;
  section: string;
  row: string;
  seats: Seat[];
}

export interface SectionModel {
  key: string;
  label: string;
  rows: RowModel[];
}

const SECTION_LABELS: Record<string, string> = {
  VIP: "VIP",
  FLOOR: "Floor",
  BALCONY: "Balcony",
  GENERAL: "General",
};

export function sectionLabel(section: string): string {
  return (
    SECTION_LABELS[section] ??
    section.charAt(0).toUpperCase() + section.slice(1).toLowerCase()
  );
}

/** Sections and rows in the order the service lists seats (section, row, seat number). */
export function buildLayout(seats: Seat[]): SectionModel[] {
  const sections: SectionModel[] = [];
  let section: SectionModel | undefined;
  let row: RowModel | undefined;
  for (const seat of seats) {
    if (!section || section.key !== seat.section) {
      section = { key: seat.section, label: sectionLabel(seat.section), rows: [] };
      sections.push(section);
      row = undefined;
    }
    if (!row || row.row !== seat.row) {
      row = { key: `${seat.section}:${seat.row}`, section: seat.section, row: seat.row, seats: [] };
      section.rows.push(row);
    }
    row.seats.push(seat);
  }
  return sections;
}

/** All rows top to bottom, across sections (what the arrow keys walk). */
export function flatRows(sections: SectionModel[]): RowModel[] {
  return sections.flatMap((s) => s.rows);
}

const STATUS_WORDS: Record<SeatStatus, string> = {
  AVAILABLE: "available",
  LOCKED: "on hold",
  RESERVED: "sold",
};

/** "Row C seat 7, Floor, available, ₹1,499" — what a screen reader says for a seat. */
export function seatAriaLabel(seat: Seat, price: number, currency: string): string {
  return `Row ${seat.row} seat ${seat.seatNumber}, ${sectionLabel(seat.section)}, ${
    STATUS_WORDS[seat.status]
  }, ${formatMoney(price, currency)}`;
}

/** "C7", as on tickets and in bookings' seatLabels. */
export function seatName(seat: Pick<Seat, "row" | "seatNumber">): string {
  return `${seat.row}${seat.seatNumber}`;
}

export interface Position {
  row: number;
  col: number;
}

/**
 * Where a key moves the focus, or `null` for keys the map does not handle. Up/Down keep the
 * seat that is visually above/below (rows are centred, so a 10-seat row sits in the middle
 * of a 15-seat one); Home/End go to the row's ends, Ctrl+Home/End to the map's.
 */
export function move(rows: RowModel[], from: Position, key: string, ctrl = false): Position | null {
  if (rows.length === 0) return null;
  const clampCol = (r: number, c: number) =>
    Math.max(0, Math.min(rows[r].seats.length - 1, c));
  const vertical = (to: number): Position => {
    const offset = (rows[to].seats.length - rows[from.row].seats.length) / 2;
    // Halfway between two seats: round away from the wider row's edge into the narrower one,
    // so Down then Up comes back to the same seat.
    const exact = from.col + offset;
    const col = offset < 0 ? Math.ceil(exact - 0.5) : Math.floor(exact + 0.5);
    return { row: to, col: clampCol(to, col) };
  };
  switch (key) {
    case "ArrowRight":
      return { row: from.row, col: clampCol(from.row, from.col + 1) };
    case "ArrowLeft":
      return { row: from.row, col: clampCol(from.row, from.col - 1) };
    case "ArrowDown":
      return from.row + 1 < rows.length ? vertical(from.row + 1) : from;
    case "ArrowUp":
      return from.row > 0 ? vertical(from.row - 1) : from;
    case "Home":
      return ctrl ? { row: 0, col: 0 } : { row: from.row, col: 0 };
    case "End":
      if (ctrl) {
        const last = rows.length - 1;
        return { row: last, col: rows[last].seats.length - 1 };
      }
      return { row: from.row, col: rows[from.row].seats.length - 1 };
    case "PageDown":
      return vertical(Math.min(rows.length - 1, from.row + 5));
    case "PageUp":
      return vertical(Math.max(0, from.row - 5));
    default:
      return null;
  }
}

/** Position of a seat id in the rows, or `null`. */
export function positionOf(rows: RowModel[], seatId: string): Position | null {
  for (let r = 0; r < rows.length; r++) {
    const c = rows[r].seats.findIndex((s) => s.id === seatId);
    if (c >= 0) return { row: r, col: c };
  }
  return null;
}

/** The seat to make tabbable first: the first available one, else the first. */
export function initialPosition(rows: RowModel[]): Position {
  for (let r = 0; r < rows.length; r++) {
    const c = rows[r].seats.findIndex((s) => s.status === "AVAILABLE");
    if (c >= 0) return { row: r, col: c };
  }
  return { row: 0, col: 0 };
}

export type ToggleResult =
  | { ok: true; selection: string[] }
  | { ok: false; selection: string[]; reason: string };

/** Adds or removes a seat from the selection, within the rules. */
export function toggle(selection: string[], seat: Seat, max = MAX_SEATS): ToggleResult {
  if (selection.includes(seat.id)) {
    return { ok: true, selection: selection.filter((id) => id !== seat.id) };
  }
  if (seat.status !== "AVAILABLE") {
    return {
      ok: false,
      selection,
      reason: `Seat ${seatName(seat)} is ${STATUS_WORDS[seat.status]} and cannot be selected.`,
    };
  }
  if (selection.length >= max) {
    return {
      ok: false,
      selection,
      reason: `You can book at most ${max} seats at a time.`,
    };
  }
  return { ok: true, selection: [...selection, seat.id] };
}

/** The seats with one live change applied (same array when nothing changed). */
export function applyChange(seats: Seat[], change: SeatChange): Seat[] {
  const index = seats.findIndex((s) => s.id === change.seatId);
  if (index < 0 || seats[index].status === change.status) return seats;
  const next = seats.slice();
  next[index] = { ...seats[index], status: change.status };
  return next;
}

/** Splits a selection into the seats still free and those someone else took. */
export function reconcile(
  selection: string[],
  seats: Seat[],
): { kept: string[]; lost: Seat[] } {
  const byId = new Map(seats.map((s) => [s.id, s]));
  const kept: string[] = [];
  const lost: Seat[] = [];
  for (const id of selection) {
    const seat = byId.get(id);
    if (seat && seat.status === "AVAILABLE") kept.push(id);
    else if (seat) lost.push(seat);
  }
  return { kept, lost };
}

export function summarize(seats: Seat[]): Record<SeatStatus, number> {
  const counts: Record<SeatStatus, number> = { AVAILABLE: 0, LOCKED: 0, RESERVED: 0 };
  for (const seat of seats) counts[seat.status] += 1;
  return counts;
}
