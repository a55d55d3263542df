// Every booking of the signed-in user, newest first: status, seats, amount, and cancel with a
// confirmation step and the window rule spelled out.
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { api, ApiError, describeError } from "../api/client";
import type { Booking } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Notice, Spinner } from "../components/ui";
import { canCancel, CANCELLATION_WINDOW_HOURS, failureText } from "../lib/bookings";
import { formatDateTime, formatMoney } from "../lib/format";
import { SignInFirst } from "./SignInFirst";

const STATUS_TEXT: Record<Booking["status"], string> = {
  PENDING: "In progress",
  CONFIRMED: "Confirmed",
  FAILED: "Not completed",
  CANCELLED: "Cancelled",
};

export default function MyBookingsPage() {
  const { user, loading } = useAuth();
  const [bookings, setBookings] = useState<Booking[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    document.title = "My bookings · TicketFlow";
  }, []);

  const load = useCallback((signal?: AbortSignal) => {
    api
      .myBookings(signal)
      .then((list) => {
        setBookings(list);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!signal?.aborted) setError(describeError(e));
      });
  }, []);

  useEffect(() => {
    if (!user) return;
    const controller = new AbortController();
    load(controller.signal);
    return () => controller.abort();
  }, [user, load]);

  // While a booking is in progress, refresh now and then so it settles on screen.
  useEffect(() => {
    if (!bookings?.some((b) => b.status === "PENDING")) return;
    const timer = setTimeout(() => load(), 2000);
    return () => clearTimeout(timer);
  }, [bookings, load]);

  if (loading) return <Spinner label="Loading…" />;
  if (!user) return <SignInFirst what="see your bookings" />;

  const replace = (updated: Booking) =>
    setBookings((list) => list?.map((b) => (b.id === updated.id ? updated : b)) ?? list);

  return (
    <section aria-labelledby="bookings-heading">
      <h1 id="bookings-heading">My bookings</h1>
      <p className="muted">
        You can cancel a booking while it is in progress, and a confirmed one up to {CANCELLATION_WINDOW_HOURS} hours
        before the event starts. Cancelling releases the seats and refunds the payment.
      </p>
      {notice && <Notice kind="success">{notice}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {!bookings && !error && <Spinner label="Loading your bookings…" />}
      {bookings && bookings.length === 0 && (
        <div className="panel empty">
          <p>No bookings yet.</p>
          <Link className="button" to="/">
            Find an event
          </Link>
        </div>
      )}
      {bookings && bookings.length > 0 && (
        <ul className="booking-list">
          {bookings.map((booking) => (
            <BookingItem
              key={booking.id}
              booking={booking}
              onCancelled={(b) => {
                replace(b);
                setNotice(`Booking for ${b.eventName} cancelled. Seats ${b.seatLabels.join(", ")} are released.`);
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function BookingItem({ booking, onCancelled }: { booking: Booking; onCancelled: (b: Booking) => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmRef = useRef<HTMLDivElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const rule = canCancel(booking);
  const seats = booking.seatLabels.length ? booking.seatLabels.join(", ") : `${booking.seatIds.length} seats`;
  const headingId = `booking-${booking.id}`;

  useEffect(() => {
    if (confirming) confirmRef.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [confirming]);

  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      onCancelled(await api.cancel(booking.id));
      setConfirming(false);
    } catch (e) {
      if (e instanceof ApiError && e.code === "CANCELLATION_WINDOW_EXPIRED") {
        setError(`Too late to cancel: cancellation closes ${CANCELLATION_WINDOW_HOURS} hours before the event.`);
      } else if (e instanceof ApiError && e.code === "BOOKING_NOT_CANCELLABLE") {
        setError("This booking can no longer be cancelled.");
      } else {
        setError(describeError(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="booking-item panel" aria-labelledby={headingId} data-booking-id={booking.id} data-status={booking.status}>
      <div className="booking-main">
        <h2 id={headingId}>
          <Link to={`/bookings/${booking.id}`}>{booking.eventName}</Link>
        </h2>
        <span className={`status status-${booking.status.toLowerCase()}`}>{STATUS_TEXT[booking.status]}</span>
      </div>
      <p className="meta">
        <time dateTime={booking.eventDate}>{formatDateTime(booking.eventDate)}</time>
        {booking.venueName && <> · {booking.venueName}</>}
      </p>
      <dl className="facts facts-inline">
        <div>
          <dt>Seats</dt>
          <dd>{seats}</dd>
        </div>
        <div>
          <dt>Amount</dt>
          <dd>{formatMoney(booking.totalAmount, booking.currency)}</dd>
        </div>
        <div>
          <dt>Booked</dt>
          <dd>
            <time dateTime={booking.createdAt}>{formatDateTime(booking.createdAt)}</time>
          </dd>
        </div>
      </dl>
      {booking.status === "FAILED" && <p className="muted small">{failureText(booking.failureReason)}</p>}
      {error && <Notice kind="error">{error}</Notice>}
      {(booking.status === "PENDING" || booking.status === "CONFIRMED") &&
        (confirming ? (
          <div ref={confirmRef} className="confirm" role="group" aria-label={`Confirm cancelling ${booking.eventName}`}>
            <p>
              Cancel your booking for <strong>{booking.eventName}</strong>? Seats {seats} are released and{" "}
              {formatMoney(booking.totalAmount, booking.currency)} is refunded. This cannot be undone.
            </p>
            <div className="actions">
              <button type="button" className="button button-danger" disabled={busy} onClick={cancel}>
                {busy ? "Cancelling…" : "Yes, cancel booking"}
              </button>
              <button
                type="button"
                className="button button-quiet"
                disabled={busy}
                onClick={() => {
                  setConfirming(false);
                  setTimeout(() => cancelButton.current?.focus());
                }}
              >
                Keep booking
              </button>
            </div>
          </div>
        ) : rule.ok ? (
          <button ref={cancelButton} type="button" className="button button-quiet" onClick={() => setConfirming(true)}>
            Cancel booking
          </button>
        ) : (
          <p className="muted small">{rule.why}</p>
        ))}
    </li>
  );
}
