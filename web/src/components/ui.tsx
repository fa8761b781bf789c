import { Fragment, useEffect, useRef, type ReactNode } from "react";
import type { ApiError } from "../api.ts";
import { formatDate, formatDateTime, formatDateTimeSeconds, formatRelative, formatTimeSeconds } from "../format.ts";
import type { Role } from "../permissions.ts";
import { Icon, type IconName } from "./icons.tsx";

/** The page's heading; it takes focus after a navigation so screen readers announce the new page. */
export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (document.activeElement === document.body || document.activeElement?.closest("nav")) heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <header className="page-header">
      <div className="page-header-text">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {description && <p className="page-description">{description}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

export function RoleBadge({ role }: { role: Role | string }) {
  return <span className={`badge role-${role}`}>{role}</span>;
}

export function KindBadge({ serviceAccount }: { serviceAccount: boolean }) {
  return serviceAccount ? (
    <span className="badge kind-service">
      <Icon name="bot" size={14} /> Service account
    </span>
  ) : (
    <span className="badge kind-human">
      <Icon name="person" size={14} /> Human
    </span>
  );
}

/** The API's own sentence, as it sent it. */
export function ErrorNotice({ error, onRetry }: { error: ApiError | undefined; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert">
      <Icon name="warning" />
      <p>{error.message}</p>
      {onRetry && (
        <button type="button" className="button button-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      Loading {what}…
    </div>
  );
}

export function Empty({ icon, title, children }: { icon: IconName; title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <span className="empty-icon">
        <Icon name={icon} size={28} />
      </span>
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

/**
 * A time with its exact value on hover and for assistive technology; `seconds` shows the seconds
 * too, `dateOnly` only the day, `relative` how long ago.
 */
export function Time({
  iso,
  relative = false,
  seconds = false,
  dateOnly = false,
  stacked = false,
  empty = "—",
}: {
  iso: string | undefined;
  relative?: boolean;
  seconds?: boolean;
  dateOnly?: boolean;
  /** Date and time of day as two unbreakable parts, so a narrow column puts the time under the date (with `seconds`). */
  stacked?: boolean;
  empty?: string;
}) {
  if (!iso) return <span className="muted">{empty}</span>;
  const exact = seconds ? formatDateTimeSeconds(iso) : formatDateTime(iso);
  if (stacked && seconds)
    return (
      <time dateTime={iso} title={exact}>
        <span className="nowrap">{formatDate(iso)}</span> <span className="nowrap">{formatTimeSeconds(iso)}</span>
      </time>
    );
  return (
    <time dateTime={iso} title={exact}>
      {relative ? formatRelative(iso) : dateOnly ? formatDate(iso) : exact}
    </time>
  );
}

/** A principal as a list shows it: its name (or, without one, its email or ID) over its email. */
export function PrincipalName({ displayName, email, id, serviceAccount }: { displayName: string; email: string; id: string; serviceAccount: boolean }) {
  const name = displayName || (serviceAccount ? id : email);
  return (
    <span className="principal">
      <span className="principal-name">{name}</span>
      {name !== email && (
        <span className="principal-email" title={email}>
          {email}
        </span>
      )}
    </span>
  );
}

/** A resource name that may break onto a new line only after a slash, never inside an id. */
export function ResourcePath({ name }: { name: string }) {
  return (
    <>
      {name.split("/").map((part, i) => (
        <Fragment key={i}>
          {i > 0 && (
            <>
              /<wbr />
            </>
          )}
          {part}
        </Fragment>
      ))}
    </>
  );
}
