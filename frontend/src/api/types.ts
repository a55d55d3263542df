// Wire shapes of the TicketFlow API as the gateway serves them (event JSON is snake_case,
// the rest camelCase).

export type Role = "USER" | "ADMIN";

export interface User {
  id: string;
  name: string;
  email: string;
  role: Role;
  createdAt: string;
}

export interface AuthResponse {
  token: string;
  expiresAt: string;
  user: User;
}

export interface Venue {
  id: string;
  name: string;
  address: string;
  city: string;
  country: string;
  capacity: number;
}

export interface Event {
  id: string;
  name: string;
  description: string;
  venue_id: string;
  venue: Venue | null;
  date: string;
  price: number;
  currency: string;
  total_seats: number;
  available_seats: number;
  image_url: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface EventList {
  events: Event[];
  total: number;
  page: number;
  limit: number;
}

export type SeatStatus = "AVAILABLE" | "LOCKED" | "RESERVED";

export interface Seat {
  id: string;
  eventId: string;
  row: string;
  seatNumber: string;
  section: string;
  status: SeatStatus;
}

export interface SeatMapBody {
  eventId: string;
  seats: Seat[];
  total: number;
  summary: { available: number; locked: number; reserved: number };
}

export interface SeatChange {
  seatId: string;
  status: SeatStatus;
  version: number;
}

export type BookingStatus = "PENDING" | "CONFIRMED" | "FAILED" | "CANCELLED";

export interface Booking {
  id: string;
  bookingId?: string;
  userId: string;
  eventId: string;
  eventName: string;
  eventDate: string;
  venueName: string | null;
  seatIds: string[];
  seatLabels: string[];
  status: BookingStatus;
  step?: string;
  totalAmount: number;
  currency: string;
  paymentId: string | null;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
  confirmedAt: string | null;
  cancelledAt: string | null;
}
