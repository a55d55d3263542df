import type { Seat, SeatStatus } from "../api/types";

/** The service's layout: VIP A–B × 10, FLOOR C–F × 15, BALCONY G–I × 12, then GENERAL × 20. */
export function layout(total = 116, status: (id: string) => SeatStatus = () => "AVAILABLE"): Seat[] {
  const plan: [string, string[], number][] = [
    ["VIP", ["A", "B"], 10],
    ["FLOOR", ["C", "D", "E", "F"], 15],
    ["BALCONY", ["G", "H", "I"], 12],
    ["GENERAL", ["J", "K", "L"], 20],
  ];
  const seats: Seat[] = [];
  for (const [section, rows, perRow] of plan) {
    for (const row of rows) {
      for (let n = 1; n <= perRow && seats.length < total; n++) {
        const id = `${row}${n}`;
        seats.push({ id, eventId: "e", row, seatNumber: String(n), section, status: status(id) });
      }
    }
  }
  return seats;
}

