import { useState } from "react";
import { api, listAll, lastSegment, query, type ApiKey, type PermissionPreset, type User } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { FormDialog } from "../components/dialog.tsx";
import { DisplayNameField, IdField, TextField } from "../components/text-field.tsx";
import { CUSTOM_ROLE, ROLE_SUMMARY, ROLES, type PrincipalRole } from "../permissions.ts";
import { useSession, useToast } from "../session.tsx";
import { useAction, useLoad } from "../hooks.ts";

const A = (accountId: string) => `/v1/accounts/${accountId}`;

/** A role and, for role `custom`, the id of the permission preset it holds (empty otherwise). */
interface RoleChoice {
  role: PrincipalRole;
  permissionPreset: string;
}

/** The request fields of a choice: the preset only with role `custom`. */
const roleBody = (choice: RoleChoice) => ({ role: choice.role, ...(choice.role === CUSTOM_ROLE ? { permissionPreset: choice.permissionPreset } : {}) });

/**
 * The four roles as radio buttons, each with what it allows; `custom` too once the account has a
 * permission preset, with a choice of preset and the actions it holds.
 */
function RoleField({ value, onChange, legend = "Role" }: { value: RoleChoice; onChange: (choice: RoleChoice) => void; legend?: string }) {
  const { accountId } = useSession();
  const loaded = useLoad(() => listAll<PermissionPreset>(`${A(accountId)}/permissionPresets`, "permissionPresets"), accountId);
  const presets = loaded.data ?? [];
  const roles: PrincipalRole[] = presets.length > 0 || value.role === CUSTOM_ROLE ? [...ROLES, CUSTOM_ROLE] : [...ROLES];
  const chosen = presets.find((p) => lastSegment(p.name) === value.permissionPreset);
  const pick = (role: PrincipalRole) =>
    onChange({ role, permissionPreset: role === CUSTOM_ROLE ? value.permissionPreset || lastSegment(presets[0]?.name ?? "") : "" });
  return (
    <fieldset className="role-field">
      <legend>{legend}</legend>
      {roles.map((role) => (
        <label key={role} className={value.role === role ? "role-option selected" : "role-option"}>
          <input type="radio" name="role" value={role} checked={value.role === role} onChange={() => pick(role)} />
          <span>
            <span className="role-option-name">{role}</span>
            <span className="role-option-text">{ROLE_SUMMARY[role]}</span>
          </span>
        </label>
      ))}
      {value.role === CUSTOM_ROLE && (
        <div className="field">
          <label htmlFor="role-preset">Permission preset</label>
          <select
            id="role-preset"
            value={value.permissionPreset}
            onChange={(e) => onChange({ role: CUSTOM_ROLE, permissionPreset: e.target.value })}
            aria-describedby="role-preset-actions"
            required
          >
            {presets.map((p) => (
              <option key={p.name} value={lastSegment(p.name)}>
                {p.displayName || lastSegment(p.name)}
              </option>
            ))}
          </select>
          <p className="hint" id="role-preset-actions">
            {chosen ? `Holds exactly: ${chosen.actions.join(", ")}.` : "Choose a preset."}
          </p>
        </div>
      )}
    </fieldset>
  );
}

export function CreateServiceAccountDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (user: User) => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const [id, setId] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [role, setRole] = useState<RoleChoice>({ role: "user", permissionPreset: "" });
  const submit = async () => {
    const user = await api<User>("POST", `${A(accountId)}/users${query({ userId: id.trim() })}`, {
      serviceAccount: true,
      ...roleBody(role),
      ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
    });
    toast(`Service account ${user.email} created.`);
    onCreated(user);
  };
  return (
    <ActionDialog title="Create a service account" submitLabel="Create service account" onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">A service account acts only through API keys: it never signs in. Its email is generated from its ID and the account.</p>
      <IdField id="sa-id" label="Service account ID" value={id} onChange={setId} required>
        Up to 63 lowercase letters, digits and “-”, starting with a letter and ending with a letter or digit, e.g. <code>ci-deployer</code>.
      </IdField>
      <DisplayNameField id="sa-name" value={displayName} onChange={setDisplayName} />
      <RoleField value={role} onChange={setRole} />
    </ActionDialog>
  );
}

export function AddUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (user: User) => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [role, setRole] = useState<RoleChoice>({ role: "user", permissionPreset: "" });
  const submit = async () => {
    const user = await api<User>("POST", `${A(accountId)}/users`, {
      email: email.trim(),
      ...roleBody(role),
      ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
    });
    toast(`${user.email} added.`);
    onCreated(user);
  };
  return (
    <ActionDialog title="Add a person" submitLabel="Add person" onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">People sign in through the account's identity provider or a one-time sign-in link.</p>
      <TextField
        id="user-email"
        label="Email"
        type="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        required
        autoComplete="off"
        data-autofocus
      />
      <DisplayNameField id="user-name" value={displayName} onChange={setDisplayName} />
      <RoleField value={role} onChange={setRole} />
    </ActionDialog>
  );
}

export function ChangeRoleDialog({ user, onClose, onChanged }: { user: User; onClose: () => void; onChanged: (user: User) => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const [role, setRole] = useState<RoleChoice>({ role: user.role, permissionPreset: user.permissionPreset });
  const id = lastSegment(user.name);
  const submit = async () => {
    const body = { role: role.role, permissionPreset: role.role === CUSTOM_ROLE ? role.permissionPreset : "" };
    const updated = await api<User>("PATCH", `${A(accountId)}/users/${id}${query({ updateMask: "role,permissionPreset" })}`, body);
    const preset = updated.permissionPreset ? ` (permission preset ${updated.permissionPreset})` : "";
    toast(`${updated.email} is now ${updated.role}${preset}.`);
    onChanged(updated);
  };
  return (
    <ActionDialog title={`Change the role of ${user.displayName || id}`} submitLabel="Save role" onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">
        {user.email} is <strong>{user.role}</strong>. A new role applies to its next request, with every API key it has.
      </p>
      <RoleField value={role} onChange={setRole} legend="New role" />
    </ActionDialog>
  );
}

/** What goes with a principal, said before it goes: its keys (and a person's sessions). */
export function DeleteUserDialog({ user, onClose, onDeleted }: { user: User; onClose: () => void; onDeleted: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const id = lastSegment(user.name);
  const keys = useLoad(() => api<{ apiKeys?: ApiKey[]; totalSize: number }>("GET", `${A(accountId)}/users/${id}/apiKeys?pageSize=1`), id);
  const action = useAction();
  const submit = () =>
    action.run(async () => {
      await api("DELETE", `${A(accountId)}/users/${id}`);
      toast(`${user.email} deleted.`);
      onDeleted();
    });
  const n = keys.data?.totalSize;
  const keysText =
    n === undefined
      ? keys.loading
        ? "Its API keys are revoked"
        : "All its API keys are revoked"
      : n === 0
        ? "It has no API keys"
        : `Its ${n} API key${n === 1 ? " is" : "s are"} revoked`;
  return (
    <FormDialog
      title={`Delete ${user.serviceAccount ? "service account" : "user"} ${id}?`}
      submitLabel={`Delete ${id}`}
      danger
      busy={action.busy || keys.loading}
      error={action.error}
      onClose={onClose}
      onSubmit={submit}
    >
      <p className="dialog-text">
        <strong>{user.email}</strong> will be deleted.
      </p>
      <ul className="consequences">
        <li>
          {keysText}
          {n !== 0 && " at once: anything still using them is refused"}.
        </li>
        {!user.serviceAccount && <li>Their browser sessions end.</li>}
        <li>Deployments, datasets and models it created stay, still naming it as creator; its audit entries stay.</li>
      </ul>
      <p className="dialog-text">This cannot be undone.</p>
    </FormDialog>
  );
}
