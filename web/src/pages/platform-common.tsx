import type { ReactNode } from "react";
import { api, filterString, lastSegment } from "../api.ts";
import { FormDialog } from "../components/dialog.tsx";
import { Icon } from "../components/icons.tsx";
import type { Action } from "../permissions.ts";
import type { SignedIn } from "../session.tsx";
import { useToast } from "../session.tsx";
import { useAction } from "./user-dialogs.tsx";
import "./platform.css";

/** The resources of the models, deployments and datasets pages, as their actions name them (src/domain/actions.ts). */
export type PlatformKind = "models" | "deployments" | "datasets";

/**
 * Whether the principal may update or delete a resource created by `createdBy` (an email): its
 * own with `<kind>.manageOwn`, another's with `<kind>.manageOthers`, as the server decides (it
 * compares the creator's principal; the console compares the email the resource shows).
 */
export function mayChange(session: SignedIn, kind: PlatformKind, createdBy: string): boolean {
  const own = createdBy.toLowerCase() === session.email.toLowerCase();
  return session.can(`${kind}.${own ? "manageOwn" : "manageOthers"}` as Action);
}

const STATE_CLASS: Readonly<Record<string, string>> = {
  READY: "badge badge-ok",
  FAILED: "badge badge-error",
  CREATING: "badge badge-pending",
  UPLOADING: "badge badge-pending",
  DELETING: "badge badge-pending",
  DELETED: "badge badge-muted",
};

/** A resource's state (READY, FAILED, CREATING, UPLOADING, DELETED…) as a coloured badge with its word. */
export function StateBadge({ state }: { state: string }) {
  return <span className={STATE_CLASS[state] ?? "badge"}>{state}</span>;
}

/** The AIP-160 clause matching `text` in the resource's id or display name (empty text: none). */
export function textFilter(idField: string, text: string): string[] {
  const q = text.trim();
  return q ? [`(${idField}:${filterString(q)} OR display_name:${filterString(q)})`] : [];
}

/** A search box of a list's toolbar. */
export function SearchField({ id, label, value, onChange }: { id: string; label: string; value: string; onChange: (value: string) => void }) {
  return (
    <div className="search-field">
      <Icon name="search" />
      <label htmlFor={id} className="visually-hidden">
        {label}
      </label>
      <input id={id} type="search" placeholder={label} value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

/** Asks before deleting `name` (a resource name), says what goes with it, and deletes it with `DELETE /v1/{name}`. */
export function DeleteDialog({
  name,
  what,
  children,
  onClose,
  onDeleted,
}: {
  name: string;
  what: string;
  children?: ReactNode;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const action = useAction();
  const toast = useToast();
  const id = lastSegment(name);
  return (
    <FormDialog
      title={`Delete ${what} ${id}?`}
      submitLabel={`Delete ${what}`}
      danger
      busy={action.busy}
      error={action.error}
      onClose={onClose}
      onSubmit={() =>
        action.run(async () => {
          await api("DELETE", `/v1/${name}`);
          toast(`Deleted ${what} ${id}`);
          onDeleted();
        })
      }
    >
      <p className="dialog-text">
        <span className="mono">{name}</span> will be deleted. {children}
      </p>
    </FormDialog>
  );
}
