import { lazy, StrictMode, Suspense, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { api, ApiError, onSessionEnded, setCsrfToken, type Session } from "./api.ts";
import { Layout, Redirect } from "./components/layout.tsx";
import { Empty, ErrorNotice, Loading, PageHeader } from "./components/ui.tsx";
import { AuditLogPage } from "./pages/audit-log.tsx";
import { IdentityProvidersPage } from "./pages/identity-providers.tsx";
import { PermissionPresetsPage } from "./pages/permission-presets.tsx";
import { SettingsPage } from "./pages/settings.tsx";
import { QuotasPage } from "./pages/quotas.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { UserPage } from "./pages/user.tsx";
import { UsersPage } from "./pages/users.tsx";
import { UnusedKeysPage } from "./pages/unused-keys.tsx";
import { WebhooksPage } from "./pages/webhooks.tsx";
import { ModelsPage } from "./pages/models.tsx";
import { DeploymentsPage } from "./pages/deployments.tsx";
import { DatasetsPage } from "./pages/datasets.tsx";
import { Link, navigate, useLocation } from "./router.tsx";
import { SessionProvider, signedIn, ToastProvider } from "./session.tsx";
import "./styles.css";

/** The usage dashboard carries the chart library: loaded when first opened, not with every page. */
const UsagePage = lazy(() => import("./pages/usage.tsx").then((m) => ({ default: m.UsagePage })));

const USER_PATH = /^\/account\/users\/([a-z][a-z0-9-]{0,62})$/;

function NotFound() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Empty icon="log" title="There is no console page here">
        <Link to="/account/users" className="button">
          Go to users
        </Link>
      </Empty>
    </>
  );
}

function Page({ path }: { path: string }) {
  if (path === "/" || path === "/account") return <Redirect to="/account/users" />;
  if (path === "/account/users") return <UsersPage />;
  const user = USER_PATH.exec(path);
  if (user) return <UserPage key={user[1]} userId={user[1]!} />;
  if (path === "/account/audit-log") return <AuditLogPage />;
  if (path === "/account/unused-keys") return <UnusedKeysPage />;
  if (path === "/account/quotas") return <QuotasPage />;
  if (path === "/account/identity-providers") return <IdentityProvidersPage />;
  if (path === "/account/permission-presets") return <PermissionPresetsPage />;
  if (path === "/account/settings") return <SettingsPage />;
  if (path === "/account/webhooks") return <WebhooksPage />;
  if (path === "/account/usage") {
    return (
      <Suspense fallback={<Loading what="usage" />}>
        <UsagePage />
      </Suspense>
    );
  }
  if (path === "/account/models") return <ModelsPage />;
  if (path === "/account/deployments") return <DeploymentsPage />;
  if (path === "/account/datasets") return <DatasetsPage />;
  return <NotFound />;
}

function App() {
  const { path, href } = useLocation();
  // undefined: still asking; null: nobody is signed in.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<ApiError>();
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    onSessionEnded(() => setSession(null));
    api<Session>("GET", "/auth/session").then(
      (s) => {
        setCsrfToken(s.csrfToken ?? "");
        setSession(s);
      },
      (e: unknown) => {
        if (e instanceof ApiError && e.httpStatus === 401) setSession(null);
        else setError(e instanceof ApiError ? e : new ApiError(0, "UNKNOWN", String(e)));
      },
    );
  }, [attempt]);

  const signingIn = path === "/signin";
  useEffect(() => {
    if (session === null && !signingIn) navigate(`/signin?next=${encodeURIComponent(href)}`, { replace: true });
  }, [session, signingIn, href]);

  if (signingIn) return <SignInPage session={session} />;
  if (error && session === undefined) {
    return (
      <main className="signin-page" id="main">
        <div className="signin-card card">
          <h1>Hearth is not answering</h1>
          <ErrorNotice
            error={error}
            onRetry={() => {
              setError(undefined);
              setAttempt((n) => n + 1);
            }}
          />
        </div>
      </main>
    );
  }
  if (!session) {
    return (
      <main className="signin-page" id="main">
        <Loading what="the console" />
      </main>
    );
  }
  return (
    <SessionProvider session={signedIn(session)}>
      <Layout>
        <Page path={path} />
      </Layout>
    </SessionProvider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ToastProvider>
      <App />
    </ToastProvider>
  </StrictMode>,
);
