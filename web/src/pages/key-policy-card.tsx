import { useState } from "react";
import { api, type KeyPolicy } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { TextField } from "../components/text-field.tsx";
import { ErrorNotice, Loading } from "../components/ui.tsx";
import { daysDuration, durationDays, formatDateTime } from "../format.ts";
import { useLoad } from "../hooks.ts";
import { useSession, useToast } from "../session.tsx";

/** A lifetime as people say it: "90 days", "12 hours"; "none" when absent. */
function lifetime(duration: string | undefined): string {
  const days = durationDays(duration);
  if (days === undefined) return "none";
  if (Number.isInteger(days)) return `${days} ${days === 1 ? "day" : "days"}`;
  const hours = days * 24;
  return Number.isInteger(hours) ? `${hours} hours` : `${Math.round(days * 86_400)} seconds`;
}

/** The number typed in a lifetime field: empty means no lifetime (the field is removed). */
const typedDays = (text: string): number | undefined => (text.trim() === "" ? undefined : Number(text));

function KeyPolicyDialog({ policy, onClose, onSaved }: { policy: KeyPolicy; onClose: () => void; onSaved: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const [max, setMax] = useState(String(durationDays(policy.maxKeyLifetime) ?? ""));
  const [byDefault, setByDefault] = useState(String(durationDays(policy.defaultKeyLifetime) ?? ""));
  const [requireExpiry, setRequireExpiry] = useState(policy.requireExpiryForHumanKeys);
  const submit = async () => {
    // Every field is named in the mask, so an emptied lifetime is removed (AIP-134); the server checks the values.
    const maxDays = typedDays(max);
    const defaultDays = typedDays(byDefault);
    const body = {
      ...(maxDays === undefined ? {} : { maxKeyLifetime: daysDuration(maxDays) }),
      ...(defaultDays === undefined ? {} : { defaultKeyLifetime: daysDuration(defaultDays) }),
      requireExpiryForHumanKeys: requireExpiry,
    };
    await api("PATCH", `/v1/accounts/${accountId}/keyPolicy?updateMask=maxKeyLifetime,defaultKeyLifetime,requireExpiryForHumanKeys`, body);
    toast("Key policy saved; it applies to keys created or rotated from now on.");
    onSaved();
  };
  return (
    <ActionDialog title="Edit the key policy" submitLabel="Save policy" onClose={onClose} onSubmit={submit}>
      <div className="field-row">
        <TextField
          id="policy-max"
          label="Longest lifetime (days)"
          hint="Empty: keys may live for ever."
          type="number"
          min="0.0001"
          step="any"
          value={max}
          onChange={(e) => setMax(e.target.value)}
        />
        <TextField
          id="policy-default"
          label="Default lifetime (days)"
          hint="For a key created without an expiry. At most the longest."
          type="number"
          min="0.0001"
          step="any"
          value={byDefault}
          onChange={(e) => setByDefault(e.target.value)}
        />
      </div>
      <label className="check">
        <input type="checkbox" checked={requireExpiry} onChange={(e) => setRequireExpiry(e.target.checked)} />
        People's keys must expire (service accounts' keys need not)
      </label>
    </ActionDialog>
  );
}

/** The account's key policy (every role reads it; `keyPolicy.update` edits it). */
export function KeyPolicyCard() {
  const session = useSession();
  const policy = useLoad(() => api<KeyPolicy>("GET", `/v1/accounts/${session.accountId}/keyPolicy`), "key-policy");
  const [editing, setEditing] = useState(false);
  const p = policy.data;
  return (
    <section className="card settings-card" aria-labelledby="key-policy-title">
      <div className="section-head">
        <div>
          <h2 id="key-policy-title">API key policy</h2>
          <p className="muted">Applies to keys created or rotated from now on; existing keys keep their expiry.</p>
        </div>
        {p && session.can("keyPolicy.update") && (
          <button type="button" className="button button-small" onClick={() => setEditing(true)}>
            Edit policy
          </button>
        )}
      </div>
      <ErrorNotice error={policy.error} onRetry={policy.reload} />
      {policy.loading && !p && <Loading what="key policy" />}
      {p && (
        <dl className="details details-inline">
          <div>
            <dt>Longest lifetime</dt>
            <dd>{lifetime(p.maxKeyLifetime)}</dd>
          </div>
          <div>
            <dt>Default lifetime</dt>
            <dd>{lifetime(p.defaultKeyLifetime)}</dd>
          </div>
          <div>
            <dt>People's keys</dt>
            <dd>{p.requireExpiryForHumanKeys ? "must expire" : "may never expire"}</dd>
          </div>
          <div>
            <dt>Last changed</dt>
            <dd>{p.updateTime ? formatDateTime(p.updateTime) : "never"}</dd>
          </div>
        </dl>
      )}
      {editing && p && (
        <KeyPolicyDialog
          policy={p}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            policy.reload();
          }}
        />
      )}
    </section>
  );
}
