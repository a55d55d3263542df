// One event: poster, details and the live seat map. Booking needs an account: a signed-out
// visitor's selection is kept while they sign in and comes back here.
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ApiError, describeError, posterUrl } from "../api/client";
import type { Event, Seat } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Notice, Spinner } from "../components/ui";
import { formatDateTime, formatMoney } from "../lib/format";
import { seatName } from "../seatmap/model";
import { SeatPicker } from "../seatmap/SeatPicker";
import NotFoundPage from "./NotFoundPage";

const pendingKey = (eventId: string) => `ticketflow.selection.${eventId}`;

function newKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export default function EventPage() {
  const { id = "" } = useParams();
  const { user } = useAuth();
  const navigate = useNavigate();
  const [event, setEvent] = useState<Event | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [booking, setBooking] = useState(false);
  const [bookError, setBookError] = useState<string | null>(null);
  const [initial] = useState<string[]>(() => {
    try {
      const saved = sessionStorage.getItem(pendingKey(id));
      sessionStorage.removeItem(pendingKey(id));
      return saved ? (JSON.parse(saved) as string[]) : [];
    } catch {
      return [];
    }
  });

  useEffect(() => {
    const controller = new AbortController();
    api
      .event(id, controller.signal)
      .then((e) => {
        setEvent(e);
        document.title = `${e.name} · TicketFlow`;
      })
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        if (e instanceof ApiError && e.status === 404) setMissing(true);
        else setError(describeError(e));
      });
    return () => controller.abort();
  }, [id]);

  if (missing) return <NotFoundPage what="event" />;
  if (error) return <Notice kind="error">{error}</Notice>;
  if (!event) return <Spinner label="Loading event…" />;

  const started = new Date(event.date).getTime() <= Date.now();

  const book = async (seats: Seat[]) => {
    setBookError(null);
    if (!user) {
      try {
        sessionStorage.setItem(pendingKey(event.id), JSON.stringify(seats.map((s) => s.id)));
      } catch {
        // Without storage the visitor picks again after signing in.
      }
      navigate(`/signin?next=${encodeURIComponent(`/events/${event.id}`)}`);
      return;
    }
    setBooking(true);
    try {
      const created = await api.book(event.id, seats.map((s) => s.id), newKey());
      // The seat names go along: the booking only has its labels once the seats are held.
      navigate(`/bookings/${created.bookingId ?? created.id}`, { state: { seats: seats.map(seatName) } });
    } catch (e) {
      setBooking(false);
      if (e instanceof ApiError && e.code === "EVENT_ALREADY_STARTED") {
        setBookError("This event has already started, so it can no longer be booked.");
      } else {
        setBookError(describeError(e));
      }
    }
  };

  return (
    <article className="event-page">
      <p className="crumbs">
        <Link to="/">← All events</Link>
      </p>
      <header className="event-header panel">
        <img className="event-poster" src={posterUrl(event)} alt={`Poster for ${event.name}`} width={400} height={300} />
        <div className="event-info">
          <h1>{event.name}</h1>
          <p className="meta">
            <time dateTime={event.date}>{formatDateTime(event.date)}</time>
          </p>
          {event.venue && (
            <p className="meta">
              {event.venue.name} · {event.venue.address}, {event.venue.city}
            </p>
          )}
          <p className="price-line">
            {formatMoney(event.price, event.currency)} <span className="muted">per seat</span>
          </p>
          {event.tags.length > 0 && (
            <ul className="tags" aria-label="Tags">
              {event.tags.map((tag) => (
                <li key={tag}>
                  <Link to={`/?q=${encodeURIComponent(tag)}`}>#{tag}</Link>
                </li>
              ))}
            </ul>
          )}
          {event.description && <p className="description">{event.description}</p>}
        </div>
      </header>

      {bookError && <Notice kind="error">{bookError}</Notice>}
      {started ? (
        <Notice kind="info">This event has started. Booking is closed.</Notice>
      ) : (
        <SeatPicker
          eventId={event.id}
          price={event.price}
          currency={event.currency}
          initialSelection={initial}
          busy={booking}
          onBook={book}
          actionLabel={(n) => (user ? `Book ${n} ${n === 1 ? "seat" : "seats"}` : `Sign in to book ${n} ${n === 1 ? "seat" : "seats"}`)}
        />
      )}
    </article>
  );
}
