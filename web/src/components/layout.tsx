import { useEffect, useState, type ReactNode } from "react";
import { api } from "../api.ts";
import { Link, navigate, useLocation } from "../router.tsx";
import { useSession } from "../session.tsx";
import { Icon, Logo, type IconName } from "./icons.tsx";
import { RoleBadge } from "./ui.tsx";

interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  /** Marks the item current for these paths too. */
  matches: (path: string) => boolean;
  /** Shown only to those who may list every principal's keys. */
  adminOnly?: boolean;
}

function navItems(userId: string): NavItem[] {
  const mine = `/account/users/${userId}`;
  return [
    { to: "/account/users", label: "Users", icon: "users", matches: (p) => p === "/account/users" || (p.startsWith("/account/users/") && p !== mine) },
    { to: mine, label: "My API keys", icon: "key", matches: (p) => p === mine },
    { to: "/account/unused-keys", label: "Unused keys", icon: "key", matches: (p) => p === "/account/unused-keys", adminOnly: true },
    { to: "/account/usage", label: "Usage", icon: "chart", matches: (p) => p.startsWith("/account/usage") },
    { to: "/account/models", label: "Models", icon: "cube", matches: (p) => p.startsWith("/account/models") },
    { to: "/account/deployments", label: "Deployments", icon: "server", matches: (p) => p.startsWith("/account/deployments") },
    { to: "/account/datasets", label: "Datasets", icon: "database", matches: (p) => p.startsWith("/account/datasets") },
    { to: "/account/audit-log", label: "Audit log", icon: "log", matches: (p) => p.startsWith("/account/audit-log") },
    { to: "/account/quotas", label: "Quotas", icon: "gauge", matches: (p) => p.startsWith("/account/quotas") },
    { to: "/account/permission-presets", label: "Permission presets", icon: "shield", matches: (p) => p.startsWith("/account/permission-presets") },
    { to: "/account/identity-providers", label: "Identity providers", icon: "shield", matches: (p) => p.startsWith("/account/identity-providers") },
    { to: "/account/webhooks", label: "Webhooks", icon: "server", matches: (p) => p.startsWith("/account/webhooks"), adminOnly: true },
    { to: "/account/settings", label: "Settings", icon: "sliders", matches: (p) => p.startsWith("/account/settings") },
  ];
}

/** The frame of every signed-in page: navigation, who is signed in, sign-out. */
export function Layout({ children }: { children: ReactNode }) {
  const session = useSession();
  const { path } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);

  const signOut = async () => {
    setSigningOut(true);
    try {
      await api("POST", "/auth/signout");
    } catch {
      // The cookie is cleared whatever the answer; the sign-in page is the right place either way.
    }
    window.location.assign("/signin?signedOut=1");
  };

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/account/users" className="brand">
          <Logo />
          <span className="brand-name">Hearth</span>
          <span className="brand-account">{session.accountId}</span>
        </Link>
        <button type="button" className="icon-button menu-button" aria-expanded={menuOpen} aria-controls="sidebar" onClick={() => setMenuOpen((open) => !open)}>
          <Icon name={menuOpen ? "close" : "menu"} />
          <span className="visually-hidden">Menu</span>
        </button>
      </header>
      <aside id="sidebar" className={menuOpen ? "sidebar open" : "sidebar"}>
        <Link to="/account/users" className="brand sidebar-brand">
          <Logo />
          <span className="brand-name">Hearth</span>
        </Link>
        <p className="sidebar-account">
          <span className="muted">Account</span> {session.accountId}
        </p>
        <nav aria-label="Console">
          <ul>
            {navItems(session.userId)
              .filter((item) => !item.adminOnly || session.can("apiKeys.listOthers"))
              .map((item) => (
                <li key={item.to}>
                  <Link to={item.to} className="nav-link" aria-current={item.matches(path) ? "page" : undefined}>
                    <Icon name={item.icon} />
                    {item.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
        <div className="me">
          <span className="avatar" aria-hidden="true">
            {session.email.slice(0, 1).toUpperCase()}
          </span>
          <div className="me-text">
            <span className="me-email" title={session.email}>
              {session.email}
            </span>
            <RoleBadge role={session.role} />
          </div>
          <button type="button" className="icon-button" onClick={signOut} disabled={signingOut} title="Sign out">
            <Icon name="signout" />
            <span className="visually-hidden">Sign out</span>
          </button>
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

/** Sends the browser to a console path after render (for redirects decided while rendering). */
export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}
