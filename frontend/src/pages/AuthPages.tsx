// Sign in and sign up. Errors are tied to their fields (aria-describedby) and announced; the
// first invalid field gets the focus.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, ApiError, describeError } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Field, fieldErrors, Notice } from "../components/ui";

/** Only same-site paths: `next` must not send people elsewhere. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function useFocusFirstInvalid(errors: Record<string, string>) {
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (Object.keys(errors).length === 0) return;
    form.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus();
  }, [errors]);
  return form;
}

export function SignInPage() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useFocusFirstInvalid(errors);

  useEffect(() => {
    document.title = "Sign in · TicketFlow";
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (!email.trim()) local.email = "Enter your email address.";
    if (!password) local.password = "Enter your password.";
    setErrors(local);
    setMessage(null);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      signIn(await api.login({ email: email.trim(), password }));
      navigate(next, { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.code === "INVALID_CREDENTIALS") {
        setMessage("That email and password do not match an account.");
      } else if (e instanceof ApiError && e.details.length) {
        setErrors(fieldErrors(e.details));
      } else {
        setMessage(describeError(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="auth panel" aria-labelledby="signin-heading">
      <h1 id="signin-heading">Sign in</h1>
      <p className="muted">Welcome back. Sign in to book seats and see your bookings.</p>
      {message && <Notice kind="error">{message}</Notice>}
      <form ref={form} onSubmit={submit} noValidate>
        <Field label="Email" type="email" name="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} required />
        <Field label="Password" type="password" name="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={errors.password} required />
        <button type="submit" className="button button-block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <Link to={`/signup${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>Create an account</Link>
      </p>
    </section>
  );
}

export function SignUpPage() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useFocusFirstInvalid(errors);

  useEffect(() => {
    document.title = "Create an account · TicketFlow";
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (name.trim().length < 2) local.name = "Enter your name (at least 2 characters).";
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) local.email = "Enter a valid email address, like name@example.com.";
    const bytes = new TextEncoder().encode(password).length;
    if (bytes < 8) local.password = "Use at least 8 characters.";
    else if (bytes > 72) local.password = "Use at most 72 characters.";
    setErrors(local);
    setMessage(null);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      signIn(await api.register({ name: name.trim(), email: email.trim(), password }));
      navigate(next, { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.code === "EMAIL_ALREADY_EXISTS") {
        setErrors({ email: "An account with this email already exists. Sign in instead." });
      } else if (e instanceof ApiError && e.details.length) {
        setErrors(fieldErrors(e.details));
      } else {
        setMessage(describeError(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="auth panel" aria-labelledby="signup-heading">
      <h1 id="signup-heading">Create your account</h1>
      <p className="muted">It takes a few seconds. You can book right after.</p>
      {message && <Notice kind="error">{message}</Notice>}
      <form ref={form} onSubmit={submit} noValidate>
        <Field label="Name" name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} error={errors.name} required />
        <Field label="Email" type="email" name="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={errors.email} required />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          hint="At least 8 characters."
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
          required
        />
        <button type="submit" className="button button-block" disabled={busy}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to={`/signin${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>Sign in</Link>
      </p>
    </section>
  );
}
