import { layout } from "./fixtures";
import {
  applyChange,
  buildLayout,
  flatRows,
  initialPosition,
  MAX_SEATS,
  move,
  reconcile,
  seatAriaLabel,
  toggle,
} from "./model";

describe("buildLayout", () => {
  it("groups seats into the venue's sections and rows, in order", () => {
    const sections = buildLayout(layout());
    expect(sections.map((s) => s.label)).toEqual(["VIP", "Floor", "Balcony"]);
    expect(sections[1].rows.map((r) => r.row)).toEqual(["C", "D", "E", "F"]);
    expect(sections[1].rows[0].seats).toHaveLength(15);
    expect(flatRows(sections)).toHaveLength(9);
  });
  it("adds general rows past 116 seats", () => {
    const sections = buildLayout(layout(150));
    expect(sections.map((s) => s.key)).toEqual(["VIP", "FLOOR", "BALCONY", "GENERAL"]);
    expect(sections[3].rows.map((r) => r.seats.length)).toEqual([20, 14]);
  });
});

describe("seatAriaLabel", () => {
  it("names row, seat, section, status and price", () => {
    const seat = layout().find((s) => s.id === "C7")!;
    expect(seatAriaLabel(seat, 1499, "INR")).toBe("Row C seat 7, Floor, available, ₹1,499");
    expect(seatAriaLabel({ ...seat, status: "RESERVED" }, 20, "USD")).toMatch(/^Row C seat 7, Floor, sold, (US)?\$20$/);
    expect(seatAriaLabel({ ...seat, status: "LOCKED" }, 1499, "INR")).toContain("on hold");
  });
});

describe("move", () => {
  const rows = flatRows(buildLayout(layout()));
  it("walks a row with Left/Right and stops at its ends", () => {
    expect(move(rows, { row: 0, col: 0 }, "ArrowRight")).toEqual({ row: 0, col: 1 });
    expect(move(rows, { row: 0, col: 0 }, "ArrowLeft")).toEqual({ row: 0, col: 0 });
    expect(move(rows, { row: 0, col: 9 }, "ArrowRight")).toEqual({ row: 0, col: 9 });
    expect(move(rows, { row: 2, col: 3 }, "End")).toEqual({ row: 2, col: 14 });
    expect(move(rows, { row: 2, col: 3 }, "Home")).toEqual({ row: 2, col: 0 });
  });
  it("keeps the seat visually above or below across sections of different widths", () => {
    // B1 (10 seats, centred) sits above C3/C4 of a 15-seat row.
    const down = move(rows, { row: 1, col: 0 }, "ArrowDown")!;
    expect(down.row).toBe(2);
    expect(rows[2].seats[down.col].seatNumber).toBe("4");
    const up = move(rows, down, "ArrowUp")!;
    expect(up).toEqual({ row: 1, col: 0 });
    expect(move(rows, { row: 0, col: 4 }, "ArrowUp")).toEqual({ row: 0, col: 4 });
    expect(move(rows, { row: 8, col: 0 }, "ArrowDown")).toEqual({ row: 8, col: 0 });
  });
  it("jumps to the map's corners with Ctrl+Home/End and ignores other keys", () => {
    expect(move(rows, { row: 4, col: 4 }, "Home", true)).toEqual({ row: 0, col: 0 });
    expect(move(rows, { row: 4, col: 4 }, "End", true)).toEqual({ row: 8, col: 11 });
    expect(move(rows, { row: 4, col: 4 }, "a")).toBeNull();
  });
});

describe("selection", () => {
  const seats = layout(116, (id) => (id === "A1" ? "RESERVED" : id === "A2" ? "LOCKED" : "AVAILABLE"));
  const byId = (id: string) => seats.find((s) => s.id === id)!;

  it("starts the keyboard on the first available seat", () => {
    expect(initialPosition(flatRows(buildLayout(seats)))).toEqual({ row: 0, col: 2 });
  });

  it("toggles available seats and refuses taken ones", () => {
    let result = toggle([], byId("A3"));
    expect(result).toEqual({ ok: true, selection: ["A3"] });
    result = toggle(result.selection, byId("A3"));
    expect(result.selection).toEqual([]);
    const refused = toggle([], byId("A1"));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toMatch(/A1 is sold/);
  });

  it(`allows at most ${MAX_SEATS} seats`, () => {
    const ten = seats.slice(2, 12).map((s) => s.id);
    const result = toggle(ten, byId("C1"));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toBe("You can book at most 10 seats at a time.");
    // Removing one still works at the limit.
    expect(toggle(ten, byId(ten[0])).selection).toHaveLength(9);
  });

  it("applies live changes and drops selected seats someone else took", () => {
    const after = applyChange(seats, { seatId: "C5", status: "LOCKED", version: 7 });
    expect(after.find((s) => s.id === "C5")!.status).toBe("LOCKED");
    expect(applyChange(after, { seatId: "C5", status: "LOCKED", version: 8 })).toBe(after);
    expect(applyChange(after, { seatId: "nope", status: "LOCKED", version: 8 })).toBe(after);
    const { kept, lost } = reconcile(["C4", "C5"], after);
    expect(kept).toEqual(["C4"]);
    expect(lost.map((s) => s.id)).toEqual(["C5"]);
  });
});
