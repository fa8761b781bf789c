import { PageHeader } from "../components/ui.tsx";
import { useTitle } from "../hooks.ts";
import { useSession } from "../session.tsx";
import { AuditSettingsCard } from "./audit-settings-card.tsx";
import { AuditSinksCard } from "./audit-sinks-card.tsx";
import { KeyPolicyCard } from "./key-policy-card.tsx";

/**
 * The account's settings: its API key policy (every role reads it), and for those who read the
 * whole audit log (`auditLogs.listAll`) the log's own settings, its verification and its sinks.
 */
export function SettingsPage() {
  useTitle("Settings");
  const session = useSession();
  return (
    <>
      <PageHeader title="Settings" description="Rules for the account's API keys, and how its audit log is kept and copied." />
      <div className="settings-list">
        <KeyPolicyCard />
        {session.can("auditLogs.listAll") && (
          <>
            <AuditSettingsCard />
            <AuditSinksCard />
          </>
        )}
      </div>
    </>
  );
}
