import { useEffect } from "react";
import { Link } from "react-router-dom";

export default function NotFoundPage({ what = "page" }: { what?: string }) {
  useEffect(() => {
    document.title = "Not found · TicketFlow";
  }, []);
  return (
    <section className="panel narrow not-found">
      <p className="big-code" aria-hidden="true">
        404
      </p>
      <h1>We could not find that {what}</h1>
      <p>The link may be old, or the {what} may have been removed.</p>
      <div className="actions">
        <Link className="button" to="/">
          Browse events
        </Link>
      </div>
    </section>
  );
}
