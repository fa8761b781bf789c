import type { ReactNode } from "react";
import { api, filterString, lastSegment } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { DeleteButton } from "../components/delete-button.tsx";
import { ResourcePath } from "../components/ui.tsx";
import type { Action } from "../permissions.ts";
import type { SignedIn } from "../session.tsx";
import { useToast } from "../session.tsx";
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
  const toast = useToast();
  const id = lastSegment(name);
  return (
    <ActionDialog
      title={`Delete ${what} ${id}?`}
      submitLabel={`Delete ${what}`}
      danger
      onClose={onClose}
      onSubmit={async () => {
        await api("DELETE", `/v1/${name}`);
        toast(`Deleted ${what} ${id}`);
        onDeleted();
      }}
    >
      <p className="dialog-text">
        <span className="mono">{name}</span> will be deleted. {children}
      </p>
    </ActionDialog>
  );
}

/** A list's first cell: the resource's display name (its id without one) over its resource name. */
export function ResourceNameCell({ label, name, displayName }: { label: string; name: string; displayName: string }) {
  return (
    <td data-label={label}>
      <span className="principal">
        <span className="principal-name">{displayName || lastSegment(name)}</span>
        <span className="key-id resource-path">
          <ResourcePath name={name} />
        </span>
      </span>
    </td>
  );
}

/** A row's Edit and Delete buttons, named for the resource (`Edit model m1`). */
export function EditDeleteButtons({ what, id, onEdit, onDelete }: { what: string; id: string; onEdit: () => void; onDelete: () => void }) {
  return (
    <>
      <button type="button" className="button button-small button-quiet" onClick={onEdit} aria-label={`Edit ${what} ${id}`}>
        Edit
      </button>
      <DeleteButton label={`Delete ${what} ${id}`} onClick={onDelete} />
    </>
  );
}
