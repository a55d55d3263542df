// One fetch wrapper for every call: the stored token on every request (the gateway treats a
// bad one as anonymous on public routes), the error envelope turned into an ApiError.
import type {
  AuthResponse,
  Booking,
  Event,
  EventList,
  SeatMapBody,
  User,
  Venue,
} from "./types";

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const TOKEN_KEY = "ticketflow.token";

export const tokenStore = {
  get(): string | null {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string | null) {
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch {
      // Private mode without storage: the session lasts as long as the tab.
    }
  },
};

/** Called when a protected call answers 401: the session is over. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void) {
  onUnauthorized = handler;
}

/** A readable sentence for an error, whatever it was. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) {
      const wait = error.retryAfter ? ` in ${error.retryAfter} s` : " shortly";
      return `Too many requests from this network. Please try again${wait}.`;
    }
    if (error.status === 503 || error.status === 504) {
      return "The service is busy or briefly unavailable. Please try again in a moment.";
    }
    return error.message;
  }
  if (error instanceof TypeError) {
    return "Cannot reach TicketFlow. Check your connection and try again.";
  }
  return "Something went wrong. Please try again.";
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const token = tokenStore.get();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const envelope = (data as { error?: { code?: string; message?: string; details?: FieldError[] } } | null)
      ?.error;
    const retryAfter = Number(response.headers.get("retry-after")) || undefined;
    const error = new ApiError(
      response.status,
      envelope?.code ?? `HTTP_${response.status}`,
      envelope?.message ?? `The server answered ${response.status}.`,
      envelope?.details ?? [],
      retryAfter,
    );
    if (response.status === 401 && token && error.code === "UNAUTHORIZED") onUnauthorized();
    throw error;
  }
  return data as T;
}

export interface EventQuery {
  search?: string;
  page?: number;
  limit?: number;
}

export const api = {
  register: (body: { name: string; email: string; password: string }) =>
    request<AuthResponse>("/api/users/register", { method: "POST", body }),
  login: (body: { email: string; password: string }) =>
    request<AuthResponse>("/api/users/login", { method: "POST", body }),
  me: (signal?: AbortSignal) => request<{ user: User }>("/api/users/me", { signal }),

  events: (query: EventQuery, signal?: AbortSignal) => {
    const params = new URLSearchParams();
    params.set("page", String(query.page ?? 1));
    params.set("limit", String(query.limit ?? 12));
    if (query.search?.trim()) params.set("search", query.search.trim());
    return request<EventList>(`/api/events?${params}`, { signal });
  },
  event: (id: string, signal?: AbortSignal) =>
    request<Event>(`/api/events/${encodeURIComponent(id)}`, { signal }),
  createEvent: (body: Record<string, unknown>) =>
    request<Event>("/api/events", { method: "POST", body }),
  updateEvent: (id: string, body: Record<string, unknown>) =>
    request<Event>(`/api/events/${encodeURIComponent(id)}`, { method: "PUT", body }),
  venues: (signal?: AbortSignal) => request<{ venues: Venue[] }>("/api/venues", { signal }),
  createVenue: (body: Record<string, unknown>) =>
    request<Venue>("/api/venues", { method: "POST", body }),

  seats: (eventId: string, signal?: AbortSignal) =>
    request<SeatMapBody>(`/api/inventory/events/${encodeURIComponent(eventId)}/seats`, { signal }),

  book: (eventId: string, seatIds: string[], idempotencyKey: string) =>
    request<Booking>("/api/bookings", {
      method: "POST",
      body: { eventId, seatIds },
      headers: { "Idempotency-Key": idempotencyKey },
    }),
  booking: (id: string, signal?: AbortSignal) =>
    request<Booking>(`/api/bookings/${encodeURIComponent(id)}`, { signal }),
  myBookings: (signal?: AbortSignal) => request<Booking[]>("/api/bookings/my", { signal }),
  cancel: (id: string) =>
    request<Booking>(`/api/bookings/${encodeURIComponent(id)}/cancel`, { method: "POST" }),
};

export const posterUrl = (event: Pick<Event, "id">) =>
  `/api/events/${encodeURIComponent(event.id)}/poster`;
