import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Event } from "../api/types";
import { fakeGateway, renderPage } from "../test-utils";
import { EventsPage } from "./EventsPage";

afterEach(() => vi.unstubAllGlobals());

const event = (id: string, name: string, extra: Partial<Event> = {}): Event => ({
  id,
  name,
  description: "",
  venue_id: "v1",
  venue: { id: "v1", name: "Indigo Courtyard", address: "1 Road", city: "Bengaluru", country: "India", capacity: 600 },
  date: "2027-01-01T14:00:00.000Z",
  price: 1499,
  currency: "INR",
  total_seats: 116,
  available_seats: 40,
  image_url: `/api/events/${id}/poster`,
  tags: ["jazz"],
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
  ...extra,
});

it("lists upcoming events with posters and searches as you type", async () => {
  const calls = fakeGateway((_, path) => {
    const url = new URL(path, "http://x");
    if (url.pathname !== "/api/events") return undefined;
    const search = url.searchParams.get("search");
    const events = search === "jazz" ? [event("e1", "Monsoon Jazz")] : [event("e1", "Monsoon Jazz"), event("e2", "Sitar & Synth", { available_seats: 0, currency: "USD", price: 20 })];
    return { status: 200, body: { events, total: events.length, page: 1, limit: 12 } };
  });
  renderPage("/", "/", <EventsPage />, false);
  const list = await screen.findByRole("list");
  expect(within(list).getAllByRole("listitem")).toHaveLength(2);
  const card = screen.getByRole("link", { name: "Sitar & Synth" }).closest("li")!;
  expect(card.querySelector("img")!.getAttribute("src")).toBe("/api/events/e2/poster");
  expect(within(card).getByText("Sold out")).toBeTruthy();
  expect(within(card).getByText(/from \$20/)).toBeTruthy();
  expect(screen.getByRole("link", { name: "Monsoon Jazz" }).getAttribute("href")).toBe("/events/e1");

  await userEvent.setup().type(screen.getByRole("searchbox", { name: "Search events" }), "jazz");
  expect(await screen.findByRole("heading", { name: /Events matching “jazz”/ }, { timeout: 2000 })).toBeTruthy();
  expect(within(screen.getByRole("list")).getAllByRole("listitem")).toHaveLength(1);
  expect(calls.some((c) => c.path.includes("search=jazz"))).toBe(true);
});

it("says when the catalogue cannot be reached", async () => {
  vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("offline"))));
  renderPage("/", "/", <EventsPage />, false);
  expect((await screen.findByRole("alert")).textContent).toBe("Cannot reach TicketFlow. Check your connection and try again.");
});
