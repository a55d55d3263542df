// A booking in progress: polled until the saga ends (seats held → payment → confirmed),
// with a readable message on failure and a clear note if it takes unusually long.
import { useEffect, useState } from "react";
import { Link, useLocation, useParams } from "react-router-dom";
import { api, ApiError, describeError } from "../api/client";
import type { Booking } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Notice, Spinner } from "../components/ui";
import { failureText } from "../lib/bookings";
import { formatDateTime, formatMoney } from "../lib/format";
import NotFoundPage from "./NotFoundPage";
import { SignInFirst } from "./SignInFirst";

const POLL_MS = 1000;
/** Past booking-service's 120 s timeout, the booking has ended; stop asking. */
const GIVE_UP_MS = 150_000;

export default function BookingPage() {
  const { id = "" } = useParams();
  const { user, loading } = useAuth();
  const planned = (useLocation().state as { seats?: string[] } | null)?.seats;
  const [booking, setBooking] = useState<Booking | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [slow, setSlow] = useState(false);
  const [gaveUp, setGaveUp] = useState(false);

  useEffect(() => {
    document.title = "Your booking · TicketFlow";
  }, []);

  useEffect(() => {
    if (!user) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    const controller = new AbortController();
    const poll = async () => {
      try {
        const current = await api.booking(id, controller.signal);
        if (stop) return;
        setBooking(current);
        setError(null);
        if (current.status !== "PENDING") return;
      } catch (e) {
        if (stop) return;
        if (e instanceof ApiError && e.status === 404) {
          setMissing(true);
          return;
        }
        // A hiccup (429, 503) is not the end: say so and keep asking.
        setError(describeError(e));
      }
      const elapsed = Date.now() - started;
      if (elapsed > 15_000) setSlow(true);
      if (elapsed > GIVE_UP_MS) {
        setGaveUp(true);
        return;
      }
      timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stop = true;
      controller.abort();
      clearTimeout(timer);
    };
  }, [id, user]);

  if (loading) return <Spinner label="Loading…" />;
  if (!user) return <SignInFirst what="see this booking" />;
  if (missing) return <NotFoundPage what="booking" />;
  if (!booking) return error ? <Notice kind="error">{error}</Notice> : <Spinner label="Loading your booking…" />;

  const pending = booking.status === "PENDING";
  const seatsHeld = booking.step === "AWAITING_PAYMENT" || booking.status === "CONFIRMED";

  return (
    <section className="booking panel" aria-labelledby="booking-heading" data-status={booking.status}>
      <h1 id="booking-heading">
        {pending && "Booking in progress"}
        {booking.status === "CONFIRMED" && "You're going! Booking confirmed"}
        {booking.status === "FAILED" && "Booking not completed"}
        {booking.status === "CANCELLED" && "Booking cancelled"}
      </h1>
      <p className="booking-event">
        <strong>{booking.eventName}</strong> · <time dateTime={booking.eventDate}>{formatDateTime(booking.eventDate)}</time>
        {booking.venueName && <> · {booking.venueName}</>}
      </p>

      {pending && (
        <div role="status" aria-live="polite" className="progress">
          <ol className="steps">
            <li className="done">Request received</li>
            <li className={seatsHeld ? "done" : "current"}>{seatsHeld ? "Seats held for you" : "Holding your seats…"}</li>
            <li className={seatsHeld ? "current" : ""}>{seatsHeld ? "Processing payment…" : "Payment"}</li>
            <li>Confirmed</li>
          </ol>
          {!gaveUp && <p className="muted">This usually takes a few seconds. Please keep this page open.</p>}
          {slow && !gaveUp && <p>This is taking longer than usual. We are still working on it.</p>}
        </div>
      )}
      {gaveUp && pending && (
        <Notice kind="error">
          We have not heard back in time. Check <Link to="/bookings">My bookings</Link> in a minute: the booking either
          completes or is released, and you are never charged for seats you do not get.
        </Notice>
      )}
      {error && pending && <Notice kind="info">{error}</Notice>}
      {booking.status === "CONFIRMED" && (
        <Notice kind="success">Your seats are booked. A confirmation e-mail is on its way.</Notice>
      )}
      {booking.status === "FAILED" && <Notice kind="error">{failureText(booking.failureReason)}</Notice>}

      <dl className="facts">
        <div>
          <dt>Seats</dt>
          <dd>
            {booking.seatLabels.length
              ? booking.seatLabels.join(", ")
              : (planned?.join(", ") ?? `${booking.seatIds.length} seats`)}
          </dd>
        </div>
        <div>
          <dt>Amount</dt>
          <dd>{formatMoney(booking.totalAmount, booking.currency)}</dd>
        </div>
        <div>
          <dt>Reference</dt>
          <dd className="mono">{booking.id}</dd>
        </div>
      </dl>
      <div className="actions">
        <Link className="button" to="/bookings">
          My bookings
        </Link>
        {booking.status === "FAILED" && (
          <Link className="button button-quiet" to={`/events/${booking.eventId}`}>
            Pick other seats
          </Link>
        )}
      </div>
    </section>
  );
}
