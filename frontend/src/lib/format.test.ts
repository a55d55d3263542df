import { formatDateTime, formatMoney, hoursUntil, total } from "./format";

describe("formatMoney", () => {
  it("formats rupees with Indian grouping and the rupee sign", () => {
    expect(formatMoney(1499, "INR")).toBe("₹1,499");
    expect(formatMoney(150000, "INR")).toBe("₹1,50,000");
    expect(formatMoney(99.5, "INR")).toBe("₹99.50");
  });
  it("uses the event's currency", () => {
    expect(formatMoney(20, "USD", "en-US")).toBe("$20");
    expect(formatMoney(12.3, "EUR", "de-DE")).toMatch(/^12,30\s€$/);
  });
});

describe("total", () => {
  it("adds seat prices without floating point drift", () => {
    expect(total(0.1, 3)).toBe(0.3);
    expect(total(1499.99, 10)).toBe(14999.9);
  });
});

describe("formatDateTime", () => {
  it("shows the viewer's timezone", () => {
    const text = formatDateTime("2026-12-12T14:00:00.000Z", "en-GB", "Asia/Kolkata");
    expect(text).toContain("19:30");
    expect(text).toMatch(/GMT\+5:30|IST/);
  });
});

describe("hoursUntil", () => {
  it("counts hours to a date", () => {
    expect(hoursUntil("2026-01-02T00:00:00Z", Date.parse("2026-01-01T00:00:00Z"))).toBe(24);
  });
});
