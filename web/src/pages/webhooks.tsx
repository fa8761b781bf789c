import { useState } from "react";
import { api, listAll, lastSegment, query, type Webhook, type WebhookDelivery } from "../api.ts";
import { ChoiceField } from "../components/choice-field.tsx";
import { ActionDialog } from "../components/action-dialog.tsx";
import { DeleteButton } from "../components/delete-button.tsx";
import { Icon } from "../components/icons.tsx";
import { ListStatus } from "../components/list-status.tsx";
import { Pager, usePageTokens } from "../components/pager.tsx";
import { ResourceCard } from "../components/resource-card.tsx";
import { SecretDialog } from "../components/secret-dialog.tsx";
import { TableHead } from "../components/table-head.tsx";
import { IdField, TextField } from "../components/text-field.tsx";
import { Empty, PageHeader, Time } from "../components/ui.tsx";
import { useAction, useLoad, useTitle } from "../hooks.ts";
import { setSearch, useLocation } from "../router.tsx";
import { useSession, useToast } from "../session.tsx";
import { WEBHOOK_EVENT_TYPES } from "../../../src/domain/webhook-event-types.ts";
import "./webhooks.css";

/** What each event type tells a receiver (docs/webhooks.md, Events). */
const EVENT_HINTS: Readonly<Record<(typeof WEBHOOK_EVENT_TYPES)[number], string>> = {
  "api_key.expiring": "a key expires in 7 days, then in 1 day",
  "api_key.expired": "a key has expired",
  "api_key.disabled": "a key was disabled",
  "api_key.leaked": "a secret scanner reported a key; it was disabled",
  "api_key.rotated": "a key was rotated",
  "principal.created": "a user or service account was created",
  "principal.deleted": "a user or service account was deleted",
  "principal.role_changed": "a principal's role changed",
  "quota.threshold": "a quota's usage reached 80 % or 100 %",
  "sign_in.refused": "a sign-in was refused",
};

const BADGE: Readonly<Record<string, string>> = {
  ENABLED: "badge badge-ok",
  SUCCEEDED: "badge badge-ok",
  FAILED: "badge badge-error",
};

function StateBadge({ state }: { state: string }) {
  return <span className={BADGE[state] ?? "badge"}>{state}</span>;
}

interface Draft {
  id: string;
  displayName: string;
  url: string;
  events: string[];
}

/** Add (no `existing`) or edit a webhook; a new one's signing secret is handed to `onCreated`. */
function WebhookDialog({ existing, onClose, onSaved }: { existing?: Webhook; onClose: () => void; onSaved: (created?: Webhook) => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const [d, setD] = useState<Draft>(
    existing
      ? { id: lastSegment(existing.name), displayName: existing.displayName, url: existing.url, events: existing.events }
      : { id: "", displayName: "", url: "", events: [] },
  );
  const toggle = (type: string, on: boolean) => setD((x) => ({ ...x, events: on ? [...x.events, type] : x.events.filter((e) => e !== type) }));
  const submit = async () => {
    const body = { displayName: d.displayName.trim(), url: d.url.trim(), events: d.events };
    const base = `/v1/accounts/${accountId}/webhooks`;
    if (existing) {
      await api("PATCH", `${base}/${d.id}${query({ updateMask: "displayName,url,events" })}`, body);
      toast(`Webhook ${d.id} saved.`);
      onSaved();
    } else {
      onSaved(await api<Webhook>("POST", `${base}${query({ webhookId: d.id.trim() || undefined })}`, body));
    }
  };
  return (
    <ActionDialog
      title={existing ? `Edit ${existing.displayName || d.id}` : "Add a webhook"}
      submitLabel={existing ? "Save" : "Add webhook"}
      onClose={onClose}
      onSubmit={submit}
    >
      {!existing && (
        <IdField id="webhook-id" label="ID" value={d.id} onChange={(id) => setD({ ...d, id })}>
          Optional: lowercase letters, digits and “-”, e.g. <code>alerts</code>.
        </IdField>
      )}
      <TextField
        id="webhook-name"
        label="Display name"
        value={d.displayName}
        onChange={(e) => setD({ ...d, displayName: e.target.value })}
        placeholder="Alerts"
        autoComplete="off"
      />
      <TextField
        id="webhook-url"
        label="URL"
        hint="Events are POSTed here, signed per Standard Webhooks. Only public https addresses, unless the operator allows private networks."
        type="url"
        value={d.url}
        onChange={(e) => setD({ ...d, url: e.target.value })}
        required
        placeholder="https://hooks.example.com/hearth"
        autoComplete="off"
      />
      <fieldset className="role-field">
        <legend>Events</legend>
        {WEBHOOK_EVENT_TYPES.map((type) => (
          <label key={type} className="check">
            <input type="checkbox" checked={d.events.includes(type)} onChange={(e) => toggle(type, e.target.checked)} />
            <code>{type}</code> <span className="muted">{EVENT_HINTS[type]}</span>
          </label>
        ))}
      </fieldset>
    </ActionDialog>
  );
}

/** The signing secret of a new webhook, or the new one of a rotation: shown this once. */
function WebhookSecretDialog({ webhook, onClose }: { webhook: Webhook; onClose: () => void }) {
  return (
    <SecretDialog
      title="Copy the signing secret"
      warning={
        <>
          <strong>This is the only time the secret is shown.</strong> Your receiver verifies each delivery's <code>webhook-signature</code> with it.
        </>
      }
      inputId="webhook-secret"
      label={<>Signing secret of “{webhook.displayName}”</>}
      secret={webhook.signingSecret ?? ""}
      onClose={onClose}
    />
  );
}

/** How long the old secret also signs after a rotation (RotateWebhookSecret's `gracePeriod`, at most 7 days). */
const GRACE: ReadonlyArray<{ value: string; label: string }> = [
  { value: "0s", label: "Stop it now" },
  { value: "3600s", label: "1 hour" },
  { value: "86400s", label: "1 day" },
  { value: "604800s", label: "7 days" },
];

/** Rotate a webhook's signing secret; the new one is handed to `onRotated`, to be shown once. */
function RotateSecretDialog({ webhook, onClose, onRotated }: { webhook: Webhook; onClose: () => void; onRotated: (rotated: Webhook) => void }) {
  const { accountId } = useSession();
  const [grace, setGrace] = useState("86400s");
  const submit = async () =>
    onRotated(await api<Webhook>("POST", `/v1/accounts/${accountId}/webhooks/${lastSegment(webhook.name)}:rotateSecret`, { gracePeriod: grace }));
  return (
    <ActionDialog title={`Rotate the signing secret of “${webhook.displayName}”?`} submitLabel="Rotate secret" onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">
        A new secret, shown once, signs every delivery from now on. Until your receiver has it, deliveries are signed with the old secret as well.
      </p>
      <ChoiceField id="webhook-grace" label="Old secret also signs for" value={grace} choices={GRACE} onChange={setGrace} />
    </ActionDialog>
  );
}

function DeleteDialog({ webhook, onClose, onDeleted }: { webhook: Webhook; onClose: () => void; onDeleted: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const id = lastSegment(webhook.name);
  const submit = async () => {
    await api("DELETE", `/v1/accounts/${accountId}/webhooks/${id}`);
    toast(`Webhook ${id} deleted.`);
    onDeleted();
  };
  return (
    <ActionDialog title={`Delete the webhook ${id}?`} submitLabel={`Delete ${id}`} danger onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">Nothing more is sent to {webhook.url}; its delivery log goes with it.</p>
    </ActionDialog>
  );
}

const DELIVERY_PAGE_SIZE = 20;

/**
 * A webhook's delivery log, newest first, a page at a time (or its failed deliveries only): each
 * event, its state and every attempt's response code, with redelivery.
 */
function DeliveryLog({ webhook }: { webhook: Webhook }) {
  const { accountId } = useSession();
  const toast = useToast();
  const id = lastSegment(webhook.name);
  const [failedOnly, setFailedOnly] = useState(false);
  const filter = failedOnly ? 'state="FAILED"' : undefined;
  const pages = usePageTokens(filter ?? "");
  const log = useLoad(
    () =>
      api<{ webhookDeliveries?: WebhookDelivery[]; nextPageToken: string; totalSize: number }>(
        "GET",
        `/v1/accounts/${accountId}/webhooks/${id}/deliveries${query({ pageSize: DELIVERY_PAGE_SIZE, filter, pageToken: pages.pageToken })}`,
      ),
    `deliveries-${id}|${filter ?? ""}|${pages.pageToken}`,
  );
  const action = useAction();
  const redeliver = (d: WebhookDelivery) =>
    action.run(async () => {
      await api("POST", `/v1/${d.name}:redeliver`);
      toast(`Redelivering ${d.eventType}.`);
      log.reload();
    });
  const rows = log.data?.webhookDeliveries ?? [];
  return (
    <section aria-labelledby={`log-${id}`} className="webhook-log">
      <div className="section-head">
        <h3 id={`log-${id}`}>Delivery log</h3>
        <div className="row-actions">
          <label className="check">
            <input type="checkbox" checked={failedOnly} onChange={(e) => setFailedOnly(e.target.checked)} />
            Failed only
          </label>
          <button type="button" className="button button-small" onClick={log.reload}>
            Refresh
          </button>
        </div>
      </div>
      <ListStatus list={log} count={rows.length} what="deliveries" error={action.error}>
        <p className="muted">{failedOnly ? "No delivery has failed." : "Nothing sent yet."}</p>
      </ListStatus>
      {rows.length > 0 && (
        <div className="card table-card" aria-busy={log.loading}>
          <table className="table responsive">
            <caption className="visually-hidden">Deliveries to {webhook.displayName || id}</caption>
            <TableHead columns={["Event", "State", "Attempts (response codes)", "Created"]} hidden="Actions" />
            <tbody>
              {rows.map((d) => (
                <tr key={d.name}>
                  <td data-label="Event">
                    <code>{d.eventType}</code>
                    <span className="key-id">{d.eventId}</span>
                  </td>
                  <td data-label="State">
                    <StateBadge state={d.state} />
                    {d.nextAttemptTime && (
                      <span className="key-id">
                        next <Time iso={d.nextAttemptTime} seconds />
                      </span>
                    )}
                  </td>
                  <td data-label="Attempts" className="mono">
                    {d.attempts.length === 0 ? "—" : d.attempts.map((a) => (a.responseCode ? String(a.responseCode) : "no response")).join(", ")}
                    {d.attempts.at(-1)?.error && <span className="key-id">{d.attempts.at(-1)?.error}</span>}
                  </td>
                  <td data-label="Created" className="nowrap">
                    <Time iso={d.createTime} seconds />
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="button button-small"
                      disabled={action.busy || webhook.state !== "ENABLED"}
                      onClick={() => redeliver(d)}
                      aria-label={`Redeliver ${d.eventType} ${d.eventId}`}
                    >
                      Redeliver
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="table-footer">
            <span className="muted">{log.data?.totalSize === 1 ? "1 delivery" : `${log.data?.totalSize ?? 0} deliveries`}</span>
            <Pager pages={pages} nextPageToken={log.data?.nextPageToken} labels={["Newer", "Older"]} />
          </div>
        </div>
      )}
    </section>
  );
}

export function WebhooksPage() {
  useTitle("Webhooks");
  const session = useSession();
  const toast = useToast();
  const { search } = useLocation();
  const shown = search.get("webhook") ?? "";
  const list = useLoad(() => listAll<Webhook>(`/v1/accounts/${session.accountId}/webhooks`, "webhooks"), "webhooks");
  const [dialog, setDialog] = useState<{ kind: "add" } | { kind: "edit" | "rotate" | "delete" | "secret"; webhook: Webhook }>();
  const action = useAction();
  const webhooks = list.data ?? [];
  const done = () => {
    setDialog(undefined);
    list.reload();
  };
  const setState = (w: Webhook, state: "ENABLED" | "DISABLED") =>
    action.run(async () => {
      await api("PATCH", `/v1/accounts/${session.accountId}/webhooks/${lastSegment(w.name)}${query({ updateMask: "state" })}`, { state });
      toast(`Webhook ${lastSegment(w.name)} ${state === "ENABLED" ? "enabled" : "disabled"}.`);
      list.reload();
    });
  if (!session.can("webhooks.list")) {
    return (
      <>
        <PageHeader title="Webhooks" />
        <Empty icon="shield" title="Only admins manage webhooks" />
      </>
    );
  }
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Signed notifications of what happens in this account — keys expiring or leaked, people added or removed, quotas running out — POSTed to your URLs."
        actions={
          session.can("webhooks.create") && (
            <button type="button" className="button button-primary" onClick={() => setDialog({ kind: "add" })}>
              <Icon name="plus" /> Add webhook
            </button>
          )
        }
      />
      <ListStatus list={list} count={webhooks.length} what="webhooks" error={action.error}>
        <Empty icon="log" title="No webhook yet">
          <p>Add one to be told when a key is about to expire, is reported leaked, or a quota runs out.</p>
        </Empty>
      </ListStatus>
      <div className="idp-list">
        {webhooks.map((w) => {
          const id = lastSegment(w.name);
          const open = shown === id;
          return (
            <ResourceCard
              key={w.name}
              headingId={`webhook-${id}`}
              title={w.displayName || id}
              id={id}
              actions={
                <div className="row-actions">
                  <button
                    type="button"
                    className="button button-small"
                    aria-expanded={open}
                    onClick={() => setSearch({ webhook: open ? undefined : id })}
                    aria-label={`Delivery log of ${w.displayName || id}`}
                  >
                    Delivery log
                  </button>
                  {session.can("webhooks.update") && (
                    <>
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => setDialog({ kind: "edit", webhook: w })}
                        aria-label={`Edit ${w.displayName || id}`}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        className="button button-small"
                        disabled={action.busy}
                        onClick={() => setState(w, w.state === "ENABLED" ? "DISABLED" : "ENABLED")}
                        aria-label={`${w.state === "ENABLED" ? "Disable" : "Enable"} ${w.displayName || id}`}
                      >
                        {w.state === "ENABLED" ? "Disable" : "Enable"}
                      </button>
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => setDialog({ kind: "rotate", webhook: w })}
                        aria-label={`Rotate secret of ${w.displayName || id}`}
                      >
                        Rotate secret
                      </button>
                    </>
                  )}
                  {session.can("webhooks.delete") && (
                    <DeleteButton label={`Delete ${w.displayName || id}`} onClick={() => setDialog({ kind: "delete", webhook: w })} />
                  )}
                </div>
              }
            >
              <dl className="details details-inline">
                <div>
                  <dt>URL</dt>
                  <dd className="mono">{w.url}</dd>
                </div>
                <div>
                  <dt>State</dt>
                  <dd>
                    <StateBadge state={w.state} />
                  </dd>
                </div>
                <div>
                  <dt>Events</dt>
                  <dd className="mono">{w.events.join(", ")}</dd>
                </div>
                {w.previousSecretExpireTime && (
                  <div>
                    <dt>Old secret signs until</dt>
                    <dd>
                      <Time iso={w.previousSecretExpireTime} />
                    </dd>
                  </div>
                )}
              </dl>
              {open && <DeliveryLog webhook={w} />}
            </ResourceCard>
          );
        })}
      </div>
      {dialog?.kind === "add" && (
        <WebhookDialog
          onClose={() => setDialog(undefined)}
          onSaved={(created) => {
            list.reload();
            setDialog(created ? { kind: "secret", webhook: created } : undefined);
          }}
        />
      )}
      {dialog?.kind === "edit" && <WebhookDialog existing={dialog.webhook} onClose={() => setDialog(undefined)} onSaved={done} />}
      {dialog?.kind === "rotate" && (
        <RotateSecretDialog
          webhook={dialog.webhook}
          onClose={() => setDialog(undefined)}
          onRotated={(rotated) => {
            list.reload();
            setDialog({ kind: "secret", webhook: rotated });
          }}
        />
      )}
      {dialog?.kind === "delete" && <DeleteDialog webhook={dialog.webhook} onClose={() => setDialog(undefined)} onDeleted={done} />}
      {dialog?.kind === "secret" && <WebhookSecretDialog webhook={dialog.webhook} onClose={() => setDialog(undefined)} />}
    </>
  );
}
