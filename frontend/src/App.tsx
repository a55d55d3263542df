// The frame every page shares (skip link, header, main, footer) and the routes. The events
// list ships in the first bundle; every other page loads when first visited.
import { lazy, Suspense, useEffect, useRef } from "react";
import { Link, NavLink, Route, Routes, useLocation } from "react-router-dom";
import { useAuth } from "./auth/AuthContext";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Spinner } from "./components/ui";
import { EventsPage } from "./pages/EventsPage";

const EventPage = lazy(() => import("./pages/EventPage"));
const SignInPage = lazy(() => import("./pages/AuthPages").then((m) => ({ default: m.SignInPage })));
const SignUpPage = lazy(() => import("./pages/AuthPages").then((m) => ({ default: m.SignUpPage })));
const BookingPage = lazy(() => import("./pages/BookingPage"));
const MyBookingsPage = lazy(() => import("./pages/MyBookingsPage"));
const AdminPage = lazy(() => import("./pages/AdminPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));

export function App() {
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After a client-side navigation, move focus to the new page (as a page load would).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [location.pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" ref={main} tabIndex={-1}>
        <ErrorBoundary key={location.pathname}>
          <Suspense fallback={<Spinner label="Loading…" />}>
            <Routes>
              <Route path="/" element={<EventsPage />} />
              <Route path="/events/:id" element={<EventPage />} />
              <Route path="/signin" element={<SignInPage />} />
              <Route path="/signup" element={<SignUpPage />} />
              <Route path="/bookings" element={<MyBookingsPage />} />
              <Route path="/bookings/:id" element={<BookingPage />} />
              <Route path="/admin" element={<AdminPage />} />
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </Suspense>
        </ErrorBoundary>
      </main>
      <footer className="site-footer">
        <p>TicketFlow · seats held for you while you pay · prices include taxes</p>
      </footer>
    </>
  );
}

function Header() {
  const { user, signOut } = useAuth();
  return (
    <header className="site-header">
      <div className="header-inner">
        <Link to="/" className="brand" aria-label="TicketFlow home">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="currentColor" />
            <path d="M7 11h18v3a2 2 0 0 0 0 4v3H7v-3a2 2 0 0 0 0-4z" fill="#ffd08a" />
          </svg>
          <span>TicketFlow</span>
        </Link>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Events
              </NavLink>
            </li>
            {user && (
              <li>
                <NavLink to="/bookings" end>
                  My bookings
                </NavLink>
              </li>
            )}
            {user?.role === "ADMIN" && (
              <li>
                <NavLink to="/admin">Admin</NavLink>
              </li>
            )}
            {user ? (
              <li className="account">
                <span className="who" title={user.email}>
                  {user.name}
                </span>
                <button type="button" className="linklike" onClick={signOut}>
                  Sign out
                </button>
              </li>
            ) : (
              <>
                <li>
                  <NavLink to="/signin">Sign in</NavLink>
                </li>
                <li>
                  <NavLink to="/signup" className="nav-cta">
                    Sign up
                  </NavLink>
                </li>
              </>
            )}
          </ul>
        </nav>
      </div>
    </header>
  );
}
