import type { ReactNode } from "react";

/**
 * One resource of a list shown as cards (identity providers, webhooks): its name as the card's
 * heading (`headingId`) over its id, `actions` beside them, and `children` (its details) below.
 */
export function ResourceCard({
  headingId,
  title,
  id,
  actions,
  children,
}: {
  headingId: string;
  title: string;
  id: string;
  actions: ReactNode;
  children: ReactNode;
}) {
  return (
    <article className="card idp" aria-labelledby={headingId}>
      <div className="section-head">
        <div>
          <h2 id={headingId}>{title}</h2>
          <p className="mono muted">{id}</p>
        </div>
        {actions}
      </div>
      {children}
    </article>
  );
}
