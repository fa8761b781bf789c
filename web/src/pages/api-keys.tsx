import { useState } from "react";
import { api, lastSegment, query, type ApiKey, type KeyPolicy, type User } from "../api.ts";
import { ChoiceField } from "../components/choice-field.tsx";
import { ActionDialog } from "../components/action-dialog.tsx";
import { DeleteButton } from "../components/delete-button.tsx";
import { Icon } from "../components/icons.tsx";
import { Pager, usePageTokens } from "../components/pager.tsx";
import { SecretDialog } from "../components/secret-dialog.tsx";
import { TableHead } from "../components/table-head.tsx";
import { TextField } from "../components/text-field.tsx";
import { Empty, ErrorNotice, Loading, Time } from "../components/ui.tsx";
import { durationDays, formatDate } from "../format.ts";
import { useAction, useLoad } from "../hooks.ts";
import { useSession, useToast } from "../session.tsx";
import "./api-keys.css";

const EXPIRY: Array<{ value: string; label: string; days?: number }> = [
  { value: "30", label: "In 30 days", days: 30 },
  { value: "90", label: "In 90 days", days: 90 },
  { value: "365", label: "In one year", days: 365 },
  { value: "never", label: "Never" },
  { value: "date", label: "On a date…" },
];

const DAY_MS = 24 * 3600 * 1000;

/** API keys per page of a principal's key list. */
const KEY_PAGE_SIZE = 50;

function expireTime(choice: string, date: string): string | undefined {
  const preset = EXPIRY.find((e) => e.value === choice);
  if (preset?.days) return new Date(Date.now() + preset.days * DAY_MS).toISOString();
  if (choice === "date" && date) return new Date(`${date}T23:59:59`).toISOString();
  return undefined;
}

/**
 * The expiry choices the account's key policy allows for this owner: none longer than
 * `maxKeyLifetime`, and "Never" only when the key need not expire. "Policy default" stands for
 * `defaultKeyLifetime` (the server applies it when no expiry is sent). The server checks again.
 */
function expiryChoices(policy: KeyPolicy | undefined, human: boolean): Array<{ value: string; label: string; days?: number }> {
  const max = durationDays(policy?.maxKeyLifetime);
  const mustExpire = max !== undefined || (human && policy?.requireExpiryForHumanKeys === true);
  const fixed = EXPIRY.filter((e) => (e.days === undefined ? e.value !== "never" || !mustExpire : max === undefined || e.days <= max));
  const byDefault = durationDays(policy?.defaultKeyLifetime);
  if (byDefault === undefined) return fixed;
  const label = `Policy default (${Math.round(byDefault * 10) / 10} days)`;
  return [{ value: "never", label }, ...fixed.filter((e) => e.value !== "never")];
}

/** The restriction fields of the create dialog, as typed (comma-separated lists, numbers as text). */
interface RestrictionDraft {
  scopes: string;
  allowedModels: string;
  allowedCidrs: string;
  rpm: string;
  tpm: string;
  monthlySpendUsd: string;
}

const NO_DRAFT: RestrictionDraft = { scopes: "", allowedModels: "", allowedCidrs: "", rpm: "", tpm: "", monthlySpendUsd: "" };

const listOf = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);

/** The request fields of the restrictions filled in; an empty field restricts nothing. The server checks each value and names a bad one. */
function restrictionFields(draft: RestrictionDraft): Partial<Pick<ApiKey, "scopes" | "allowedModels" | "allowedCidrs" | "rpm" | "tpm" | "monthlySpendUsd">> {
  const out: Partial<Pick<ApiKey, "scopes" | "allowedModels" | "allowedCidrs" | "rpm" | "tpm" | "monthlySpendUsd">> = {};
  for (const field of ["scopes", "allowedModels", "allowedCidrs"] as const) if (listOf(draft[field]).length > 0) out[field] = listOf(draft[field]);
  for (const field of ["rpm", "tpm", "monthlySpendUsd"] as const) if (draft[field].trim() !== "") out[field] = Number(draft[field]);
  return out;
}

/** Optional restrictions of a new key: what it may do, call and where from, and its own limits inside the account's quotas. */
function RestrictionFields({ draft, onChange }: { draft: RestrictionDraft; onChange: (draft: RestrictionDraft) => void }) {
  const set = (field: keyof RestrictionDraft) => (e: { target: { value: string } }) => onChange({ ...draft, [field]: e.target.value });
  return (
    <details className="key-restrictions">
      <summary>Restrictions (optional)</summary>
      <TextField
        id="key-scopes"
        label="Scopes"
        hint="Action names, comma-separated. Empty: everything the owner’s role allows. A key never does more than its owner."
        value={draft.scopes}
        onChange={set("scopes")}
        placeholder="models.list, inference.run"
        autoComplete="off"
      />
      <TextField
        id="key-models"
        label="Allowed models"
        hint={
          <>
            Models or deployments, comma-separated; <code>*</code> ends a pattern. Empty: any.
          </>
        }
        value={draft.allowedModels}
        onChange={set("allowedModels")}
        placeholder="accounts/fireworks/models/*"
        autoComplete="off"
      />
      <TextField
        id="key-cidrs"
        label="Allowed networks"
        hint="IPv4 or IPv6 networks (CIDR) the key may be used from. Empty: anywhere."
        value={draft.allowedCidrs}
        onChange={set("allowedCidrs")}
        placeholder="203.0.113.0/24, 2001:db8::/32"
        autoComplete="off"
      />
      <div className="field-row field-row-3">
        <TextField id="key-rpm" label="Requests per minute" type="number" min={1} step={1} inputMode="numeric" value={draft.rpm} onChange={set("rpm")} />
        <TextField id="key-tpm" label="Tokens per minute" type="number" min={1} step={1} inputMode="numeric" value={draft.tpm} onChange={set("tpm")} />
        <TextField
          id="key-spend"
          label="Monthly spend (USD)"
          type="number"
          min={0.01}
          step={0.01}
          inputMode="decimal"
          value={draft.monthlySpendUsd}
          onChange={set("monthlySpendUsd")}
        />
      </div>
      <p className="hint">Limits apply inside the account’s quotas. Empty: only the account’s.</p>
    </details>
  );
}

function CreateKeyDialog({ user, onClose, onCreated }: { user: User; onClose: () => void; onCreated: (key: ApiKey) => void }) {
  const { accountId } = useSession();
  const id = lastSegment(user.name);
  const [name, setName] = useState("");
  const [chosen, setExpiry] = useState<string>();
  const [date, setDate] = useState("");
  const [restrictions, setRestrictions] = useState(NO_DRAFT);
  const tomorrow = new Date(Date.now() + DAY_MS).toISOString().slice(0, 10);
  const policy = useLoad(() => api<KeyPolicy>("GET", `/v1/accounts/${accountId}/keyPolicy`), accountId);
  const choices = expiryChoices(policy.data, !user.serviceAccount);
  // Until one is chosen: the policy's default lifetime if it has one, else 90 days, else the longest allowed.
  const fallback = policy.data?.defaultKeyLifetime
    ? "never"
    : choices.some((c) => c.value === "90")
      ? "90"
      : (choices.findLast((c) => c.days) ?? choices[0]!).value;
  const expiry = chosen !== undefined && choices.some((c) => c.value === chosen) ? chosen : fallback;
  const maxDays = durationDays(policy.data?.maxKeyLifetime);
  const latest = maxDays === undefined ? undefined : new Date(Date.now() + maxDays * DAY_MS).toISOString().slice(0, 10);
  const submit = async () => {
    const expires = expireTime(expiry, date);
    const key = await api<ApiKey>("POST", `/v1/accounts/${accountId}/users/${id}/apiKeys`, {
      apiKey: { ...(name.trim() ? { displayName: name.trim() } : {}), ...(expires ? { expireTime: expires } : {}), ...restrictionFields(restrictions) },
    });
    onCreated(key);
  };
  return (
    <ActionDialog title={`New API key for ${user.displayName || id}`} submitLabel="Create key" onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">
        The key acts as <strong>{user.email}</strong>, with its role ({user.role}).
      </p>
      <TextField
        id="key-name"
        label="Name"
        hint="Where it is used, e.g. “github-actions”."
        value={name}
        onChange={(e) => setName(e.target.value)}
        maxLength={63}
        placeholder="default"
        autoComplete="off"
        data-autofocus
      />
      <div className="field">
        <label htmlFor="key-expiry">Expires</label>
        <select
          id="key-expiry"
          value={expiry}
          onChange={(e) => setExpiry(e.target.value)}
          aria-describedby={maxDays === undefined ? undefined : "key-expiry-hint"}
        >
          {choices.map((e) => (
            <option key={e.value} value={e.value}>
              {e.label}
            </option>
          ))}
        </select>
        {maxDays !== undefined && (
          <p className="hint" id="key-expiry-hint">
            The account’s key policy: a key lives at most {Math.round(maxDays * 10) / 10} days.
          </p>
        )}
      </div>
      {expiry === "date" && (
        <TextField id="key-date" label="Expiry date" type="date" min={tomorrow} max={latest} value={date} onChange={(e) => setDate(e.target.value)} required />
      )}
      <RestrictionFields draft={restrictions} onChange={setRestrictions} />
    </ActionDialog>
  );
}

/** The one time a key's secret is shown: a copy button, and a plain warning that it will not come back. */
function NewKeyDialog({ apiKey, replaced, onClose }: { apiKey: ApiKey; replaced?: string | undefined; onClose: () => void }) {
  return (
    <SecretDialog
      title="Copy your new API key"
      warning={
        <>
          <strong>This is the only time the key is shown.</strong> Hearth keeps only a digest of it: copy it now and store it in a secret manager. If it is
          lost, delete it and create another.
        </>
      }
      inputId="new-key-secret"
      label={<>API key “{apiKey.displayName}”</>}
      secret={apiKey.key ?? ""}
      intro={replaced && <p className="dialog-text">{replaced}</p>}
      onClose={onClose}
    >
      <p className="hint">
        Use it as <code>Authorization: Bearer &lt;key&gt;</code> or <code>x-api-key: &lt;key&gt;</code>, or with <code>firectl set-api-key</code>.
        {apiKey.expireTime ? ` It expires on ${formatDate(apiKey.expireTime)}.` : " It does not expire."}
      </p>
    </SecretDialog>
  );
}

function DeleteKeyDialog({ user, apiKey, onClose, onDeleted }: { user: User; apiKey: ApiKey; onClose: () => void; onDeleted: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const submit = async () => {
    await api("DELETE", `/v1/accounts/${accountId}/users/${lastSegment(user.name)}/apiKeys/${apiKey.keyId}`);
    toast(`API key “${apiKey.displayName}” deleted.`);
    onDeleted();
  };
  return (
    <ActionDialog title={`Delete the API key “${apiKey.displayName}”?`} submitLabel="Delete key" danger onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">
        The key <code>{apiKey.prefix}…</code> of {user.email} is revoked at once: every request that uses it is refused from now on. This cannot be undone.
      </p>
    </ActionDialog>
  );
}

const DISABLE_REASONS: Array<{ value: NonNullable<ApiKey["disableReason"]>; label: string; hint: string }> = [
  { value: "EXPOSED", label: "Exposed", hint: "Its secret was seen where it should not be (a repository, a log, a chat)." },
  { value: "COMPROMISED", label: "Compromised", hint: "Someone else used it." },
  { value: "UNUSED", label: "Unused", hint: "Nobody uses it any more." },
  { value: "OTHER", label: "Other", hint: "Any other reason." },
];

const reasonLabel = (reason: ApiKey["disableReason"]): string => DISABLE_REASONS.find((r) => r.value === reason)?.label ?? "Other";

/** The path of one key's custom method, e.g. `…/apiKeys/k1:disable`. */
const keyMethod = (accountId: string, user: User, apiKey: ApiKey, method: "disable" | "enable" | "rotate") =>
  `/v1/accounts/${accountId}/users/${lastSegment(user.name)}/apiKeys/${apiKey.keyId}:${method}`;

function DisableKeyDialog({ user, apiKey, onClose, onDone }: { user: User; apiKey: ApiKey; onClose: () => void; onDone: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const [reason, setReason] = useState<NonNullable<ApiKey["disableReason"]>>("EXPOSED");
  const submit = async () => {
    await api("POST", keyMethod(accountId, user, apiKey, "disable"), { disableReason: reason });
    toast(`API key “${apiKey.displayName}” disabled.`);
    onDone();
  };
  return (
    <ActionDialog title={`Disable the API key “${apiKey.displayName}”?`} submitLabel="Disable key" danger onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">
        Every request with <code>{apiKey.prefix}…</code> is refused from now on, with the reason, until the key is enabled again. It no longer counts toward the
        keys each principal may hold.
      </p>
      <fieldset className="role-field">
        <legend>Reason</legend>
        {DISABLE_REASONS.map((r) => (
          <label key={r.value} className="check">
            <input type="radio" name="disable-reason" value={r.value} checked={reason === r.value} onChange={() => setReason(r.value)} />
            <span>
              <strong>{r.label}</strong> <span className="muted">{r.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
    </ActionDialog>
  );
}

const GRACE: Array<{ value: string; label: string }> = [
  { value: "0s", label: "Revoke it now" },
  { value: "3600s", label: "1 hour" },
  { value: "86400s", label: "1 day" },
  { value: "604800s", label: "7 days" },
];

function RotateKeyDialog({
  user,
  apiKey,
  onClose,
  onRotated,
}: {
  user: User;
  apiKey: ApiKey;
  onClose: () => void;
  onRotated: (key: ApiKey, note: string) => void;
}) {
  const { accountId } = useSession();
  const [grace, setGrace] = useState("86400s");
  const submit = async () => {
    const next = await api<ApiKey>("POST", keyMethod(accountId, user, apiKey, "rotate"), { gracePeriod: grace });
    const label = GRACE.find((g) => g.value === grace)?.label ?? grace;
    onRotated(next, grace === "0s" ? `The old key ${apiKey.prefix}… is revoked.` : `The old key ${apiKey.prefix}… keeps working for ${label}, then expires.`);
  };
  return (
    <ActionDialog title={`Rotate the API key “${apiKey.displayName}”?`} submitLabel="Rotate key" onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">
        A new key replaces <code>{apiKey.prefix}…</code>: same owner, name and restrictions, and a new secret, shown once. Give the old one time to be replaced
        where it is used.
      </p>
      <ChoiceField id="key-grace" label="Old key keeps working for" value={grace} choices={GRACE} onChange={setGrace} />
    </ActionDialog>
  );
}

function expired(key: ApiKey): boolean {
  return key.expireTime !== undefined && Date.parse(key.expireTime) <= Date.now();
}

/** The key's state as a badge: disabled (with its reason) or expired; nothing while it works. */
function KeyState({ apiKey }: { apiKey: ApiKey }) {
  if (apiKey.state === "DISABLED") return <span className="badge badge-error">Disabled: {reasonLabel(apiKey.disableReason)}</span>;
  if (expired(apiKey)) return <span className="badge badge-muted">Expired</span>;
  return null;
}

/**
 * A principal's API keys: list (state, expiry date, last use and its address), create with optional
 * restrictions (the secret shown once), rotate (the new secret shown once), disable with a reason,
 * enable and delete, as the role allows.
 */
export function ApiKeysSection({ user, offerFirstKey }: { user: User; offerFirstKey: boolean }) {
  const session = useSession();
  const id = lastSegment(user.name);
  const self = id === session.userId;
  const mayCreate = self ? session.can("apiKeys.create") : user.serviceAccount && session.can("apiKeys.createForServiceAccount");
  const mayDelete = self ? session.can("apiKeys.delete") : session.can("apiKeys.deleteOthers");
  const mayDisable = self ? session.can("apiKeys.disable") : session.can("apiKeys.disableOthers");
  const mayRotate = self ? session.can("apiKeys.rotate") : user.serviceAccount && session.can("apiKeys.rotateForServiceAccount");
  const mayAct = mayDelete || mayDisable || mayRotate;
  const toast = useToast();
  const enabling = useAction();
  const pages = usePageTokens(id);
  const list = useLoad(
    () =>
      api<{ apiKeys?: ApiKey[]; nextPageToken: string; totalSize: number }>(
        "GET",
        `/v1/accounts/${session.accountId}/users/${id}/apiKeys${query({ pageSize: KEY_PAGE_SIZE, pageToken: pages.pageToken })}`,
      ),
    `${id}|${pages.pageToken}`,
  );
  const [creating, setCreating] = useState(offerFirstKey && mayCreate);
  const [created, setCreated] = useState<{ apiKey: ApiKey; replaced?: string }>();
  const [deleting, setDeleting] = useState<ApiKey>();
  const [disabling, setDisabling] = useState<ApiKey>();
  const [rotating, setRotating] = useState<ApiKey>();
  const enable = (key: ApiKey) =>
    enabling.run(async () => {
      await api("POST", keyMethod(session.accountId, user, key, "enable"), {});
      toast(`API key “${key.displayName}” enabled.`);
      list.reload();
    });
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
      <ErrorNotice error={enabling.error} />
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
          <TableHead columns={["Name", "Prefix", "Created", "Expires", "Last used"]} hidden={mayAct && "Actions"} />
          <tbody>
            {keys.map((key) => (
              <tr key={key.keyId}>
                <td data-label="Name">
                  <span className="key-name">
                    {key.displayName} <KeyState apiKey={key} />
                  </span>
                  <span className="key-id">{key.keyId}</span>
                </td>
                <td data-label="Prefix" className="nowrap">
                  <code>{key.prefix}…</code>
                </td>
                <td data-label="Created" className="nowrap">
                  <Time iso={key.createTime} />
                </td>
                <td data-label="Expires" className="nowrap">
                  {expired(key) && <span className="visually-hidden">Expired on </span>}
                  <Time iso={key.expireTime} empty="Never" />
                </td>
                <td data-label="Last used">
                  <Time iso={key.lastUsed} relative empty="Never" />
                  {key.lastUsedIp && (
                    <span className="key-used-from" title={key.lastUsedUserAgent ?? ""}>
                      from {key.lastUsedIp}
                    </span>
                  )}
                </td>
                {mayAct && (
                  <td className="row-actions">
                    {mayRotate && key.state === "ENABLED" && !expired(key) && (
                      <button
                        type="button"
                        className="button button-small button-quiet"
                        onClick={() => setRotating(key)}
                        aria-label={`Rotate API key ${key.displayName} (${key.prefix})`}
                      >
                        Rotate
                      </button>
                    )}
                    {mayDisable && key.state === "ENABLED" && !expired(key) && (
                      <button
                        type="button"
                        className="button button-small button-quiet"
                        onClick={() => setDisabling(key)}
                        aria-label={`Disable API key ${key.displayName} (${key.prefix})`}
                      >
                        Disable
                      </button>
                    )}
                    {mayDisable && key.state === "DISABLED" && (
                      <button
                        type="button"
                        className="button button-small button-quiet"
                        disabled={enabling.busy}
                        onClick={() => void enable(key)}
                        aria-label={`Enable API key ${key.displayName} (${key.prefix})`}
                      >
                        Enable
                      </button>
                    )}
                    {mayDelete && <DeleteButton label={`Delete API key ${key.displayName} (${key.prefix})`} onClick={() => setDeleting(key)} />}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(pages.index > 0 || list.data?.nextPageToken) && (
        <div className="table-footer">
          <span className="muted">{list.data?.totalSize ?? 0} keys</span>
          <Pager pages={pages} nextPageToken={list.data?.nextPageToken} />
        </div>
      )}
      {creating && (
        <CreateKeyDialog
          user={user}
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setCreated({ apiKey: key });
            list.reload();
          }}
        />
      )}
      {created && <NewKeyDialog apiKey={created.apiKey} replaced={created.replaced} onClose={() => setCreated(undefined)} />}
      {disabling && (
        <DisableKeyDialog
          user={user}
          apiKey={disabling}
          onClose={() => setDisabling(undefined)}
          onDone={() => {
            setDisabling(undefined);
            list.reload();
          }}
        />
      )}
      {rotating && (
        <RotateKeyDialog
          user={user}
          apiKey={rotating}
          onClose={() => setRotating(undefined)}
          onRotated={(key, note) => {
            setRotating(undefined);
            setCreated({ apiKey: key, replaced: note });
            list.reload();
          }}
        />
      )}
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
