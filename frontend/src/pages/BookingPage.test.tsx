import { screen } from "@testing-library/react";
import type { Booking } from "../api/types";
import { fakeGateway, fan, renderPage } from "../test-utils";
import BookingPage from "./BookingPage";

afterEach(() => vi.unstubAllGlobals());

const base: Booking = {
  id: "b1",
  userId: "u1",
  eventId: "e1",
  eventName: "Monsoon Jazz",
  eventDate: "2027-01-01T14:00:00.000Z",
  venueName: "Indigo Courtyard",
  seatIds: ["s1", "s2"],
  seatLabels: [],
  status: "PENDING",
  step: "AWAITING_SEATS",
  totalAmount: 2998,
  currency: "INR",
  paymentId: null,
  failureReason: null,
  createdAt: "2026-12-01T00:00:00.000Z",
  updatedAt: "2026-12-01T00:00:00.000Z",
  confirmedAt: null,
  cancelledAt: null,
};

function serve(states: Booking[]) {
  let polls = 0;
  const calls = fakeGateway((_, path) => {
    if (path === "/api/users/me") return { status: 200, body: { user: fan } };
    if (path === "/api/bookings/b1") {
      const state = states[Math.min(polls, states.length - 1)];
      polls += 1;
      return { status: 200, body: state };
    }
  });
  return calls;
}

describe("the booking in progress", () => {
  it("shows the pending steps, then the confirmation with seats and amount, and stops polling", async () => {
    const calls = serve([
      base,
      { ...base, step: "AWAITING_PAYMENT", seatLabels: ["A1", "A2"] },
      { ...base, status: "CONFIRMED", step: "CONFIRMED", seatLabels: ["A1", "A2"] },
    ]);
    renderPage("/bookings/b1", "/bookings/:id", <BookingPage />);
    expect(await screen.findByRole("heading", { name: "Booking in progress" })).toBeTruthy();
    expect(screen.getByText("Holding your seats…")).toBeTruthy();
    expect(await screen.findByText("Processing payment…", {}, { timeout: 3000 })).toBeTruthy();
    expect(await screen.findByRole("heading", { name: "You're going! Booking confirmed" }, { timeout: 3000 })).toBeTruthy();
    expect(screen.getByText("A1, A2")).toBeTruthy();
    expect(screen.getByText("₹2,998")).toBeTruthy();
    const polls = calls.filter((c) => c.path === "/api/bookings/b1").length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(calls.filter((c) => c.path === "/api/bookings/b1").length).toBe(polls);
  });

  it("explains a failure in plain words", async () => {
    serve([{ ...base, status: "FAILED", failureReason: "SEATS_UNAVAILABLE" }]);
    renderPage("/bookings/b1", "/bookings/:id", <BookingPage />);
    expect(await screen.findByRole("heading", { name: "Booking not completed" })).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toMatch(/Someone else booked one of these seats a moment before you/);
    expect(screen.getByRole("link", { name: "Pick other seats" }).getAttribute("href")).toBe("/events/e1");
  });

  it("says so when the booking is not found", async () => {
    fakeGateway((_, path) => (path === "/api/users/me" ? { status: 200, body: { user: fan } } : undefined));
    renderPage("/bookings/b1", "/bookings/:id", <BookingPage />);
    expect(await screen.findByRole("heading", { name: "We could not find that booking" })).toBeTruthy();
  });
});
