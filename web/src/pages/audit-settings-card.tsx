import { useState } from "react";
import { api, type AuditSettings, type AuditVerifyReport } from "../api.ts";
import { Icon } from "../components/icons.tsx";
import { ErrorNotice, Loading } from "../components/ui.tsx";
import { formatNumber } from "../format.ts";
import { useAction, useLoad } from "../hooks.ts";
import { useSession, useToast } from "../session.tsx";

/** What a verification found, in a sentence: how much held, or the first broken link. */
function VerifyResult({ report }: { report: AuditVerifyReport }) {
  const broken = report.brokenLink;
  return (
    <div className={report.verified ? "notice notice-info" : "notice notice-error"} role="status">
      <Icon name={report.verified ? "check" : "warning"} />
      <p>
        {report.verified
          ? `The chain holds: ${formatNumber(report.entriesVerified)} entries and ${formatNumber(report.checkpointsVerified)} signed checkpoints verified.`
          : `The chain is broken${broken ? ` at entry ${broken.entryId} (${broken.problem}): ${broken.detail}` : ""}. ${formatNumber(report.entriesVerified)} entries verified before it.`}
      </p>
    </div>
  );
}

/**
 * The audit log's own settings (admins: `auditLogs.listAll` reads them): data-access entries on or
 * off (`auditSettings.update` changes them; switching off also needs `auditLogs.listAll`, which the
 * server checks), and a check of the whole hash chain and its signed checkpoints (`:verify`).
 */
export function AuditSettingsCard() {
  const session = useSession();
  const toast = useToast();
  const base = `/v1/accounts/${session.accountId}`;
  const settings = useLoad(() => api<AuditSettings>("GET", `${base}/auditSettings`), "audit-settings");
  const change = useAction();
  const verify = useAction();
  const [report, setReport] = useState<AuditVerifyReport>();
  const on = settings.data?.dataAccessLogs;
  const toggle = () =>
    change.run(async () => {
      await api("PATCH", `${base}/auditSettings?updateMask=dataAccessLogs`, { dataAccessLogs: !on });
      toast(on ? "Data-access entries switched off." : "Data-access entries switched on: successful reads of users, API keys and the audit log are recorded.");
      settings.reload();
    });
  const check = () =>
    verify.run(async () => {
      setReport(undefined);
      setReport(await api<AuditVerifyReport>("GET", `${base}/auditLogs:verify`));
    });
  return (
    <section className="card settings-card" aria-labelledby="audit-settings-title">
      <div className="section-head">
        <div>
          <h2 id="audit-settings-title">Audit log</h2>
          <p className="muted">Every change and refusal is recorded in a hash chain with signed checkpoints.</p>
        </div>
      </div>
      <ErrorNotice error={settings.error} onRetry={settings.reload} />
      {settings.loading && !settings.data && <Loading what="audit settings" />}
      {settings.data && (
        <dl className="details details-inline">
          <div>
            <dt>Data-access entries</dt>
            <dd>{on ? "on: successful reads of users, API keys and the audit log are recorded" : "off: reads are not recorded"}</dd>
          </div>
          <div>
            <dt>Signing keys</dt>
            <dd>
              <a href="/.well-known/hearth-audit-keys">published public keys</a>
            </dd>
          </div>
        </dl>
      )}
      <div className="row-actions settings-actions">
        {settings.data && session.can("auditSettings.update") && (
          <button type="button" className="button" onClick={toggle} disabled={change.busy} aria-busy={change.busy}>
            {on ? "Switch data-access entries off" : "Switch data-access entries on"}
          </button>
        )}
        <button type="button" className="button" onClick={check} disabled={verify.busy} aria-busy={verify.busy}>
          {verify.busy ? "Verifying…" : "Verify the chain"}
        </button>
      </div>
      <ErrorNotice error={change.error ?? verify.error} />
      {report && <VerifyResult report={report} />}
    </section>
  );
}
