import { useState } from "react";
import { api, lastSegment, listAll, query, type AuditSink, type Webhook } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { DeleteButton } from "../components/delete-button.tsx";
import { Icon } from "../components/icons.tsx";
import { ListStatus } from "../components/list-status.tsx";
import { DisplayNameField, IdField, TextField } from "../components/text-field.tsx";
import { Empty } from "../components/ui.tsx";
import { formatDateTime, formatNumber } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { useSession, useToast } from "../session.tsx";

type SinkType = AuditSink["type"];

/** Add a sink: to one of the account's webhooks, or to a Splunk HTTP Event Collector with its token. */
function AddSinkDialog({ onClose, onAdded }: { onClose: () => void; onAdded: () => void }) {
  const session = useSession();
  const toast = useToast();
  const base = `/v1/accounts/${session.accountId}`;
  const webhooks = useLoad(() => listAll<Webhook>(`${base}/webhooks`, "webhooks"), "sink-webhooks");
  const [id, setId] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [type, setType] = useState<SinkType>("WEBHOOK");
  const [webhook, setWebhook] = useState("");
  const [url, setUrl] = useState("");
  const [hecToken, setHecToken] = useState("");
  const chosenWebhook = webhook || webhooks.data?.[0]?.name || "";
  const submit = async () => {
    const target = type === "WEBHOOK" ? { webhook: chosenWebhook } : { url: url.trim(), hecToken };
    await api("POST", `${base}/auditSinks${query({ auditSinkId: id.trim() })}`, { displayName: displayName.trim(), type, ...target });
    toast(`Audit sink ${id.trim()} added: it is sent every entry of the log, from the first retained one on.`);
    onAdded();
  };
  return (
    <ActionDialog title="Stream the audit log" submitLabel="Add sink" onClose={onClose} onSubmit={submit}>
      <IdField id="sink-id" label="ID" value={id} onChange={setId} required>
        Up to 63 lowercase letters, digits and “-”, e.g. <code>siem</code>.
      </IdField>
      <DisplayNameField id="sink-name" value={displayName} onChange={setDisplayName} />
      <fieldset className="role-field">
        <legend>Send to</legend>
        <label className="check">
          <input type="radio" name="sink-type" checked={type === "WEBHOOK"} onChange={() => setType("WEBHOOK")} />
          One of the account's webhooks (event <code>audit.entry</code>, signed like every delivery)
        </label>
        <label className="check">
          <input type="radio" name="sink-type" checked={type === "SPLUNK_HEC"} onChange={() => setType("SPLUNK_HEC")} />A Splunk HTTP Event Collector
        </label>
      </fieldset>
      {type === "WEBHOOK" ? (
        <div className="field">
          <label htmlFor="sink-webhook">Webhook</label>
          <select id="sink-webhook" value={chosenWebhook} onChange={(e) => setWebhook(e.target.value)} required>
            {(webhooks.data ?? []).map((w) => (
              <option key={w.name} value={w.name}>
                {w.displayName || lastSegment(w.name)} ({w.url})
              </option>
            ))}
          </select>
          {webhooks.data?.length === 0 && <p className="hint">The account has no webhook yet: add one on the Webhooks page first.</p>}
        </div>
      ) : (
        <>
          <TextField
            id="sink-url"
            label="Collector URL"
            type="url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            required
            placeholder="https://splunk.example.com:8088/services/collector/event"
            autoComplete="off"
          />
          <TextField
            id="sink-token"
            label="HEC token"
            hint="Stored sealed; never shown again."
            type="password"
            value={hecToken}
            onChange={(e) => setHecToken(e.target.value)}
            required
            autoComplete="new-password"
          />
        </>
      )}
    </ActionDialog>
  );
}

function DeleteSinkDialog({ sink, onClose, onDeleted }: { sink: AuditSink; onClose: () => void; onDeleted: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const id = lastSegment(sink.name);
  const submit = async () => {
    await api("DELETE", `/v1/accounts/${accountId}/auditSinks/${id}`);
    toast(`Audit sink ${id} deleted; its receiver gets no more entries.`);
    onDeleted();
  };
  return (
    <ActionDialog title={`Delete the audit sink ${id}?`} submitLabel={`Delete ${id}`} danger onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">The stream stops now; what its receiver already holds stays there. A sink added again starts from the first retained entry.</p>
    </ActionDialog>
  );
}

/**
 * The account's audit sinks with their delivery state (`auditLogs.listAll` reads them; adding or
 * deleting one needs `auditSettings.update` too, which the server checks).
 */
export function AuditSinksCard() {
  const session = useSession();
  const sinks = useLoad(() => listAll<AuditSink>(`/v1/accounts/${session.accountId}/auditSinks`, "auditSinks"), "audit-sinks");
  const [dialog, setDialog] = useState<{ kind: "add" } | { kind: "delete"; sink: AuditSink }>();
  const manage = session.can("auditSettings.update");
  const list = sinks.data ?? [];
  const done = () => {
    setDialog(undefined);
    sinks.reload();
  };
  return (
    <section className="card settings-card" aria-labelledby="audit-sinks-title">
      <div className="section-head">
        <div>
          <h2 id="audit-sinks-title">Audit sinks</h2>
          <p className="muted">Live copies of the log outside Hearth: every entry with its hash, in order, at least once.</p>
        </div>
        {manage && (
          <button type="button" className="button button-small" onClick={() => setDialog({ kind: "add" })}>
            <Icon name="plus" size={16} /> Add sink
          </button>
        )}
      </div>
      <ListStatus list={sinks} count={list.length} what="audit sinks">
        <Empty icon="log" title="No audit sink">
          <p>Without one, the log lives only in Hearth's database: keep a copy outside it (a sink, or a sealed export).</p>
        </Empty>
      </ListStatus>
      {list.map((sink) => {
        const id = lastSegment(sink.name);
        return (
          <article key={sink.name} className="sink" aria-labelledby={`sink-${id}`}>
            <div className="section-head">
              <h3 id={`sink-${id}`}>
                {sink.displayName || id} <span className="mono muted">{id}</span>
              </h3>
              {manage && <DeleteButton label={`Delete ${sink.displayName || id}`} onClick={() => setDialog({ kind: "delete", sink })} />}
            </div>
            <dl className="details details-inline">
              <div>
                <dt>{sink.type === "WEBHOOK" ? "Webhook" : "Splunk collector"}</dt>
                <dd className="mono">{sink.type === "WEBHOOK" ? lastSegment(sink.webhook) : sink.url}</dd>
              </div>
              <div>
                <dt>Entries delivered</dt>
                <dd>{formatNumber(sink.deliveredCount)}</dd>
              </div>
              <div>
                <dt>Last error</dt>
                <dd>{sink.lastError ? <span className="danger-text">{sink.lastError}</span> : "none"}</dd>
              </div>
              {sink.lastError && (
                <div>
                  <dt>Next attempt</dt>
                  <dd>{formatDateTime(sink.nextAttemptTime)}</dd>
                </div>
              )}
            </dl>
          </article>
        );
      })}
      {dialog?.kind === "add" && <AddSinkDialog onClose={() => setDialog(undefined)} onAdded={done} />}
      {dialog?.kind === "delete" && <DeleteSinkDialog sink={dialog.sink} onClose={() => setDialog(undefined)} onDeleted={done} />}
    </section>
  );
}
