// The live seat map with the selection around it: legend, running total, at most 10 seats,
// and a message when someone else takes a seat you had picked.
import { useEffect, useMemo, useState } from "react";
import type { Seat } from "../api/types";
import { formatMoney, total } from "../lib/format";
import { MAX_SEATS, reconcile, seatName, sectionLabel, summarize, toggle } from "./model";
import { SeatLegend, SeatMap } from "./SeatMap";
import { useSeatStream } from "./useSeatStream";

export interface SeatPickerProps {
  eventId: string;
  price: number;
  currency: string;
  initialSelection?: string[];
  busy?: boolean;
  onBook: (seats: Seat[]) => void;
  actionLabel?: (count: number) => string;
}

export function SeatPicker({
  eventId,
  price,
  currency,
  initialSelection = [],
  busy = false,
  onBook,
  actionLabel = (n) => `Book ${n} ${n === 1 ? "seat" : "seats"}`,
}: SeatPickerProps) {
  const { seats, state, error } = useSeatStream(eventId);
  const [selection, setSelection] = useState<string[]>(initialSelection);
  const [announcement, setAnnouncement] = useState("");
  const [taken, setTaken] = useState<string | null>(null);

  // Live changes: a seat someone else took leaves your selection, and you are told.
  useEffect(() => {
    if (!seats) return;
    setSelection((current) => {
      const { kept, lost } = reconcile(current, seats);
      if (lost.length === 0 && kept.length === current.length) return current;
      if (lost.length > 0 && !busy) {
        const names = lost.map(seatName).join(", ");
        setTaken(
          lost.length === 1
            ? `Seat ${names} was just taken by someone else and has been removed from your selection.`
            : `Seats ${names} were just taken by someone else and have been removed from your selection.`,
        );
      }
      return kept;
    });
  }, [seats, busy]);

  const byId = useMemo(() => new Map((seats ?? []).map((s) => [s.id, s])), [seats]);
  const chosen = selection.map((id) => byId.get(id)).filter((s): s is Seat => Boolean(s));
  const sum = total(price, chosen.length);
  const counts = useMemo(() => summarize(seats ?? []), [seats]);

  const onToggle = (seat: Seat) => {
    const result = toggle(selection, seat, MAX_SEATS);
    if (!result.ok) {
      setAnnouncement(result.reason);
      return;
    }
    const added = result.selection.length > selection.length;
    setSelection(result.selection);
    setTaken(null);
    const n = result.selection.length;
    setAnnouncement(
      `Seat ${seatName(seat)} ${added ? "selected" : "removed"}. ${n} ${n === 1 ? "seat" : "seats"} selected, total ${formatMoney(
        total(price, n),
        currency,
      )}.`,
    );
  };

  return (
    <div className="picker">
      <div className="picker-map panel">
        <div className="picker-head">
          <h2 id="seats-heading">Choose your seats</h2>
          <p className={`live live-${state}`} role="status">
            <span className="live-dot" aria-hidden="true" />
            {state === "live" ? "Live availability" : state === "connecting" ? "Connecting…" : "Reconnecting…"}
          </p>
        </div>
        <SeatLegend price={formatMoney(price, currency)} currency={currency} />
        {error && !seats && <p className="notice notice-error">{error}</p>}
        {!seats ? (
          <div className="loading" role="status">
            <span className="spinner" aria-hidden="true" /> Loading seats…
          </div>
        ) : (
          <>
            <p className="muted small">
              {counts.AVAILABLE} of {seats.length} seats available
            </p>
            <SeatMap seats={seats} selected={selection} price={price} currency={currency} onToggle={onToggle} />
          </>
        )}
      </div>

      <aside className="picker-summary panel" aria-labelledby="summary-heading">
        <h2 id="summary-heading">Your selection</h2>
        {taken && (
          <div className="notice notice-warn" role="alert">
            {taken}
          </div>
        )}
        {chosen.length === 0 ? (
          <p className="muted">No seats selected yet. Pick up to {MAX_SEATS} seats on the map.</p>
        ) : (
          <ul className="chosen" aria-label="Selected seats">
            {chosen.map((seat) => (
              <li key={seat.id}>
                <span>
                  <strong>{seatName(seat)}</strong> · {sectionLabel(seat.section)}
                </span>
                <span>{formatMoney(price, currency)}</span>
                <button
                  type="button"
                  className="chip-remove"
                  aria-label={`Remove seat ${seatName(seat)}`}
                  onClick={() => onToggle(seat)}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <p className="total">
          <span>
            Total ({chosen.length} of max {MAX_SEATS})
          </span>
          <strong data-testid="total">{formatMoney(sum, currency)}</strong>
        </p>
        <button
          type="button"
          className="button button-block"
          disabled={chosen.length === 0 || busy}
          onClick={() => onBook(chosen)}
        >
          {busy ? "Booking…" : chosen.length ? actionLabel(chosen.length) : "Select seats to book"}
        </button>
        <p className="sr-only" aria-live="polite" aria-atomic="true">
          {announcement}
        </p>
      </aside>
    </div>
  );
}
