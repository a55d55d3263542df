import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Booking } from "../api/types";
import { fakeGateway, fan, renderPage } from "../test-utils";
import MyBookingsPage from "./MyBookingsPage";

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

function booking(id: string, status: Booking["status"], eventDate: string): Booking {
  return {
    id,
    userId: "u1",
    eventId: "e1",
    eventName: `Show ${id}`,
    eventDate,
    venueName: "Hall",
    seatIds: ["s1", "s2"],
    seatLabels: ["C7", "C8"],
    status,
    totalAmount: 2998,
    currency: "INR",
    paymentId: null,
    failureReason: status === "FAILED" ? "SEATS_UNAVAILABLE" : null,
    createdAt: "2026-11-30T10:00:00.000Z",
    updatedAt: "2026-11-30T10:00:00.000Z",
    confirmedAt: null,
    cancelledAt: null,
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("My bookings", () => {
  it("lists bookings with status, seats and amount, and cancels after confirmation", async () => {
    const list = [booking("b1", "CONFIRMED", inDays(10)), booking("b2", "FAILED", inDays(10))];
    const calls = fakeGateway((method, path) => {
      if (path === "/api/users/me") return { status: 200, body: { user: fan } };
      if (path === "/api/bookings/my") return { status: 200, body: list };
      if (method === "POST" && path === "/api/bookings/b1/cancel") return { status: 200, body: { ...list[0], status: "CANCELLED" } };
    });
    renderPage("/bookings", "/bookings", <MyBookingsPage />);
    const first = (await screen.findByRole("link", { name: "Show b1" })).closest("li")!;
    expect(within(first).getByText("Confirmed")).toBeTruthy();
    expect(within(first).getByText("C7, C8")).toBeTruthy();
    expect(within(first).getByText("₹2,998")).toBeTruthy();
    const failed = screen.getByRole("link", { name: "Show b2" }).closest("li")!;
    expect(within(failed).getByText(/Someone else booked one of these seats/)).toBeTruthy();
    expect(within(failed).queryByRole("button", { name: "Cancel booking" })).toBeNull();
    expect(screen.getByText(/a confirmed one up to 24 hours before the event starts/)).toBeTruthy();

    const user = userEvent.setup();
    await user.click(within(first).getByRole("button", { name: "Cancel booking" }));
    // Nothing is cancelled before the confirmation; focus moves to it.
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    expect(document.activeElement).toBe(within(first).getByRole("button", { name: "Yes, cancel booking" }));
    await user.click(within(first).getByRole("button", { name: "Yes, cancel booking" }));
    expect(await within(first).findByText("Cancelled")).toBeTruthy();
    expect(screen.getByText("Booking for Show b1 cancelled. Seats C7, C8 are released.")).toBeTruthy();
  });

  it("explains the window instead of offering cancel for a confirmed booking within 24 hours", async () => {
    fakeGateway((_, path) => {
      if (path === "/api/users/me") return { status: 200, body: { user: fan } };
      if (path === "/api/bookings/my") return { status: 200, body: [booking("b3", "CONFIRMED", inDays(0.5))] };
    });
    renderPage("/bookings", "/bookings", <MyBookingsPage />);
    const item = (await screen.findByRole("link", { name: "Show b3" })).closest("li")!;
    expect(within(item).queryByRole("button", { name: "Cancel booking" })).toBeNull();
    expect(within(item).getByText("Cancellation closes 24 hours before the event starts.")).toBeTruthy();
  });

  it("shows the service's refusal in words", async () => {
    fakeGateway((method, path) => {
      if (path === "/api/users/me") return { status: 200, body: { user: fan } };
      if (path === "/api/bookings/my") return { status: 200, body: [booking("b4", "CONFIRMED", inDays(3))] };
      if (method === "POST")
        return {
          status: 422,
          body: { error: { code: "CANCELLATION_WINDOW_EXPIRED", message: "too late", requestId: "r" } },
        };
    });
    renderPage("/bookings", "/bookings", <MyBookingsPage />);
    const item = (await screen.findByRole("link", { name: "Show b4" })).closest("li")!;
    const user = userEvent.setup();
    await user.click(within(item).getByRole("button", { name: "Cancel booking" }));
    await user.click(within(item).getByRole("button", { name: "Yes, cancel booking" }));
    expect((await within(item).findByRole("alert")).textContent).toBe(
      "Too late to cancel: cancellation closes 24 hours before the event.",
    );
  });

  it("asks a signed-out visitor to sign in", async () => {
    fakeGateway(() => undefined);
    renderPage("/bookings", "/bookings", <MyBookingsPage />, false);
    expect(await screen.findByRole("heading", { name: "Please sign in" })).toBeTruthy();
  });
});
