import { useState } from "react";
import { api, lastSegment, type ApiKey, type User } from "../api.ts";
import { CopyButton } from "../components/copy-button.tsx";
import { Dialog, FormDialog } from "../components/dialog.tsx";
import { Icon } from "../components/icons.tsx";
import { Empty, ErrorNotice, Loading, Time } from "../components/ui.tsx";
import { formatDate } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { useSession, useToast } from "../session.tsx";
import { useAction } from "./user-dialogs.tsx";

const EXPIRY: Array<{ value: string; label: string; days?: number }> = [
  { value: "30", label: "In 30 days", days: 30 },
  { value: "90", label: "In 90 days", days: 90 },
  { value: "365", label: "In one year", days: 365 },
  { value: "never", label: "Never" },
  { value: "date", label: "On a date…" },
];

function expireTime(choice: string, date: string): string | undefined {
  const preset = EXPIRY.find((e) => e.value === choice);
  if (preset?.days) return new Date(Date.now() + preset.days * 24 * 3600 * 1000).toISOString();
  if (choice === "date" && date) return new Date(`${date}T23:59:59`).toISOString();
  return undefined;
}

function CreateKeyDialog({ user, onClose, onCreated }: { user: User; onClose: () => void; onCreated: (key: ApiKey) => void }) {
  const { accountId } = useSession();
  const id = lastSegment(user.name);
  const [name, setName] = useState("");
  const [expiry, setExpiry] = useState("90");
  const [date, setDate] = useState("");
  const action = useAction();
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);
  const submit = () =>
    action.run(async () => {
      const expires = expireTime(expiry, date);
      const key = await api<ApiKey>("POST", `/v1/accounts/${accountId}/users/${id}/apiKeys`, {
        apiKey: { ...(name.trim() ? { displayName: name.trim() } : {}), ...(expires ? { expireTime: expires } : {}) },
      });
      onCreated(key);
    });
  return (
    <FormDialog
      title={`New API key for ${user.displayName || id}`}
      submitLabel="Create key"
      busy={action.busy}
      error={action.error}
      onClose={onClose}
      onSubmit={submit}
    >
      <p className="dialog-text">
        The key acts as <strong>{user.email}</strong>, with its role ({user.role}).
      </p>
      <div className="field">
        <label htmlFor="key-name">Name</label>
        <input
          id="key-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          maxLength={63}
          placeholder="default"
          autoComplete="off"
          aria-describedby="key-name-hint"
          data-autofocus
        />
        <p className="hint" id="key-name-hint">
          Where it is used, e.g. “github-actions”.
        </p>
      </div>
      <div className="field">
        <label htmlFor="key-expiry">Expires</label>
        <select id="key-expiry" value={expiry} onChange={(e) => setExpiry(e.target.value)}>
          {EXPIRY.map((e) => (
            <option key={e.value} value={e.value}>
              {e.label}
            </option>
          ))}
        </select>
      </div>
      {expiry === "date" && (
        <div className="field">
          <label htmlFor="key-date">Expiry date</label>
          <input id="key-date" type="date" min={tomorrow} value={date} onChange={(e) => setDate(e.target.value)} required />
        </div>
      )}
    </FormDialog>
  );
}

/** The one time a secret is shown: a copy button, and a plain warning that it will not come back. */
function NewKeyDialog({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  return (
    <Dialog title="Copy your new API key" onClose={onClose} wide>
      <div className="dialog-body">
        <div className="notice notice-warning">
          <Icon name="warning" />
          <p>
            <strong>This is the only time the key is shown.</strong> Hearth keeps only a digest of it: copy it now and store it in a secret manager. If it is
            lost, delete it and create another.
          </p>
        </div>
        <div className="field">
          <label htmlFor="new-key-secret">API key “{apiKey.displayName}”</label>
          <div className="secret-row">
            <input
              id="new-key-secret"
              className="secret"
              value={apiKey.key ?? ""}
              readOnly
              spellCheck={false}
              autoComplete="off"
              onFocus={(e) => e.target.select()}
            />
            <CopyButton text={apiKey.key ?? ""} inputId="new-key-secret" />
          </div>
        </div>
        <p className="hint">
          Use it as <code>Authorization: Bearer &lt;key&gt;</code>, or with <code>firectl set-api-key</code>.
          {apiKey.expireTime ? ` It expires on ${formatDate(apiKey.expireTime)}.` : " It does not expire."}
        </p>
      </div>
      <div className="dialog-actions">
        <button type="button" className="button button-primary" onClick={onClose} data-autofocus>
          I have copied it
        </button>
      </div>
    </Dialog>
  );
}

function DeleteKeyDialog({ user, apiKey, onClose, onDeleted }: { user: User; apiKey: ApiKey; onClose: () => void; onDeleted: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const action = useAction();
  const submit = () =>
    action.run(async () => {
      await api("DELETE", `/v1/accounts/${accountId}/users/${lastSegment(user.name)}/apiKeys/${apiKey.keyId}`);
      toast(`API key “${apiKey.displayName}” deleted.`);
      onDeleted();
    });
  return (
    <FormDialog
      title={`Delete the API key “${apiKey.displayName}”?`}
      submitLabel="Delete key"
      danger
      busy={action.busy}
      error={action.error}
      onClose={onClose}
      onSubmit={submit}
    >
      <p className="dialog-text">
        The key <code>{apiKey.prefix}…</code> of {user.email} is revoked at once: every request that uses it is refused from now on. This cannot be undone.
      </p>
    </FormDialog>
  );
}

function expired(key: ApiKey): boolean {
  return key.expireTime !== undefined && Date.parse(key.expireTime) <= Date.now();
}

/** A principal's API keys: list, create (the secret shown once) and delete, as the role allows. */
export function ApiKeysSection({ user, offerFirstKey }: { user: User; offerFirstKey: boolean }) {
  const session = useSession();
  const id = lastSegment(user.name);
  const self = id === session.userId;
  const mayCreate = self ? session.can("apiKeys.create") : user.serviceAccount && session.can("apiKeys.createForServiceAccount");
  const mayDelete = self ? session.can("apiKeys.delete") : session.can("apiKeys.deleteOthers");
  const list = useLoad(() => api<{ apiKeys?: ApiKey[]; totalSize: number }>("GET", `/v1/accounts/${session.accountId}/users/${id}/apiKeys?pageSize=200`), id);
  const [creating, setCreating] = useState(offerFirstKey && mayCreate);
  const [created, setCreated] = useState<ApiKey>();
  const [deleting, setDeleting] = useState<ApiKey>();
  const keys = list.data?.apiKeys ?? [];

  return (
    <section className="card section" aria-labelledby="keys-title">
      <div className="section-head">
        <div>
          <h2 id="keys-title">API keys</h2>
          <p className="muted">
            {user.serviceAccount
              ? "A service account acts only through these keys."
              : self
                ? `Keys act as you, with your role (${user.role}).`
                : "Keys act as this person, with their role."}{" "}
            Secrets are never shown again after creation.
          </p>
        </div>
        {mayCreate && (
          <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
            <Icon name="plus" /> Create API key
          </button>
        )}
      </div>
      <ErrorNotice error={list.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading what="API keys" />}
      {list.data && keys.length === 0 && (
        <Empty icon="key" title="No API keys">
          {mayCreate ? (
            <p>Create one to let {user.serviceAccount ? "this service account" : "your scripts"} call Hearth.</p>
          ) : (
            <p>{user.serviceAccount ? "Only an admin creates keys for a service account." : `Only ${user.email} creates keys of their own.`}</p>
          )}
        </Empty>
      )}
      {keys.length > 0 && (
        <table className="table responsive">
          <caption className="visually-hidden">API keys of {user.email}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              {mayDelete && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.keyId}>
                <td data-label="Name">
                  <span className="key-name">{key.displayName}</span>
                  <span className="key-id">{key.keyId}</span>
                </td>
                <td data-label="Prefix">
                  <code>{key.prefix}…</code>
                </td>
                <td data-label="Created" className="nowrap">
                  <Time iso={key.createTime} />
                </td>
                <td data-label="Expires">{expired(key) ? <span className="badge badge-error">Expired</span> : <Time iso={key.expireTime} empty="Never" />}</td>
                <td data-label="Last used">
                  <Time iso={key.lastUsed} relative empty="Never" />
                </td>
                {mayDelete && (
                  <td className="row-actions">
                    <button
                      type="button"
                      className="button button-small button-quiet danger-text"
                      onClick={() => setDeleting(key)}
                      aria-label={`Delete API key ${key.displayName} (${key.prefix})`}
                    >
                      <Icon name="trash" size={16} /> Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && (
        <CreateKeyDialog
          user={user}
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setCreated(key);
            list.reload();
          }}
        />
      )}
      {created && <NewKeyDialog apiKey={created} onClose={() => setCreated(undefined)} />}
      {deleting && (
        <DeleteKeyDialog
          user={user}
          apiKey={deleting}
          onClose={() => setDeleting(undefined)}
          onDeleted={() => {
            setDeleting(undefined);
            list.reload();
          }}
        />
      )}
    </section>
  );
}
