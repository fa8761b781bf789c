import { useState, type FormEvent } from "react";
import { safeNextPath } from "../../../src/domain/next-path.ts";
import { api, query, type Session, type SignInProvider } from "../api.ts";
import { Icon, Logo } from "../components/icons.tsx";
import { ErrorNotice, Loading } from "../components/ui.tsx";
import { useLoad, useTitle } from "../hooks.ts";
import { Link, setSearch, useLocation } from "../router.tsx";

/** The same sentence the API answers a service account with (docs/sign-in.md). */
const SERVICE_ACCOUNT_SIGN_IN = "Service accounts cannot sign in; use an API key.";

/**
 * Only a path of this console, by the server's own rule (the server checks `next` again): never
 * another site, however `next` is dressed up (`/.//host`, `/%5Chost`, tabs, schemes).
 */
function safeNext(next: string | null): string {
  const path = safeNextPath(next);
  return path === "/" ? "/account/users" : path;
}

/** Sign-in: each identity provider of the account, and what to do with a one-time link. */
export function SignInPage({ session }: { session: Session | null | undefined }) {
  useTitle("Sign in");
  const { search } = useLocation();
  const next = safeNext(search.get("next"));
  const account = search.get("account") ?? "";
  const [accountInput, setAccountInput] = useState(account);
  const [editing, setEditing] = useState(false);
  const providers = useLoad(() => api<{ accountId: string; identityProviders?: SignInProvider[] }>("GET", `/auth/providers${query({ account })}`), account);
  const accountId = providers.data?.accountId ?? account;
  const list = providers.data?.identityProviders ?? [];

  const chooseAccount = (event: FormEvent) => {
    event.preventDefault();
    setEditing(false);
    // The page the person was sent from stays the destination, whichever account they pick.
    setSearch({ account: accountInput.trim(), next: search.get("next") ?? undefined });
  };

  return (
    <div className="signin-page">
      <main className="signin-card card" id="main">
        <div className="signin-brand">
          <Logo />
          <span className="brand-name">Hearth</span>
        </div>
        <h1>Sign in to the console</h1>
        {search.get("signedOut") === "1" && (
          <p className="notice notice-info" role="status">
            You are signed out.
          </p>
        )}
        {!session && search.has("next") && next !== safeNext(null) && (
          <div className="notice notice-info" role="status">
            <p>
              Sign in to continue to <span className="mono">{next}</span>.
            </p>
          </div>
        )}
        {session && (
          <div className="notice notice-info">
            <p>
              You are signed in as <strong>{session.email}</strong>.
            </p>
            <Link to={next} className="button button-small">
              Continue
            </Link>
          </div>
        )}

        <section aria-labelledby="providers-title" className="signin-section">
          <div className="signin-account">
            <h2 id="providers-title">
              Account <span className="mono">{accountId || "…"}</span>
            </h2>
            {!editing && (
              <button
                type="button"
                className="button button-small button-quiet"
                onClick={() => {
                  setAccountInput(accountId);
                  setEditing(true);
                }}
              >
                Another account
              </button>
            )}
          </div>
          {editing && (
            <form className="account-form" onSubmit={chooseAccount}>
              <label htmlFor="account-id">Account ID</label>
              <div className="secret-row">
                <input
                  id="account-id"
                  value={accountInput}
                  onChange={(e) => setAccountInput(e.target.value)}
                  autoComplete="organization"
                  spellCheck={false}
                  autoFocus
                />
                <button type="submit" className="button">
                  Show
                </button>
              </div>
            </form>
          )}
          <ErrorNotice error={providers.error} onRetry={providers.reload} />
          {providers.loading && !providers.data && <Loading what="sign-in options" />}
          {providers.data && list.length === 0 && <p className="muted">This account has no identity provider. Sign in with a one-time link, below.</p>}
          {list.length > 0 && (
            <ul className="provider-list">
              {list.map((p) => (
                // A full navigation, not a fetch: the provider's pages take over the browser.
                <li key={p.id}>
                  <a className="button button-provider" href={`${p.startUrl}${query({ next })}`}>
                    <Icon name="shield" />
                    Continue with {p.displayName}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section aria-labelledby="link-title" className="signin-section">
          <h2 id="link-title">One-time sign-in link</h2>
          <p>
            Open the link in this browser: it signs you in once, within 15 minutes. An operator makes one with{" "}
            <code>hearth signin-link you@example.com --account {accountId || "ID"}</code>.
          </p>
        </section>

        <div className="notice notice-warning" role="note">
          <Icon name="bot" />
          <p>
            <strong>{SERVICE_ACCOUNT_SIGN_IN}</strong> A service account acts only through its API keys (<code>Authorization: Bearer &lt;key&gt;</code>); an
            admin creates them on its page in this console.
          </p>
        </div>
      </main>
    </div>
  );
}
