// What bookings mean to a person: readable failure reasons, and whether one can be cancelled.
import type { Booking } from "../api/types";
import { hoursUntil } from "./format";

/** booking-service's CANCELLATION_WINDOW_HOURS (24 unless the build says otherwise). */
export const CANCELLATION_WINDOW_HOURS = Number(import.meta.env.VITE_CANCELLATION_WINDOW_HOURS ?? 24) || 24;

export function failureText(reason: string | null): string {
  switch (reason) {
    case "SEATS_UNAVAILABLE":
      return "Someone else booked one of these seats a moment before you. Nothing was charged. Please pick other seats.";
    case "PAYMENT_FAILED":
      return "The payment was declined, so the seats were released. Nothing was charged. Please try again.";
    case "TIMEOUT":
      return "The booking took too long to complete, so the seats were released. Any charge is refunded. Please try again.";
    default:
      return "The booking could not be completed. Any charge is refunded. Please try again.";
  }
}

export type Cancellable =
  | { ok: true }
  | { ok: false; why: string };

/** The rule the service applies: PENDING or CONFIRMED only, and a confirmed booking not
 * within CANCELLATION_WINDOW_HOURS of its event. */
export function canCancel(booking: Booking, now: number = Date.now()): Cancellable {
  if (booking.status !== "PENDING" && booking.status !== "CONFIRMED") {
    return { ok: false, why: `A ${booking.status.toLowerCase()} booking cannot be cancelled.` };
  }
  if (booking.status === "CONFIRMED" && hoursUntil(booking.eventDate, now) < CANCELLATION_WINDOW_HOURS) {
    return {
      ok: false,
      why: `Cancellation closes ${CANCELLATION_WINDOW_HOURS} hours before the event starts.`,
    };
  }
  return { ok: true };
}
