import { Link, useLocation } from "react-router-dom";

export function SignInFirst({ what }: { what: string }) {
  const location = useLocation();
  const next = encodeURIComponent(location.pathname + location.search);
  return (
    <section className="panel narrow">
      <h1>Please sign in</h1>
      <p>You need to be signed in to {what}.</p>
      <div className="actions">
        <Link className="button" to={`/signin?next=${next}`}>
          Sign in
        </Link>
        <Link className="button button-quiet" to={`/signup?next=${next}`}>
          Create an account
        </Link>
      </div>
    </section>
  );
}
