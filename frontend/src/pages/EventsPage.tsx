// Upcoming events, soonest first, with search (name, description or tag) and posters.
import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, describeError, posterUrl } from "../api/client";
import type { EventList } from "../api/types";
import { Notice, Spinner } from "../components/ui";
import { formatDateTime, formatMoney, formatShortDate } from "../lib/format";

const PAGE_SIZE = 12;

export function EventsPage() {
  const [params, setParams] = useSearchParams();
  const search = params.get("q") ?? "";
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [draft, setDraft] = useState(search);
  const [list, setList] = useState<EventList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    document.title = search ? `“${search}” · TicketFlow` : "Upcoming events · TicketFlow";
  }, [search]);

  useEffect(() => setDraft(search), [search]);

  // Search as you type, a moment after the last key.
  useEffect(() => {
    if (draft === search) return;
    const timer = setTimeout(() => {
      const next = new URLSearchParams();
      if (draft.trim()) next.set("q", draft.trim());
      setParams(next, { replace: true });
    }, 350);
    return () => clearTimeout(timer);
  }, [draft, search, setParams]);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    api
      .events({ search, page, limit: PAGE_SIZE }, controller.signal)
      .then((result) => setList(result))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(describeError(e));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [search, page]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    if (draft.trim()) next.set("q", draft.trim());
    setParams(next);
  };

  const goto = (to: number) => {
    const next = new URLSearchParams(params);
    next.set("page", String(to));
    setParams(next);
    window.scrollTo({ top: 0 });
  };

  const pages = list ? Math.max(1, Math.ceil(list.total / PAGE_SIZE)) : 1;

  return (
    <>
      <section className="hero">
        <h1>Find your next night out</h1>
        <p>Concerts, theatre and talks. Pick the exact seats you want and book in seconds.</p>
        <form role="search" className="search" onSubmit={submit}>
          <label htmlFor="event-search" className="sr-only">
            Search events
          </label>
          <input
            id="event-search"
            type="search"
            placeholder="Search by name, description or tag"
            value={draft}
            maxLength={100}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit" className="button">
            Search
          </button>
        </form>
      </section>

      {error && <Notice kind="error">{error}</Notice>}
      {loading && !list && <Spinner label="Loading events…" />}
      {list && (
        <section aria-labelledby="results-heading" aria-busy={loading}>
          <h2 id="results-heading" className="results-heading">
            {search ? `Events matching “${search}”` : "Upcoming events"}
            <span className="count" role="status">
              {list.total} {list.total === 1 ? "event" : "events"}
            </span>
          </h2>
          {list.events.length === 0 ? (
            <p className="empty">No events match your search. Try another word or a tag like “music”.</p>
          ) : (
            <ul className="event-grid">
              {list.events.map((event, index) => {
                const short = formatShortDate(event.date);
                const soldOut = event.available_seats <= 0;
                return (
                  <li key={event.id} className="event-card">
                    <div className="poster">
                      <img
                        src={posterUrl(event)}
                        alt=""
                        loading={index < 3 ? "eager" : "lazy"}
                        width={400}
                        height={300}
                      />
                      <span className="date-chip" aria-hidden="true">
                        <strong>{short.day}</strong>
                        {short.month}
                      </span>
                    </div>
                    <div className="event-card-body">
                      <h3>
                        <Link to={`/events/${event.id}`} className="card-link">
                          {event.name}
                        </Link>
                      </h3>
                      <p className="meta">
                        <time dateTime={event.date}>{formatDateTime(event.date)}</time>
                      </p>
                      {event.venue && (
                        <p className="meta">
                          {event.venue.name}, {event.venue.city}
                        </p>
                      )}
                      <p className="card-foot">
                        <span className="price">from {formatMoney(event.price, event.currency)}</span>
                        <span className={soldOut ? "badge badge-muted" : "badge"}>
                          {soldOut ? "Sold out" : `${event.available_seats} seats left`}
                        </span>
                      </p>
                    </div>
                  </li>
                );
              })}
            </ul>
          )}
          {pages > 1 && (
            <nav className="pager" aria-label="Pages">
              <button type="button" className="button button-quiet" disabled={page <= 1} onClick={() => goto(page - 1)}>
                Previous
              </button>
              <span>
                Page {page} of {pages}
              </span>
              <button type="button" className="button button-quiet" disabled={page >= pages} onClick={() => goto(page + 1)}>
                Next
              </button>
            </nav>
          )}
        </section>
      )}
    </>
  );
}
