import { useState } from "react";
import { api, lastSegment, type Quota } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { Empty, ErrorNotice, Loading, PageHeader, Time } from "../components/ui.tsx";
import { formatBytes, formatNumber, formatUsd } from "../format.ts";
import { useLoad, useTitle } from "../hooks.ts";
import { useSession, useToast } from "../session.tsx";

interface QuotaInfo {
  label: string;
  about: string;
  format: (n: number) => string;
}

const INFO: Readonly<Record<string, QuotaInfo>> = {
  "serverless-inference-rpm": { label: "Inference requests per minute", about: "Across every key of the account, this minute.", format: formatNumber },
  "monthly-spend-usd": { label: "Monthly spend", about: "Metered inference spend this calendar month.", format: formatUsd },
  deployments: { label: "Deployments", about: "Deployments that exist now.", format: formatNumber },
  datasets: { label: "Datasets", about: "Datasets that exist now.", format: formatNumber },
  "dataset-storage-bytes": { label: "Dataset storage", about: "Bytes of every uploaded dataset.", format: formatBytes },
  "service-accounts": { label: "Service accounts", about: "Service accounts of the account.", format: formatNumber },
  users: { label: "Users", about: "People of the account, added by an admin or on first sign-in.", format: formatNumber },
  "api-keys-per-user": { label: "API keys per principal", about: "Usage is the most keys any one principal has.", format: formatNumber },
  webhooks: { label: "Webhooks", about: "Webhooks of the account: every event goes to each one subscribed.", format: formatNumber },
  "audit-sinks": { label: "Audit sinks", about: "Live streams of the audit log: each is sent every entry.", format: formatNumber },
  models: { label: "Models", about: "The account's own models (public models do not count).", format: formatNumber },
  "identity-providers": { label: "Identity providers", about: "OIDC identity providers people sign in with.", format: formatNumber },
  "permission-presets": { label: "Permission presets", about: "The action sets of the custom role.", format: formatNumber },
};

const infoOf = (id: string): QuotaInfo => INFO[id] ?? { label: id, about: "", format: formatNumber };

function level(ratio: number): "ok" | "warn" | "full" {
  return ratio >= 0.9 ? "full" : ratio >= 0.7 ? "warn" : "ok";
}

/** One bar: usage against the quota's value, with the operator's maximum as context. */
function QuotaCard({ quota, canEdit, onEdit }: { quota: Quota; canEdit: boolean; onEdit: () => void }) {
  const id = lastSegment(quota.name);
  const info = infoOf(id);
  const value = Number(quota.value);
  const max = Number(quota.maxValue);
  const ratio = value > 0 ? quota.usage / value : quota.usage > 0 ? 1 : 0;
  const percent = Math.round(ratio * 100);
  const summary = `${info.format(quota.usage)} of ${info.format(value)} used (${percent}%)`;
  return (
    <article className="card quota" aria-labelledby={`quota-${id}`}>
      <div className="quota-head">
        <div>
          <h2 id={`quota-${id}`}>{info.label}</h2>
          <p className="quota-id mono">{id}</p>
        </div>
        {canEdit && (
          <button type="button" className="button button-small" onClick={onEdit} aria-label={`Change the ${info.label} quota`}>
            Change
          </button>
        )}
      </div>
      <p className="quota-numbers">
        <span className="quota-usage">{info.format(quota.usage)}</span>
        <span className="muted"> of {info.format(value)}</span>
      </p>
      <div className={`bar bar-${level(ratio)}`} role="img" aria-label={summary}>
        <span className="bar-fill" style={{ width: `${Math.min(100, ratio * 100)}%` }} />
      </div>
      <p className="quota-foot">
        <span>{percent}% used</span>
        <span className="muted" title="The most an admin may set; the operator sets it">
          max {info.format(max)}
        </span>
      </p>
      {info.about && <p className="quota-about muted">{info.about}</p>}
      <p className="quota-updated muted">
        Updated <Time iso={quota.updateTime} relative />
      </p>
    </article>
  );
}

function EditQuotaDialog({ quota, onClose, onSaved }: { quota: Quota; onClose: () => void; onSaved: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const id = lastSegment(quota.name);
  const info = infoOf(id);
  const [value, setValue] = useState(quota.value);
  const n = Number(value);
  const valid = value.trim() !== "" && Number.isInteger(n) && n >= 0;
  const submit = async () => {
    await api("PATCH", `/v1/accounts/${accountId}/quotas/${id}`, { value: value.trim() });
    toast(`${info.label} quota set to ${info.format(n)}.`);
    onSaved();
  };
  return (
    <ActionDialog title={`Change the ${info.label.toLowerCase()} quota`} submitLabel="Save quota" onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">
        Currently {info.format(Number(quota.value))}, with {info.format(quota.usage)} in use. The operator's maximum is {info.format(Number(quota.maxValue))};
        ask them to raise it for more.
      </p>
      <div className="field">
        <label htmlFor="quota-value">New value</label>
        <input
          id="quota-value"
          type="number"
          inputMode="numeric"
          min={0}
          step={1}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          required
          aria-describedby="quota-value-hint"
          data-autofocus
        />
        <p className="hint" id="quota-value-hint" aria-live="polite">
          {valid ? `= ${info.format(n)}` : "A whole number, 0 or more."}
          {valid && n < quota.usage ? ` Below current usage: new ${info.label.toLowerCase()} are refused until usage drops.` : ""}
        </p>
      </div>
    </ActionDialog>
  );
}

export function QuotasPage() {
  useTitle("Quotas");
  const session = useSession();
  const list = useLoad(() => api<{ quotas?: Quota[] }>("GET", `/v1/accounts/${session.accountId}/quotas`), "quotas");
  const [editing, setEditing] = useState<Quota>();
  const quotas = list.data?.quotas ?? [];
  const canEdit = session.can("quotas.update");
  return (
    <>
      <PageHeader
        title="Quotas"
        description={`Shared by every principal of the account. Each bar is usage against the quota; ${canEdit ? "admins set a quota" : "an admin sets each quota"} up to the maximum the operator allows.`}
      />
      <ErrorNotice error={list.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading what="quotas" />}
      {list.data && quotas.length === 0 && <Empty icon="gauge" title="No quotas" />}
      {quotas.length > 0 && (
        <div className="quota-grid">
          {quotas.map((q) => (
            <QuotaCard key={q.name} quota={q} canEdit={canEdit} onEdit={() => setEditing(q)} />
          ))}
        </div>
      )}
      {editing && (
        <EditQuotaDialog
          quota={editing}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            list.reload();
          }}
        />
      )}
    </>
  );
}
