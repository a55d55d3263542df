// A small admin area: add venues and events (ADMIN accounts only; the API checks again).
import { useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, ApiError, describeError } from "../api/client";
import type { Event, Venue } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { Field, fieldErrors, Notice, SelectField, Spinner, TextAreaField } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { SignInFirst } from "./SignInFirst";

export default function AdminPage() {
  const { user, loading } = useAuth();
  const [venues, setVenues] = useState<Venue[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    document.title = "Admin · TicketFlow";
  }, []);

  useEffect(() => {
    if (user?.role !== "ADMIN") return;
    const controller = new AbortController();
    api
      .venues(controller.signal)
      .then((r) => setVenues(r.venues))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(describeError(e));
      });
    return () => controller.abort();
  }, [user]);

  if (loading) return <Spinner label="Loading…" />;
  if (!user) return <SignInFirst what="manage venues and events" />;
  if (user.role !== "ADMIN") {
    return (
      <section className="panel narrow">
        <h1>Admins only</h1>
        <p>This area is for TicketFlow staff. Your account can browse and book events.</p>
        <Link className="button" to="/">
          Browse events
        </Link>
      </section>
    );
  }

  return (
    <section aria-labelledby="admin-heading">
      <h1 id="admin-heading">Admin</h1>
      {error && <Notice kind="error">{error}</Notice>}
      <div className="admin-grid">
        <VenueForm onCreated={(v) => setVenues((list) => [...(list ?? []), v].sort((a, b) => a.name.localeCompare(b.name)))} />
        <EventForm venues={venues ?? []} />
      </div>
      {venues && (
        <section className="panel" aria-labelledby="venues-heading">
          <h2 id="venues-heading">Venues ({venues.length})</h2>
          <ul className="plain-list">
            {venues.map((v) => (
              <li key={v.id}>
                <strong>{v.name}</strong> · {v.city}, {v.country} · {v.capacity.toLocaleString()} seats
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}

function useForm<T extends Record<string, string>>(initial: T) {
  const [values, setValues] = useState(initial);
  const bind = (name: keyof T & string) => ({
    name,
    value: values[name],
    onChange: (e: { target: { value: string } }) => setValues((v) => ({ ...v, [name]: e.target.value })),
  });
  return { values, setValues, bind };
}

function VenueForm({ onCreated }: { onCreated: (v: Venue) => void }) {
  const empty = { name: "", address: "", city: "", country: "India", capacity: "500" };
  const { values, setValues, bind } = useForm(empty);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage(null);
    try {
      const venue = await api.createVenue({ ...values, capacity: Number(values.capacity) });
      onCreated(venue);
      setValues(empty);
      setMessage({ kind: "success", text: `Venue “${venue.name}” added.` });
    } catch (e) {
      if (e instanceof ApiError && e.details.length) {
        setErrors(fieldErrors(e.details));
        setMessage({ kind: "error", text: "Please correct the highlighted fields." });
      } else setMessage({ kind: "error", text: describeError(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel" onSubmit={submit} noValidate aria-labelledby="venue-form-heading">
      <h2 id="venue-form-heading">Add a venue</h2>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <Field label="Name" {...bind("name")} error={errors.name} required />
      <Field label="Address" {...bind("address")} error={errors.address} required />
      <div className="two">
        <Field label="City" {...bind("city")} error={errors.city} required />
        <Field label="Country" {...bind("country")} error={errors.country} required />
      </div>
      <Field label="Capacity" type="number" min={1} inputMode="numeric" {...bind("capacity")} error={errors.capacity} required />
      <button type="submit" className="button" disabled={busy}>
        {busy ? "Adding…" : "Add venue"}
      </button>
    </form>
  );
}

/** `datetime-local` value (viewer's local time) → RFC 3339 with the viewer's offset. */
export function localToIso(value: string): string {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

function EventForm({ venues }: { venues: Venue[] }) {
  const empty = {
    name: "",
    description: "",
    venue_id: "",
    date: "",
    price: "",
    currency: "INR",
    total_seats: "116",
    tags: "",
    image_url: "",
  };
  const { values, setValues, bind } = useForm(empty);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);
  const [created, setCreated] = useState<Event | null>(null);
  const [busy, setBusy] = useState(false);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (!values.venue_id) local.venue_id = "Choose a venue.";
    if (!values.date) local.date = "Choose the date and time.";
    if (values.price === "" || Number.isNaN(Number(values.price))) local.price = "Enter a price (0 for free).";
    setErrors(local);
    setMessage(null);
    setCreated(null);
    if (Object.keys(local).length) {
      setMessage({ kind: "error", text: "Please correct the highlighted fields." });
      return;
    }
    setBusy(true);
    try {
      const imageUrl = values.image_url.trim();
      let result = await api.createEvent({
        name: values.name,
        description: values.description,
        venue_id: values.venue_id,
        date: localToIso(values.date),
        price: Number(values.price),
        currency: values.currency.trim().toUpperCase(),
        total_seats: Number(values.total_seats),
        tags: values.tags
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean),
        image_url: imageUrl || null,
      });
      if (!imageUrl) {
        // No artwork given: point image_url at the placard event-service draws for any event,
        // so every event in the catalogue has a poster that loads.
        result = await api
          .updateEvent(result.id, { image_url: `/api/events/${result.id}/poster` })
          .catch(() => result);
      }
      setCreated(result);
      setValues(empty);
      setMessage({ kind: "success", text: `Event “${result.name}” created for ${formatDateTime(result.date)}.` });
    } catch (e) {
      if (e instanceof ApiError && e.details.length) {
        setErrors(fieldErrors(e.details));
        setMessage({ kind: "error", text: "Please correct the highlighted fields." });
      } else if (e instanceof ApiError && e.code === "VENUE_NOT_FOUND") {
        setErrors({ venue_id: "That venue no longer exists." });
      } else setMessage({ kind: "error", text: describeError(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel" onSubmit={submit} noValidate aria-labelledby="event-form-heading">
      <h2 id="event-form-heading">Add an event</h2>
      {message && (
        <Notice kind={message.kind}>
          {message.text} {created && <Link to={`/events/${created.id}`}>Open its page</Link>}
        </Notice>
      )}
      <Field label="Name" {...bind("name")} error={errors.name} required />
      <TextAreaField label="Description" rows={3} {...bind("description")} error={errors.description} />
      <SelectField label="Venue" {...bind("venue_id")} error={errors.venue_id} required>
        <option value="">Choose a venue…</option>
        {venues.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}, {v.city}
          </option>
        ))}
      </SelectField>
      <Field label={`Date and time (${zone})`} type="datetime-local" {...bind("date")} error={errors.date} required />
      <div className="two">
        <Field label="Price per seat" type="number" min={0} step="0.01" inputMode="decimal" {...bind("price")} error={errors.price} required />
        <Field label="Currency" maxLength={3} {...bind("currency")} error={errors.currency} required />
      </div>
      <Field
        label="Seats"
        type="number"
        min={1}
        max={10000}
        hint="VIP A–B, Floor C–F, Balcony G–I (116 seats), then General rows of 20."
        {...bind("total_seats")}
        error={errors.total_seats}
        required
      />
      <Field label="Tags" hint="Comma separated, e.g. music, jazz" {...bind("tags")} error={errors.tags} />
      <Field
        label="Poster image URL"
        hint="Optional: an https:// address or a site path. Leave empty for a generated poster."
        {...bind("image_url")}
        error={errors.image_url}
      />
      <button type="submit" className="button" disabled={busy}>
        {busy ? "Creating…" : "Create event"}
      </button>
    </form>
  );
}
