// The seat map: one ARIA grid (rows grouped by section, as on the venue), operable with the
// keyboard alone — arrows, Home/End, PageUp/PageDown, Enter or Space to pick — with a roving
// tab stop, so Tab enters and leaves the map in one step.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { Seat } from "../api/types";
import {
  buildLayout,
  flatRows,
  initialPosition,
  move,
  positionOf,
  seatAriaLabel,
  type Position,
} from "./model";

export interface SeatMapProps {
  seats: Seat[];
  selected: string[];
  price: number;
  currency: string;
  onToggle: (seat: Seat) => void;
}

export function SeatMap({ seats, selected, price, currency, onToggle }: SeatMapProps) {
  const sections = useMemo(() => buildLayout(seats), [seats]);
  const rows = useMemo(() => flatRows(sections), [sections]);
  const [active, setActive] = useState<string | null>(null);
  const cells = useRef(new Map<string, HTMLDivElement>());
  const chosen = useMemo(() => new Set(selected), [selected]);
  const scroller = useRef<HTMLDivElement>(null);
  const hasSeats = rows.length > 0;

  // On a narrow screen the map scrolls sideways: start at its centre, in front of the stage.
  useEffect(() => {
    const el = scroller.current;
    if (el && hasSeats) el.scrollLeft = (el.scrollWidth - el.clientWidth) / 2;
  }, [hasSeats]);

  if (rows.length === 0) {
    return <p className="muted">This event has no seat map yet.</p>;
  }

  const activePos: Position =
    (active ? positionOf(rows, active) : null) ?? initialPosition(rows);
  const activeId = rows[activePos.row]?.seats[activePos.col]?.id;

  const focusSeat = (pos: Position) => {
    const seat = rows[pos.row]?.seats[pos.col];
    if (!seat) return;
    setActive(seat.id);
    cells.current.get(seat.id)?.focus();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const seatId = (event.target as HTMLElement).dataset.seatId;
    const from = (seatId ? positionOf(rows, seatId) : null) ?? activePos;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      const seat = rows[from.row]?.seats[from.col];
      if (seat) {
        setActive(seat.id);
        onToggle(seat);
      }
      return;
    }
    const to = move(rows, from, event.key, event.ctrlKey || event.metaKey);
    if (to) {
      event.preventDefault();
      focusSeat(to);
    }
  };

  return (
    <div className="seatmap-scroll" ref={scroller}>
      <div className="stage" aria-hidden="true">
        Stage
      </div>
      <div
        role="grid"
        aria-label="Seat map: use the arrow keys to move, Enter or Space to select a seat"
        aria-multiselectable="true"
        aria-rowcount={rows.length}
        className="seatmap"
        onKeyDown={onKeyDown}
      >
        {sections.map((section) => (
          <div role="rowgroup" aria-label={section.label} key={section.key} className="seat-section">
            <div className="seat-section-name" aria-hidden="true">
              {section.label}
            </div>
            {section.rows.map((row) => (
              <div role="row" key={row.key} className="seat-row">
                <span role="rowheader" className="row-name">
                  {row.row}
                </span>
                <div className="row-seats">
                  {row.seats.map((seat) => {
                    const isSelected = chosen.has(seat.id);
                    const available = seat.status === "AVAILABLE";
                    return (
                      <div
                        key={seat.id}
                        ref={(node) => {
                          if (node) cells.current.set(seat.id, node);
                          else cells.current.delete(seat.id);
                        }}
                        role="gridcell"
                        data-seat-id={seat.id}
                        data-status={seat.status}
                        tabIndex={seat.id === activeId ? 0 : -1}
                        aria-selected={isSelected}
                        aria-disabled={!available && !isSelected ? true : undefined}
                        aria-label={seatAriaLabel(seat, price, currency)}
                        className={`seat seat-${seat.status.toLowerCase()}${isSelected ? " seat-selected" : ""}`}
                        onClick={() => {
                          setActive(seat.id);
                          onToggle(seat);
                        }}
                        onFocus={() => setActive(seat.id)}
                      >
                        <span aria-hidden="true">{seat.seatNumber}</span>
                      </div>
                    );
                  })}
                </div>
              </div>
            ))}
          </div>
        ))}
      </div>
    </div>
  );
}

/** What each look means; shapes as well as colours, so the map reads without colour. */
export function SeatLegend({ price, currency }: { price: string; currency: string }) {
  return (
    <ul className="legend" aria-label="Legend">
      <li>
        <span className="seat seat-available legend-swatch" aria-hidden="true" /> Available · {price}
      </li>
      <li>
        <span className="seat seat-available seat-selected legend-swatch" aria-hidden="true" /> Your selection
      </li>
      <li>
        <span className="seat seat-locked legend-swatch" aria-hidden="true" /> On hold
      </li>
      <li>
        <span className="seat seat-reserved legend-swatch" aria-hidden="true" /> Sold
      </li>
      <li className="sr-only">Prices in {currency}</li>
    </ul>
  );
}
