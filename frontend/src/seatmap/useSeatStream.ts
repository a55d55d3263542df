// The live seat map: inventory's Server-Sent Events stream (`snapshot`, then `seat` changes)
// through the gateway. A stream that ends or is refused (429 past the per-client bound) is
// reopened with backoff; meanwhile the map is read once with a plain GET so it never goes blank.
import { useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import type { Seat, SeatChange, SeatMapBody } from "../api/types";
import { applyChange } from "./model";

export type StreamState = "connecting" | "live" | "reconnecting";

export interface SeatStream {
  seats: Seat[] | null;
  state: StreamState;
  error: string | null;
}

const MAX_BACKOFF_MS = 30_000;

export function streamUrl(eventId: string): string {
  return `/api/inventory/events/${encodeURIComponent(eventId)}/seats/stream`;
}

export function useSeatStream(eventId: string): SeatStream {
  const [seats, setSeats] = useState<Seat[] | null>(null);
  const [state, setState] = useState<StreamState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    setSeats(null);
    setState("connecting");
    setError(null);
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    const controller = new AbortController();

    const readOnce = () => {
      api
        .seats(eventId, controller.signal)
        .then((body) => {
          if (alive.current) setSeats(body.seats);
        })
        .catch(() => {
          if (alive.current) setError("The seat map could not be loaded. Retrying…");
        });
    };

    const open = () => {
      if (typeof EventSource === "undefined") {
        // No streams in this browser: poll.
        readOnce();
        timer = setTimeout(open, 5000);
        return;
      }
      source = new EventSource(streamUrl(eventId));
      source.addEventListener("open", () => {
        attempts = 0;
        if (alive.current) {
          setState("live");
          setError(null);
        }
      });
      source.addEventListener("snapshot", (event) => {
        const body = JSON.parse((event as MessageEvent<string>).data) as SeatMapBody;
        if (alive.current) {
          setSeats(body.seats);
          setState("live");
          setError(null);
        }
      });
      source.addEventListener("seat", (event) => {
        const change = JSON.parse((event as MessageEvent<string>).data) as SeatChange;
        if (alive.current) setSeats((current) => (current ? applyChange(current, change) : current));
      });
      source.addEventListener("error", () => {
        if (!alive.current || !source) return;
        setState("reconnecting");
        if (source.readyState === EventSource.CLOSED) {
          // Refused (e.g. too many streams) or failed for good: read the map, then retry.
          source.close();
          source = null;
          readOnce();
          const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** attempts);
          attempts += 1;
          timer = setTimeout(open, delay);
        }
        // CONNECTING: the browser reconnects by itself and a fresh snapshot follows.
      });
    };

    open();
    return () => {
      alive.current = false;
      controller.abort();
      clearTimeout(timer);
      source?.close();
    };
  }, [eventId]);

  return { seats, state, error };
}
