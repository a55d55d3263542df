import type { Booking } from "../api/types";
import { canCancel, failureText } from "./bookings";

const now = Date.parse("2026-12-01T12:00:00Z");
const booking = (status: Booking["status"], eventDate: string): Booking => ({
  id: "b",
  userId: "u",
  eventId: "e",
  eventName: "Jazz",
  eventDate,
  venueName: "Hall",
  seatIds: ["s"],
  seatLabels: ["A1"],
  status,
  totalAmount: 10,
  currency: "INR",
  paymentId: null,
  failureReason: null,
  createdAt: "2026-12-01T00:00:00.000Z",
  updatedAt: "2026-12-01T00:00:00.000Z",
  confirmedAt: null,
  cancelledAt: null,
});

describe("canCancel", () => {
  it("allows pending and confirmed bookings outside the 24 h window", () => {
    expect(canCancel(booking("CONFIRMED", "2026-12-03T12:00:00Z"), now)).toEqual({ ok: true });
    expect(canCancel(booking("PENDING", "2026-12-01T13:00:00Z"), now)).toEqual({ ok: true });
  });
  it("explains the window for a confirmed booking close to its event", () => {
    const rule = canCancel(booking("CONFIRMED", "2026-12-02T11:00:00Z"), now);
    expect(rule).toEqual({ ok: false, why: "Cancellation closes 24 hours before the event starts." });
  });
  it("refuses ended bookings", () => {
    expect(canCancel(booking("CANCELLED", "2027-01-01T00:00:00Z"), now).ok).toBe(false);
    expect(canCancel(booking("FAILED", "2027-01-01T00:00:00Z"), now).ok).toBe(false);
  });
});

describe("failureText", () => {
  it("says what happened in plain words", () => {
    expect(failureText("SEATS_UNAVAILABLE")).toMatch(/Someone else booked/);
    expect(failureText("PAYMENT_FAILED")).toMatch(/declined/);
    expect(failureText("TIMEOUT")).toMatch(/too long/);
    expect(failureText(null)).toMatch(/could not be completed/);
  });
});
