import { useState } from "react";
import { api, query, type ApiKey } from "../api.ts";
import { ChoiceField } from "../components/choice-field.tsx";
import { Pager, usePageTokens } from "../components/pager.tsx";
import { TableHead } from "../components/table-head.tsx";
import { Empty, ErrorNotice, Loading, PageHeader, Time } from "../components/ui.tsx";
import { useAction, useLoad, useTitle } from "../hooks.ts";
import { Link, setSearch, useLocation } from "../router.tsx";
import { useSession, useToast } from "../session.tsx";

const PAGE_SIZE = 50;

/** The thresholds offered, in days; 90 as GCP's unused-key recommendations use. */
const THRESHOLDS = [30, 60, 90, 180, 365] as const;
const DEFAULT_DAYS = 90;

/** `accounts/a/users/u/apiKeys/k` → `u` */
const ownerId = (name: string): string => name.split("/")[3] ?? "";

/**
 * Keys of every principal that have not authenticated for more than N days (never used: counted
 * from creation), the list's `unused_days>N` filter, with a one-click disable (reason `UNUSED`).
 */
export function UnusedKeysPage() {
  useTitle("Unused keys");
  const session = useSession();
  const toast = useToast();
  const { search } = useLocation();
  const given = Number(search.get("days"));
  const days = THRESHOLDS.find((d) => d === given) ?? DEFAULT_DAYS;
  const pages = usePageTokens(String(days));
  const pageToken = pages.pageToken;
  const list = useLoad(
    () =>
      api<{ apiKeys?: ApiKey[]; nextPageToken: string; totalSize: number }>(
        "GET",
        `/v1/accounts/${session.accountId}/users/-/apiKeys${query({ pageSize: PAGE_SIZE, filter: `unused_days>${days}`, pageToken })}`,
      ),
    `${days}|${pageToken}`,
  );
  const action = useAction();
  const [busyKey, setBusyKey] = useState("");
  const keys = list.data?.apiKeys ?? [];

  const disable = (key: ApiKey) => {
    setBusyKey(key.name);
    void action
      .run(async () => {
        await api("POST", `/v1/${key.name}:disable`, { disableReason: "UNUSED" });
        toast(`Key ${key.displayName || key.keyId} of ${key.email} disabled.`);
        list.reload();
      })
      .finally(() => setBusyKey(""));
  };

  if (!session.can("apiKeys.listOthers")) {
    return (
      <>
        <PageHeader title="Unused keys" />
        <Empty icon="key" title="Only admins see every principal's keys">
          <p>Ask an admin of the account to review unused keys.</p>
        </Empty>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Unused keys"
        description="API keys that have not authenticated for longer than the period chosen; a key never used counts from its creation. Disable the ones nobody needs: a disabled key can be enabled again."
      />
      <div className="toolbar">
        <ChoiceField
          id="unused-days"
          label="Unused for more than"
          className="select-field"
          value={String(days)}
          choices={THRESHOLDS.map((d) => ({ value: String(d), label: `${d} days` }))}
          onChange={(value) => setSearch({ days: value === String(DEFAULT_DAYS) ? undefined : value })}
        />
      </div>

      <ErrorNotice error={list.error ?? action.error} onRetry={list.error ? list.reload : action.clear} />
      {list.loading && !list.data && <Loading what="unused keys" />}
      {list.data && keys.length === 0 && (
        <Empty icon="check" title={`No key unused for more than ${days} days`}>
          <p>Every key of the account authenticated within that period.</p>
        </Empty>
      )}
      {keys.length > 0 && (
        <div className="card table-card" aria-busy={list.loading}>
          <table className="table responsive">
            <caption className="visually-hidden">API keys unused for more than {days} days</caption>
            <TableHead columns={["Key", "Owner", "Last used", "Created", "State"]} hidden="Actions" />
            <tbody>
              {keys.map((key) => {
                const label = key.displayName || key.keyId;
                const enabled = key.state !== "DISABLED";
                return (
                  <tr key={key.name}>
                    <td data-label="Key">
                      <span>{label}</span> <span className="mono muted">{key.prefix}…</span>
                    </td>
                    <td data-label="Owner">
                      <Link to={`/account/users/${ownerId(key.name)}`}>{key.email}</Link>
                    </td>
                    <td data-label="Last used" className="nowrap">
                      <Time iso={key.lastUsed} relative empty="Never" />
                    </td>
                    <td data-label="Created" className="nowrap">
                      <Time iso={key.createTime} />
                    </td>
                    <td data-label="State">{enabled ? "Enabled" : `Disabled${key.disableReason ? ` (${key.disableReason.toLowerCase()})` : ""}`}</td>
                    <td className="row-actions">
                      {enabled && (
                        <button
                          type="button"
                          className="button button-small button-quiet danger-text"
                          disabled={busyKey !== ""}
                          onClick={() => disable(key)}
                          aria-label={`Disable key ${label} of ${key.email}`}
                        >
                          {busyKey === key.name ? "Disabling…" : "Disable"}
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div className="table-footer">
            <span className="muted">{list.data?.totalSize === 1 ? "1 unused key" : `${list.data?.totalSize ?? 0} unused keys`}</span>
            <Pager pages={pages} nextPageToken={list.data?.nextPageToken} />
          </div>
        </div>
      )}
    </>
  );
}
