import { useState, type FormEvent } from "react";
import { api, filterString, query, type AuditLog } from "../api.ts";
import { ChoiceField } from "../components/choice-field.tsx";
import { Dialog } from "../components/dialog.tsx";
import { Icon } from "../components/icons.tsx";
import { Pager, usePageTokens } from "../components/pager.tsx";
import { TableHead } from "../components/table-head.tsx";
import { Empty, ErrorNotice, Loading, PageHeader, ResourcePath, Time } from "../components/ui.tsx";
import { formatDateTimeSeconds, toLocalInput } from "../format.ts";
import { useLoad, useTitle } from "../hooks.ts";
import { Link, setSearch, useLocation } from "../router.tsx";
import { useSession } from "../session.tsx";
import "./audit-log.css";

const PAGE_SIZE = 25;
const HOUR = 3600 * 1000;

const RANGES: Array<{ value: string; label: string; ms?: number }> = [
  { value: "1h", label: "Last hour", ms: HOUR },
  { value: "24h", label: "Last 24 hours", ms: 24 * HOUR },
  { value: "7d", label: "Last 7 days", ms: 7 * 24 * HOUR },
  { value: "30d", label: "Last 30 days", ms: 30 * 24 * HOUR },
  { value: "custom", label: "Custom range…" },
];

/** Methods the audit log records, offered as suggestions (any method name can be typed). */
const METHODS = [
  "CreateUser",
  "UpdateUser",
  "DeleteUser",
  "CreateApiKey",
  "DeleteApiKey",
  "UpdateQuota",
  "SignIn",
  "SignOut",
  "RevokeSessions",
  "CreateIdentityProvider",
  "UpdateIdentityProvider",
  "DeleteIdentityProvider",
  "CreateDeployment",
  "DeleteDeployment",
  "CreateDataset",
  "DeleteDataset",
  "CreateModel",
  "DeleteModel",
];

interface Filters {
  range: string;
  from: string;
  to: string;
  principal: string;
  resource: string;
  method: string;
}

function readFilters(search: URLSearchParams): Filters {
  return {
    range: RANGES.some((r) => r.value === search.get("range")) ? search.get("range")! : "7d",
    from: search.get("from") ?? "",
    to: search.get("to") ?? "",
    principal: search.get("principal") ?? "",
    resource: search.get("resource") ?? "",
    method: search.get("method") ?? "",
  };
}

/**
 * AIP-160 clauses matching principals whose email starts with `prefix` (case-insensitive): the
 * range [prefix, prefix with its last character's successor), which the principal index serves.
 */
function principalPrefix(prefix: string): string[] {
  const p = prefix.trim().toLowerCase();
  if (!p) return [];
  const last = p.codePointAt(p.length - 1)!;
  const upper = p.slice(0, p.length - String.fromCodePoint(last).length) + String.fromCodePoint(last + 1);
  return [`principal>=${filterString(p)}`, `principal<${filterString(upper)}`];
}

/** The API's request for the filters: a time range and an AIP-160 filter (principal prefix, resource, method). */
function request(f: Filters, now: number): { startTime?: string; endTime?: string; filter?: string } {
  const preset = RANGES.find((r) => r.value === f.range);
  const parts: string[] = [...principalPrefix(f.principal)];
  if (f.resource.trim()) parts.push(`resource:${filterString(f.resource.trim())}`);
  if (f.method.trim()) parts.push(`method=${filterString(f.method.trim())}`);
  const range =
    preset?.ms !== undefined
      ? { startTime: new Date(now - preset.ms).toISOString() }
      : {
          ...(f.from ? { startTime: new Date(f.from).toISOString() } : {}),
          ...(f.to ? { endTime: new Date(f.to).toISOString() } : {}),
        };
  return { ...range, ...(parts.length ? { filter: parts.join(" AND ") } : {}) };
}

/** The console page of an entry's resource, when it has one (a user, a key's owner, a model…). */
function consolePath(resource: string): string | undefined {
  const m = /^accounts\/[^/]+\/(users|models|deployments|datasets|quotas|identityProviders)(?:\/([^/:]+))?/.exec(resource);
  if (!m) return undefined;
  const [, collection, id] = m;
  if (collection === "users") return id ? `/account/users/${id}` : "/account/users";
  if (collection === "quotas") return "/account/quotas";
  if (collection === "identityProviders") return "/account/identity-providers";
  return `/account/${collection}${id ? query({ q: id }) : ""}`;
}

/** The entry's google.rpc code name ("OK", "PERMISSION_DENIED", …), the same form as a resource's status. */
const succeeded = (status: AuditLog["status"]): boolean => status.code === "OK";

function StatusBadge({ status }: { status: AuditLog["status"] }) {
  return <span className={succeeded(status) ? "badge badge-ok" : "badge badge-error"}>{status.code}</span>;
}

/**
 * An email on one line on a laptop's screen; on a narrow one it may break before its `@`, never
 * inside a word (the domain is an inline block there: audit-log.css). Not `<wbr>`: Chromium breaks
 * at it even under `white-space: nowrap`.
 */
function EmailText({ email }: { email: string }) {
  const at = email.lastIndexOf("@");
  return (
    <span className="principal-text">
      {at <= 0 ? (
        email
      ) : (
        <>
          {email.slice(0, at)}
          <span className="email-domain">{email.slice(at)}</span>
        </>
      )}
    </span>
  );
}

/** An entry's resource name, linked to its console page when it has one. */
function ResourceLink({ resource }: { resource: string }) {
  const to = consolePath(resource);
  return to ? (
    <Link to={to}>
      <ResourcePath name={resource} />
    </Link>
  ) : (
    <ResourcePath name={resource} />
  );
}

function EntryDetails({ entry }: { entry: AuditLog }) {
  return (
    <div className="entry-details">
      <dl className="entry-fields">
        <div>
          <dt>Time</dt>
          <dd>
            <time dateTime={entry.timestamp}>{formatDateTimeSeconds(entry.timestamp)}</time> <span className="muted">({entry.timestamp})</span>
          </dd>
        </div>
        <div>
          <dt>Principal</dt>
          <dd>{entry.principal || "unauthenticated"}</dd>
        </div>
        <div>
          <dt>Method</dt>
          <dd>
            <code>{entry.method}</code>
          </dd>
        </div>
        <div>
          <dt>Resource</dt>
          <dd className="resource-cell">
            <ResourceLink resource={entry.resource} />
          </dd>
        </div>
        <div>
          <dt>Result</dt>
          <dd>{succeeded(entry.status) ? "OK" : entry.status.message}</dd>
        </div>
        <div>
          <dt>Credential</dt>
          <dd>{entry.apiKeyId ? <code>API key {entry.apiKeyId}</code> : "Browser session or ID token"}</dd>
        </div>
        <div>
          <dt>Client</dt>
          <dd>
            {entry.clientIp || "—"} <span className="muted">{entry.userAgent}</span>
          </dd>
        </div>
        <div>
          <dt>Entry</dt>
          <dd>
            <code>{entry.id}</code>
          </dd>
        </div>
      </dl>
      <h3 className="payload-title">Payload</h3>
      <pre className="payload" tabIndex={0} aria-label={`Payload of ${entry.method}`}>
        {entry.payload === undefined || entry.payload === null ? "(none)" : JSON.stringify(entry.payload, null, 2)}
      </pre>
    </div>
  );
}

export function AuditLogPage() {
  useTitle("Audit log");
  const session = useSession();
  const { search } = useLocation();
  const applied = readFilters(search);
  const [form, setForm] = useState<Filters>(applied);
  const [open, setOpen] = useState<AuditLog>();
  // The window of a preset range moves with time: it is fixed when the filters are applied.
  const [appliedAt, setAppliedAt] = useState(() => Date.now());
  const params = request(applied, appliedAt);
  const pages = usePageTokens(JSON.stringify(params));
  const pageToken = pages.pageToken;
  const list = useLoad(
    () =>
      api<{ auditLogs?: AuditLog[]; nextPageToken: string; totalSize: number }>(
        "GET",
        `/v1/accounts/${session.accountId}/auditLogs${query({ pageSize: PAGE_SIZE, pageToken, ...params })}`,
      ),
    JSON.stringify([params, pageToken]),
  );
  const entries = list.data?.auditLogs ?? [];
  const first = pages.index * PAGE_SIZE + 1;

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const f = { ...form };
    if (f.range === "custom" && !f.from) f.from = toLocalInput(new Date(Date.now() - 7 * 24 * HOUR));
    setForm(f);
    setAppliedAt(Date.now());
    setSearch({
      range: f.range,
      from: f.range === "custom" ? f.from : undefined,
      to: f.range === "custom" ? f.to : undefined,
      principal: f.principal,
      resource: f.resource,
      method: f.method,
    });
  };
  const reset = () => {
    const f = readFilters(new URLSearchParams());
    setForm(f);
    setAppliedAt(Date.now());
    setSearch({ range: undefined, from: undefined, to: undefined, principal: undefined, resource: undefined, method: undefined });
  };
  /** The export of every entry the applied filters match (not only this page), as a file. */
  const exportUrl = (format: "csv" | "jsonl") => `/v1/accounts/${session.accountId}/auditLogs:export${query({ format, ...params })}`;
  const set = (field: keyof Filters) => (event: { target: { value: string } }) => setForm((f) => ({ ...f, [field]: event.target.value }));

  return (
    <>
      <PageHeader
        title="Audit log"
        description={
          session.isAdmin
            ? "Every change, sign-in and refused attempt in the account, newest first, with the principal's email."
            : "Your own actions in the account, newest first. Admins see every principal's."
        }
      />
      <form className="card filters" onSubmit={apply} aria-label="Audit log filters">
        <ChoiceField id="audit-range" label="Time range" value={form.range} choices={RANGES} onChange={(range) => setForm((f) => ({ ...f, range }))} />
        {form.range === "custom" && (
          <>
            <div className="field">
              <label htmlFor="audit-from">From</label>
              <input id="audit-from" type="datetime-local" value={form.from} onChange={set("from")} />
            </div>
            <div className="field">
              <label htmlFor="audit-to">To</label>
              <input id="audit-to" type="datetime-local" value={form.to} onChange={set("to")} />
            </div>
          </>
        )}
        {session.isAdmin && (
          <div className="field">
            <label htmlFor="audit-principal">Principal starts with</label>
            <input id="audit-principal" value={form.principal} onChange={set("principal")} placeholder="ci-bot@" autoComplete="off" spellCheck={false} />
          </div>
        )}
        <div className="field">
          <label htmlFor="audit-resource">Resource contains</label>
          <input id="audit-resource" value={form.resource} onChange={set("resource")} placeholder="users/ci-bot" autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor="audit-method">Method</label>
          <input id="audit-method" list="audit-methods" value={form.method} onChange={set("method")} placeholder="CreateUser" autoComplete="off" />
          <datalist id="audit-methods">
            {METHODS.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </div>
        <div className="filters-actions">
          <button type="submit" className="button button-primary">
            Apply
          </button>
          <button type="button" className="button" onClick={reset}>
            Reset
          </button>
          <a className="button" href={exportUrl("csv")} download>
            <Icon name="download" size={16} /> Export CSV
          </a>
          <a className="button button-quiet" href={exportUrl("jsonl")} download>
            JSONL
            <span className="visually-hidden"> export</span>
          </a>
        </div>
      </form>

      <ErrorNotice error={list.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading what="the audit log" />}
      {list.data && entries.length === 0 && (
        <Empty icon="log" title="No entries">
          <p>Nothing was recorded for these filters. Widen the time range or clear a filter.</p>
        </Empty>
      )}
      {entries.length > 0 && (
        <div className="card table-card" aria-busy={list.loading}>
          <table className="table audit-table">
            <caption className="visually-hidden">Audit log entries</caption>
            <TableHead columns={["Time", "Principal", "Method", "Resource", "Result"]} hidden="Details" />
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.id} className={open?.id === entry.id ? "expanded" : undefined}>
                  <td className="time-cell" data-label="Time">
                    <Time iso={entry.timestamp} seconds stacked />
                  </td>
                  <td className="principal-cell" data-label="Principal">
                    {entry.principal ? <EmailText email={entry.principal} /> : <span className="muted">unauthenticated</span>}
                  </td>
                  <td className="method-cell" data-label="Method">
                    <code className="method">{entry.method}</code>
                    {entry.isAdminAction && <span className="badge badge-admin-action">admin</span>}
                  </td>
                  <td className="resource-cell" data-label="Resource">
                    <ResourceLink resource={entry.resource} />
                  </td>
                  <td data-label="Result">
                    <StatusBadge status={entry.status} />
                  </td>
                  <td className="row-actions">
                    <button type="button" className="button button-small button-quiet" aria-haspopup="dialog" onClick={() => setOpen(entry)}>
                      Details
                      <span className="visually-hidden">
                        {" "}
                        of {entry.method} at {formatDateTimeSeconds(entry.timestamp)}
                      </span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="table-footer">
            <span className="muted">
              {first}–{first + entries.length - 1} of {list.data?.totalSize ?? entries.length}
            </span>
            <Pager pages={pages} nextPageToken={list.data?.nextPageToken} labels={["Newer", "Older"]} always />
          </div>
        </div>
      )}
      {open && (
        <Dialog title={`${open.method} · ${formatDateTimeSeconds(open.timestamp)}`} onClose={() => setOpen(undefined)} drawer>
          <div className="dialog-body">
            <EntryDetails entry={open} />
          </div>
        </Dialog>
      )}
    </>
  );
}
