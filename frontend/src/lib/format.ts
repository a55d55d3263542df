// Prices in the event's currency, dates in the viewer's locale with their timezone named.

const moneyFormats = new Map<string, Intl.NumberFormat>();

/** `formatMoney(1499, "INR")` → "₹1,499" (en-IN grouping for rupees); whole amounts drop ".00". */
export function formatMoney(amount: number, currency: string, locale?: string): string {
  const code = /^[A-Z]{3}$/.test(currency) ? currency : "INR";
  const whole = Number.isInteger(amount);
  const key = `${locale ?? ""}|${code}|${whole}`;
  let format = moneyFormats.get(key);
  if (!format) {
    try {
      format = new Intl.NumberFormat(locale ?? (code === "INR" ? "en-IN" : undefined), {
        style: "currency",
        currency: code,
        minimumFractionDigits: whole ? 0 : 2,
        maximumFractionDigits: 2,
      });
    } catch {
      format = new Intl.NumberFormat(undefined, { style: "currency", currency: "INR" });
    }
    moneyFormats.set(key, format);
  }
  return format.format(amount);
}

/** Sum of `count` seats at `price`, exact to the paisa/cent (minor units, no float drift). */
export function total(price: number, count: number): number {
  return Math.round(price * 100 * count) / 100;
}

/** "Sat, 12 Dec 2026, 7:30 pm GMT+5:30" — the viewer's locale and timezone. */
export function formatDateTime(iso: string, locale?: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
    timeZone,
  }).format(date);
}

/** "12 Dec" style short date for cards. */
export function formatShortDate(iso: string, locale?: string, timeZone?: string): { day: string; month: string } {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return { day: "", month: "" };
  return {
    day: new Intl.DateTimeFormat(locale, { day: "numeric", timeZone }).format(date),
    month: new Intl.DateTimeFormat(locale, { month: "short", timeZone }).format(date),
  };
}

/** Hours from `now` until `iso` (negative once it has passed). */
export function hoursUntil(iso: string, now: number = Date.now()): number {
  return (new Date(iso).getTime() - now) / 3_600_000;
}
