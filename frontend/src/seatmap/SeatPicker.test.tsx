// The seat picker as a person uses it: keyboard only, the live stream (a fake EventSource
// the test drives), the 10-seat limit, the running total and taken-seat messages.
import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Seat } from "../api/types";
import { layout } from "./fixtures";
import { SeatPicker } from "./SeatPicker";

class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static last: FakeEventSource | null = null;
  readyState = FakeEventSource.CONNECTING;
  listeners = new Map<string, ((e: MessageEvent) => void)[]>();
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.closed = true;
    this.readyState = FakeEventSource.CLOSED;
  }
  emit(type: string, data?: unknown) {
    if (type === "open") this.readyState = FakeEventSource.OPEN;
    const event = new MessageEvent(type, { data: data === undefined ? undefined : JSON.stringify(data) });
    act(() => this.listeners.get(type)?.forEach((fn) => fn(event)));
  }
}

beforeEach(() => {
  vi.stubGlobal("EventSource", FakeEventSource);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

function snapshot(seats: Seat[]) {
  return { eventId: "e", seats, total: seats.length, summary: { available: 0, locked: 0, reserved: 0 } };
}

function setup(seats = layout()) {
  const onBook = vi.fn();
  render(<SeatPicker eventId="e" price={1499} currency="INR" onBook={onBook} />);
  const stream = FakeEventSource.last!;
  expect(stream.url).toBe("/api/inventory/events/e/seats/stream");
  stream.emit("open");
  stream.emit("snapshot", snapshot(seats));
  return { onBook, stream, user: userEvent.setup() };
}

const cell = (name: RegExp | string) => screen.getByRole("gridcell", { name });

describe("SeatPicker", () => {
  it("is one grid with a single tab stop, labelled seats and a legend", async () => {
    const { user } = setup();
    const grid = screen.getByRole("grid");
    expect(within(grid).getAllByRole("rowgroup").map((g) => g.getAttribute("aria-label"))).toEqual([
      "VIP",
      "Floor",
      "Balcony",
    ]);
    expect(cell("Row C seat 7, Floor, available, ₹1,499")).toBeTruthy();
    expect(within(grid).getAllByRole("gridcell").filter((c) => c.tabIndex === 0)).toHaveLength(1);
    expect(screen.getByRole("list", { name: "Legend" }).textContent).toContain("Available · ₹1,499");
    await user.tab();
    expect(document.activeElement).toBe(cell(/^Row A seat 1,/));
  });

  it("picks two seats with the keyboard only and keeps a running total", async () => {
    const { user, onBook } = setup();
    await user.tab(); // A1
    await user.keyboard("{ArrowRight}{Enter}"); // A2
    expect(document.activeElement).toBe(cell(/^Row A seat 2,/));
    await user.keyboard("{ArrowDown}{ }"); // B2
    expect(cell(/^Row A seat 2,/).getAttribute("aria-selected")).toBe("true");
    expect(cell(/^Row B seat 2,/).getAttribute("aria-selected")).toBe("true");
    expect(screen.getByTestId("total").textContent).toBe("₹2,998");
    expect(screen.getByText(/Seat B2 selected\. 2 seats selected, total ₹2,998\./)).toBeTruthy();
    // Enter again on B2 removes it.
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("total").textContent).toBe("₹1,499");
    await user.keyboard("{Enter}");
    await user.click(screen.getByRole("button", { name: "Book 2 seats" }));
    expect(onBook).toHaveBeenCalledTimes(1);
    expect(onBook.mock.calls[0][0].map((s: Seat) => s.id)).toEqual(["A2", "B2"]);
  });

  it("refuses an 11th seat and says why", async () => {
    const { user } = setup();
    await user.tab();
    for (let i = 0; i < 10; i++) await user.keyboard("{Enter}{ArrowRight}");
    // A1..A10 selected; the next seat is in row B.
    await user.keyboard("{ArrowDown}{Enter}");
    expect(screen.getByTestId("total").textContent).toBe("₹14,990");
    expect(screen.getByText("You can book at most 10 seats at a time.")).toBeTruthy();
  });

  it("marks seats others take as unavailable at once and unselects yours with a message", async () => {
    const { user, stream } = setup();
    await user.click(cell(/^Row C seat 7,/));
    await user.click(cell(/^Row C seat 8,/));
    stream.emit("seat", { seatId: "C9", status: "LOCKED", version: 2 });
    expect(cell("Row C seat 9, Floor, on hold, ₹1,499").getAttribute("aria-disabled")).toBe("true");
    stream.emit("seat", { seatId: "C7", status: "LOCKED", version: 3 });
    expect(cell(/^Row C seat 7,/).getAttribute("aria-selected")).toBe("false");
    expect(screen.getByRole("alert").textContent).toBe(
      "Seat C7 was just taken by someone else and has been removed from your selection.",
    );
    expect(screen.getByTestId("total").textContent).toBe("₹1,499");
    // A taken seat cannot be picked.
    await user.click(cell(/^Row C seat 9,/));
    expect(screen.getByTestId("total").textContent).toBe("₹1,499");
  });

  it("reopens a refused stream and reads the map meanwhile", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const fetchMock = vi.fn(async () => new Response(JSON.stringify(snapshot(layout())), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    render(<SeatPicker eventId="e" price={10} currency="INR" onBook={() => {}} />);
    const first = FakeEventSource.last!;
    first.readyState = FakeEventSource.CLOSED;
    first.emit("error");
    expect(screen.getByText("Reconnecting…")).toBeTruthy();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1100);
    });
    expect(fetchMock).toHaveBeenCalledWith("/api/inventory/events/e/seats", expect.anything());
    expect(FakeEventSource.last).not.toBe(first);
    expect(screen.getAllByRole("gridcell").length).toBe(116);
    vi.useRealTimers();
  });
});
