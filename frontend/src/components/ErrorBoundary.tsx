// One bad field must not blank the page: a render error shows this instead of the page that
// failed, with a way back; the header and navigation stay.
import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  children: ReactNode;
}

interface State {
  error: Error | null;
}

export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error("TicketFlow page error", error, info.componentStack);
  }

  render() {
    if (this.state.error) {
      return (
        <section className="panel error-page" role="alert">
          <h1>Something went wrong on this page</h1>
          <p>
            We could not show this page. Your bookings are safe: nothing was changed by this
            error.
          </p>
          <div className="actions">
            <button type="button" className="button" onClick={() => window.location.reload()}>
              Reload the page
            </button>
            <a className="button button-quiet" href="/">
              Go to events
            </a>
          </div>
        </section>
      );
    }
    return this.props.children;
  }
}
