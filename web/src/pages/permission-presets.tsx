import { useState } from "react";
import { api, lastSegment, listAll, query, type PermissionPreset } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { ActionPicker } from "../components/action-picker.tsx";
import { DeleteButton } from "../components/delete-button.tsx";
import { Icon } from "../components/icons.tsx";
import { ListStatus } from "../components/list-status.tsx";
import { ResourceCard } from "../components/resource-card.tsx";
import { DisplayNameField, IdField } from "../components/text-field.tsx";
import { Empty, PageHeader } from "../components/ui.tsx";
import { useLoad, useTitle } from "../hooks.ts";
import { useSession, useToast } from "../session.tsx";

const presetsPath = (accountId: string) => `/v1/accounts/${accountId}/permissionPresets`;

/** Create (no `existing`) or edit a preset: its display name and its actions. */
function PresetDialog({ existing, onClose, onSaved }: { existing?: PermissionPreset; onClose: () => void; onSaved: () => void }) {
  const session = useSession();
  const toast = useToast();
  const [id, setId] = useState(existing ? lastSegment(existing.name) : "");
  const [displayName, setDisplayName] = useState(existing?.displayName ?? "");
  const [actions, setActions] = useState<string[]>(existing ? [...existing.actions] : []);
  const submit = async () => {
    const body = { displayName: displayName.trim(), actions };
    if (existing) await api("PATCH", `${presetsPath(session.accountId)}/${id}`, body);
    else await api("POST", `${presetsPath(session.accountId)}${query({ permissionPresetId: id.trim() })}`, body);
    toast(existing ? `Permission preset ${id} saved; its holders' next requests use it.` : `Permission preset ${id.trim()} created.`);
    onSaved();
  };
  return (
    <ActionDialog
      title={existing ? `Edit ${existing.displayName || id}` : "Create a permission preset"}
      submitLabel={existing ? "Save" : "Create preset"}
      wide
      onClose={onClose}
      onSubmit={submit}
    >
      {!existing && (
        <IdField id="preset-id" label="ID" value={id} onChange={setId} required>
          Up to 63 lowercase letters, digits and “-”, starting with a letter and ending with a letter or digit, e.g. <code>team-lead</code>.
        </IdField>
      )}
      <DisplayNameField id="preset-name" value={displayName} onChange={setDisplayName} />
      <ActionPicker value={actions} onChange={setActions} holds={session.can} />
    </ActionDialog>
  );
}

function DeletePresetDialog({ preset, onClose, onDeleted }: { preset: PermissionPreset; onClose: () => void; onDeleted: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const id = lastSegment(preset.name);
  const submit = async () => {
    await api("DELETE", `${presetsPath(accountId)}/${id}`);
    toast(`Permission preset ${id} deleted.`);
    onDeleted();
  };
  return (
    <ActionDialog title={`Delete the permission preset ${id}?`} submitLabel={`Delete ${id}`} danger onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">A preset someone holds cannot be deleted: give them another role or preset first.</p>
    </ActionDialog>
  );
}

/**
 * The account's permission presets: the actions of role `custom`. Everyone reads them; who may
 * create, edit and delete them may give only actions it holds itself (docs/roles.md).
 */
export function PermissionPresetsPage() {
  useTitle("Permission presets");
  const session = useSession();
  const list = useLoad(() => listAll<PermissionPreset>(presetsPath(session.accountId), "permissionPresets"), "presets");
  const [dialog, setDialog] = useState<{ kind: "add" } | { kind: "edit" | "delete"; preset: PermissionPreset }>();
  const presets = list.data ?? [];
  const done = () => {
    setDialog(undefined);
    list.reload();
  };
  return (
    <>
      <PageHeader
        title="Permission presets"
        description="Named sets of actions. A user or service account with role custom holds exactly the actions of its preset."
        actions={
          session.can("permissionPresets.create") && (
            <button type="button" className="button button-primary" onClick={() => setDialog({ kind: "add" })}>
              <Icon name="plus" /> Create preset
            </button>
          )
        }
      />
      <ListStatus list={list} count={presets.length} what="permission presets">
        <Empty icon="shield" title="No permission preset yet">
          <p>The four built-in roles cover most needs; a preset gives exactly the actions you choose, for example a role plus a few more.</p>
        </Empty>
      </ListStatus>
      <div className="idp-list">
        {presets.map((preset) => {
          const id = lastSegment(preset.name);
          const title = preset.displayName || id;
          return (
            <ResourceCard
              key={preset.name}
              headingId={`preset-${id}`}
              title={title}
              id={id}
              actions={
                <div className="row-actions">
                  {session.can("permissionPresets.update") && (
                    <button type="button" className="button button-small" onClick={() => setDialog({ kind: "edit", preset })} aria-label={`Edit ${title}`}>
                      Edit
                    </button>
                  )}
                  {session.can("permissionPresets.delete") && <DeleteButton label={`Delete ${title}`} onClick={() => setDialog({ kind: "delete", preset })} />}
                </div>
              }
            >
              <p className="hint">
                {preset.actions.length} {preset.actions.length === 1 ? "action" : "actions"}
              </p>
              <ul className="preset-actions" aria-label={`Actions of ${title}`}>
                {preset.actions.map((action) => (
                  <li key={action} className="badge mono">
                    {action}
                  </li>
                ))}
              </ul>
            </ResourceCard>
          );
        })}
      </div>
      {dialog?.kind === "add" && <PresetDialog onClose={() => setDialog(undefined)} onSaved={done} />}
      {dialog?.kind === "edit" && <PresetDialog existing={dialog.preset} onClose={() => setDialog(undefined)} onSaved={done} />}
      {dialog?.kind === "delete" && <DeletePresetDialog preset={dialog.preset} onClose={() => setDialog(undefined)} onDeleted={done} />}
    </>
  );
}
