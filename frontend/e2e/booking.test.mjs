// The web app against the running fleet (gateway on BASE_URL, default :3000), in Debian's
// chromium: an admin adds a venue and an event in the admin area; a new fan signs up, picks two
// seats with the keyboard only, books, sees CONFIRMED, finds the booking in My Bookings and
// cancels it; a second browser watching the same event sees those seats go unavailable and
// come back without reloading, and loses a seat it had selected. Every page is scanned with
// axe-core (no serious or critical violations) and shot at 1280 and 390 px.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { api, axe, eventually, launch, overflowAt360, person, PHONE, screenshots, tabTo, WIDE } from "./lib.mjs";

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const eventName = `E2E Night ${run}`;
let browser;
let pendingSeen = false;
/** Bookings this run made and has not cancelled yet: cancelled in `after` if a step failed. */
const active = [];
const violations = [];
const people = [];

before(async () => {
  browser = await launch();
});

after(async () => {
  // A failed run leaves no seats held on the shared fleet.
  for (const { page, bookingId } of active) {
    try {
      const token = await page.evaluate(() => localStorage.getItem("ticketflow.token"));
      await api(`/api/bookings/${bookingId}/cancel`, { method: "POST", token });
    } catch {
      // Already ended (failed or cancelled): nothing held.
    }
  }
  await browser?.close();
});

/** Scans and screenshots the page as it is now. */
async function check(page, name) {
  const found = await axe(page);
  if (found.length) violations.push(`${name}:\n  ${found.join("\n  ")}`);
  const extra = await overflowAt360(page);
  if (extra > 0) violations.push(`${name}: ${extra} px wider than a 360 px screen`);
  await screenshots(page, name);
}

const cell = (page, row, seat) => page.locator(`[role="gridcell"][aria-label^="Row ${row} seat ${seat},"]`);

/**
 * Tab into the seat map (A1), ↓ to B1, Enter, → to B2, Space, Tab to "Book 2 seats", Enter.
 * (Row B, not A: other suites check that every event's first two seats are free.)
 */
async function bookTwoSeatsWithKeyboard(page, eventId) {
  await page.goto(`/events/${eventId}`);
  await page.getByText("Live availability").waitFor();
  await tabTo(page, "the seat map", () => document.activeElement?.getAttribute("role") === "gridcell");
  const first = await page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
  assert.match(first ?? "", /^Row A seat 1, VIP, available, ₹1,499$/);
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press(" ");
  assert.equal(await cell(page, "B", 1).getAttribute("aria-selected"), "true");
  assert.equal(await cell(page, "B", 2).getAttribute("aria-selected"), "true");
  assert.equal(await cell(page, "A", 1).getAttribute("aria-selected"), "false");
  assert.equal(await page.getByTestId("total").textContent(), "₹2,998");
  await tabTo(page, "the book button", () => document.activeElement?.textContent === "Book 2 seats");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/bookings\/[0-9a-f-]{36}$/);
  const bookingId = page.url().split("/").pop();
  active.push({ page, bookingId });
  const section = page.locator("section.booking");
  await section.waitFor();
  if ((await section.getAttribute("data-status")) === "PENDING") {
    // The pending state (run.sh's fleet delays each charge by PAYMENT_DELAY_MS to show it).
    await page.getByRole("heading", { name: "Booking in progress" }).waitFor();
    pendingSeen = true;
    await check(page, "booking-pending");
  }
  const status = await eventually(
    "the booking to end",
    async () => {
      const s = await section.getAttribute("data-status");
      return s && s !== "PENDING" ? s : null;
    },
    60_000,
  );
  return { bookingId, status };
}

test("admin adds an event; a fan books two seats by keyboard, sees them confirmed, cancels; another browser follows live", async () => {
  // --- Admin area: a venue and an event of this run's own -----------------------------------
  const admin = await person(browser, WIDE);
  people.push(admin);
  await admin.page.goto("/signin");
  await admin.page.getByRole("heading", { name: "Sign in" }).waitFor();
  await check(admin.page, "signin");
  await admin.page.getByLabel("Email", { exact: true }).fill("admin@ticketflow.dev");
  await admin.page.getByLabel("Password", { exact: true }).fill("Admin1234!");
  await admin.page.getByRole("button", { name: "Sign in" }).click();
  await admin.page.getByRole("link", { name: "Admin" }).click();
  await admin.page.getByRole("heading", { name: "Add a venue" }).waitFor();

  const venueForm = admin.page.locator("form", { has: admin.page.getByRole("heading", { name: "Add a venue" }) });
  await venueForm.getByLabel("Name", { exact: true }).fill(`E2E Hall ${run}`);
  await venueForm.getByLabel("Address", { exact: true }).fill("1 Test Street");
  await venueForm.getByLabel("City", { exact: true }).fill("Pune");
  await venueForm.getByLabel("Capacity", { exact: true }).fill("300");
  await venueForm.getByRole("button", { name: "Add venue" }).click();
  await venueForm.getByText(`Venue “E2E Hall ${run}” added.`).waitFor();

  const eventForm = admin.page.locator("form", { has: admin.page.getByRole("heading", { name: "Add an event" }) });
  // A form sent empty names its fields.
  await eventForm.getByRole("button", { name: "Create event" }).click();
  await eventForm.getByText("Choose a venue.").waitFor();
  await eventForm.getByLabel("Name", { exact: true }).fill(eventName);
  await eventForm.getByLabel("Description", { exact: true }).fill("An evening the browser tests booked.");
  await eventForm.getByLabel("Venue", { exact: true }).selectOption({ label: `E2E Hall ${run}, Pune` });
  const date = new Date(Date.now() + 400 * 86_400_000).toISOString().slice(0, 16);
  await eventForm.getByLabel(/Date and time/).fill(date);
  await eventForm.getByLabel("Price per seat", { exact: true }).fill("1499");
  await eventForm.getByLabel("Tags", { exact: true }).fill(`e2e, ${run}`);
  await eventForm.getByRole("button", { name: "Create event" }).click();
  const open = eventForm.getByRole("link", { name: "Open its page" });
  await open.waitFor();
  await check(admin.page, "admin");
  const eventId = (await open.getAttribute("href")).split("/").pop();
  assert.equal((await api(`/api/events/${eventId}`)).image_url, `/api/events/${eventId}/poster`);
  await eventually(
    "inventory to lay out the new event's seats",
    async () => (await api(`/api/inventory/events/${eventId}/seats`)).total === 116,
    60_000,
  );

  // --- The catalogue: search, poster ---------------------------------------------------------
  const fan = await person(browser, WIDE);
  people.push(fan);
  await fan.page.goto("/");
  await fan.page.getByRole("heading", { name: "Upcoming events" }).waitFor();
  await fan.page.locator(".event-card img").first().waitFor();
  await check(fan.page, "events");
  await fan.page.getByLabel("Search events", { exact: true }).fill(run);
  await fan.page.getByRole("heading", { name: `Events matching “${run}”` }).waitFor();
  await fan.page.getByRole("link", { name: eventName }).waitFor();
  assert.equal(await fan.page.locator(".event-card").count(), 1, "search finds exactly this run's event");
  const poster = fan.page.locator(".event-card img").first();
  await eventually("the poster to load", () => poster.evaluate((img) => img.complete && img.naturalWidth > 0), 10_000);

  // --- Sign up -------------------------------------------------------------------------------
  await fan.page.goto("/signup");
  await fan.page.getByRole("button", { name: "Create account" }).click();
  await fan.page.getByText("Enter your name (at least 2 characters).").waitFor();
  assert.equal(await fan.page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "true");
  await check(fan.page, "signup");
  await fan.page.getByLabel("Name", { exact: true }).fill("Keyboard Fan");
  await fan.page.getByLabel("Email", { exact: true }).fill(`fan-${run}@example.com`);
  await fan.page.getByLabel("Password", { exact: true }).fill("correct horse battery");
  await fan.page.getByRole("button", { name: "Create account" }).click();
  await fan.page.getByRole("button", { name: "Sign out" }).waitFor();

  // --- A second browser on the same event, phone-sized, with B2 selected ----------------------
  const other = await person(browser, PHONE);
  people.push(other);
  await other.page.goto(`/events/${eventId}`);
  await other.page.getByText("Live availability").waitFor();
  await cell(other.page, "B", 2).click();
  assert.equal(await cell(other.page, "B", 2).getAttribute("aria-selected"), "true");
  await check(other.page, "event");

  // --- Keyboard-only booking -----------------------------------------------------------------
  let booked = await bookTwoSeatsWithKeyboard(fan.page, eventId);
  for (let retry = 0; booked.status === "FAILED" && retry < 2; retry++) {
    // Only a declined mock payment may fail here (PAYMENT_SUCCESS_RATE < 1 on a shared fleet).
    const reason = (await api(`/api/bookings/${booked.bookingId}`, { token: await fanToken(fan) })).failureReason;
    assert.equal(reason, "PAYMENT_FAILED", "only a declined payment may fail this booking");
    booked = await bookTwoSeatsWithKeyboard(fan.page, eventId);
  }
  assert.equal(booked.status, "CONFIRMED");
  if (process.env.E2E_SLOW_PAYMENTS === "1") assert.ok(pendingSeen, "the booking page showed the pending state");
  await fan.page.getByRole("heading", { name: "You're going! Booking confirmed" }).waitFor();
  await check(fan.page, "booking-confirmed");

  // The other browser saw both seats go, without a reload, and lost its B2 with a message.
  await eventually("B1 and B2 to turn unavailable in the second browser", async () => {
    const statuses = await Promise.all([cell(other.page, "B", 1), cell(other.page, "B", 2)].map((c) => c.getAttribute("data-status")));
    return statuses.every((s) => s !== "AVAILABLE");
  }, 10_000);
  await other.page.getByText("Seat B2 was just taken by someone else and has been removed from your selection.").waitFor();
  assert.equal(await cell(other.page, "B", 2).getAttribute("aria-selected"), "false");
  assert.equal(await cell(other.page, "B", 2).getAttribute("aria-disabled"), "true");

  // --- My Bookings: listed, then cancelled with confirmation --------------------------------
  await fan.page.getByRole("link", { name: "My bookings" }).first().click();
  const item = fan.page.locator(`li[data-booking-id="${booked.bookingId}"]`);
  await item.waitFor();
  assert.equal(await item.getAttribute("data-status"), "CONFIRMED");
  const text = await item.textContent();
  assert.match(text, new RegExp(eventName));
  assert.match(text, /B1, B2/);
  assert.match(text, /₹2,998/);
  await check(fan.page, "my-bookings");
  await item.getByRole("button", { name: "Cancel booking" }).click();
  await item.getByRole("group", { name: /Confirm cancelling/ }).waitFor();
  assert.equal(
    await fan.page.evaluate(() => document.activeElement?.textContent),
    "Yes, cancel booking",
    "focus moves to the confirmation",
  );
  await check(fan.page, "my-bookings-confirm");
  await item.getByRole("button", { name: "Yes, cancel booking" }).click();
  await eventually("the booking to show cancelled", async () => (await item.getAttribute("data-status")) === "CANCELLED", 10_000);
  await fan.page.getByText(`Booking for ${eventName} cancelled.`).waitFor();

  // The seats are free again: in the API and, live, in the other browser.
  active.length = 0;
  await eventually("B1 and B2 to be available again", async () => {
    const { seats } = await api(`/api/inventory/events/${eventId}/seats`);
    const mine = seats.filter((s) => s.row === "B" && (s.seatNumber === "1" || s.seatNumber === "2"));
    return mine.length === 2 && mine.every((s) => s.status === "AVAILABLE");
  }, 15_000);
  await eventually("the second browser to show B1 and B2 free", async () => {
    const statuses = await Promise.all([cell(other.page, "B", 1), cell(other.page, "B", 2)].map((c) => c.getAttribute("data-status")));
    return statuses.every((s) => s === "AVAILABLE");
  }, 10_000);

  // --- 404 ---------------------------------------------------------------------------------
  await fan.page.goto("/no/such/page");
  await fan.page.getByRole("heading", { name: "We could not find that page" }).waitFor();
  await check(fan.page, "not-found");

  assert.deepEqual(violations, [], `accessibility or layout problems:\n${violations.join("\n")}`);
  for (const p of people) assert.deepEqual(p.problems, [], "no page errors, CSP violations or missing assets");
});

/** The fan's token, as the app stored it. */
async function fanToken(fan) {
  return fan.page.evaluate(() => localStorage.getItem("ticketflow.token"));
}
