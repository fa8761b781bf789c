import { useState } from "react";
import { api, filterString, lastSegment, query, type User } from "../api.ts";
import { Icon } from "../components/icons.tsx";
import { Pager, usePageTokens } from "../components/pager.tsx";
import { ListStatus } from "../components/list-status.tsx";
import { SearchField } from "../components/search-field.tsx";
import { SelectFilter } from "../components/select-filter.tsx";
import { TableHead } from "../components/table-head.tsx";
import { Empty, KindBadge, PageHeader, PrincipalName, RoleBadge, Time } from "../components/ui.tsx";
import { useDebounced, useLoad, useTitle } from "../hooks.ts";
import { ROLES } from "../permissions.ts";
import { Link, navigate, setSearch, useLocation } from "../router.tsx";
import { useSession } from "../session.tsx";
import { AddUserDialog, ChangeRoleDialog, CreateServiceAccountDialog, DeleteUserDialog } from "./user-dialogs.tsx";
import "./users.css";

const PAGE_SIZE = 50;

type Kind = "all" | "human" | "service";

const KINDS: Array<{ kind: Kind; label: string }> = [
  { kind: "all", label: "All" },
  { kind: "human", label: "People" },
  { kind: "service", label: "Service accounts" },
];

/** The list's AIP-160 filter from the page's controls. */
function listFilter(kind: Kind, role: string, search: string): string {
  const parts: string[] = [];
  if (kind !== "all") parts.push(`service_account=${kind === "service"}`);
  if (role) parts.push(`role=${filterString(role)}`);
  const q = search.trim();
  if (q) parts.push(`(email:${filterString(q)} OR display_name:${filterString(q)} OR user_id:${filterString(q)})`);
  return parts.join(" AND ");
}

type Dialog = { kind: "create-sa" } | { kind: "add-user" } | { kind: "role"; user: User } | { kind: "delete"; user: User };

export function UsersPage() {
  useTitle("Users");
  const session = useSession();
  const { search } = useLocation();
  const kind = (KINDS.find((k) => k.kind === search.get("type"))?.kind ?? "all") as Kind;
  const role = ROLES.find((r) => r === search.get("role")) ?? "";
  const [text, setText] = useState(search.get("q") ?? "");
  const q = useDebounced(text, 250);
  const filter = listFilter(kind, role, q);
  const pages = usePageTokens(filter);
  const pageToken = pages.pageToken;
  const list = useLoad(
    () =>
      api<{ users?: User[]; nextPageToken: string; totalSize: number }>(
        "GET",
        `/v1/accounts/${session.accountId}/users${query({ pageSize: PAGE_SIZE, filter, pageToken, orderBy: "name" })}`,
      ),
    `${filter}|${pageToken}`,
  );
  const [dialog, setDialog] = useState<Dialog>();
  const mayCreate = session.can("users.create");
  const manage = session.can("users.update");

  const setKind = (k: Kind) => {
    setSearch({ type: k === "all" ? undefined : k });
  };
  const users = list.data?.users ?? [];
  const filtered = filter !== "";

  return (
    <>
      <PageHeader
        title="Users"
        description="People and service accounts of this account. Every principal has a role; service accounts act only through API keys."
        actions={
          mayCreate && (
            <>
              <button type="button" className="button" onClick={() => setDialog({ kind: "add-user" })}>
                <Icon name="person" /> Add person
              </button>
              <button type="button" className="button button-primary" onClick={() => setDialog({ kind: "create-sa" })}>
                <Icon name="plus" /> Create service account
              </button>
            </>
          )
        }
      />

      <div className="toolbar" role="search" aria-label="Users">
        <div className="segmented" role="group" aria-label="Show">
          {KINDS.map((k) => (
            <button key={k.kind} type="button" aria-pressed={kind === k.kind} onClick={() => setKind(k.kind)}>
              {k.label}
            </button>
          ))}
        </div>
        <SearchField
          id="user-search"
          label="Search by email, name or ID"
          value={text}
          onChange={(value) => {
            setText(value);
            setSearch({ q: value });
          }}
        />
        <SelectFilter id="role-filter" label="Role" anyLabel="Any role" options={ROLES} value={role} onChange={(value) => setSearch({ role: value })} />
        {(kind !== "all" || role || text) && (
          <button
            type="button"
            className="button button-small button-quiet"
            onClick={() => {
              setText("");
              setSearch({ type: undefined, role: undefined, q: undefined });
            }}
          >
            <Icon name="close" size={14} /> Clear filters
          </button>
        )}
      </div>

      <ListStatus list={list} count={users.length} what="users">
        <Empty icon={kind === "service" ? "bot" : "users"} title={filtered ? "No principal matches" : "No users yet"}>
          {filtered ? <p>Try another search or filter.</p> : mayCreate && <p>Create a service account for automation, or add the people of your team.</p>}
          {kind === "service" && !q && !role && mayCreate && (
            <button type="button" className="button button-primary" onClick={() => setDialog({ kind: "create-sa" })}>
              <Icon name="plus" /> Create service account
            </button>
          )}
        </Empty>
      </ListStatus>
      {users.length > 0 && (
        <div className="card table-card" aria-busy={list.loading}>
          <table className="table responsive users-table">
            <caption className="visually-hidden">
              {kind === "service" ? "Service accounts" : kind === "human" ? "People" : "Users and service accounts"}
            </caption>
            <TableHead columns={["Principal", "Type and role", "API keys", "Last active"]} hidden="Actions" />
            <tbody>
              {users.map((user) => {
                const id = lastSegment(user.name);
                const self = id === session.userId;
                return (
                  <tr key={user.name}>
                    <td data-label="Principal">
                      <Link to={`/account/users/${id}`} className="row-link">
                        <PrincipalName displayName={user.displayName} email={user.email} id={id} serviceAccount={user.serviceAccount} />
                      </Link>
                      {self && <span className="badge badge-you">you</span>}
                    </td>
                    <td data-label="Type and role">
                      <span className="type-role">
                        <KindBadge serviceAccount={user.serviceAccount} />
                        <RoleBadge role={user.role} />
                      </span>
                    </td>
                    <td data-label="API keys" className="numeric">
                      {self || session.isAdmin ? (
                        <Link to={`/account/users/${id}`} aria-label={`${user.apiKeyCount ?? 0} API keys of ${user.email}`}>
                          {user.apiKeyCount ?? 0}
                        </Link>
                      ) : (
                        (user.apiKeyCount ?? 0)
                      )}
                    </td>
                    <td data-label="Last active">
                      <Time iso={user.lastActiveTime} relative empty="Never" />
                      <span className="created">
                        created <Time iso={user.createTime} dateOnly />
                      </span>
                    </td>
                    <td className="row-actions">
                      {manage && (
                        <>
                          <button
                            type="button"
                            className="button button-small button-quiet"
                            onClick={() => setDialog({ kind: "role", user })}
                            aria-label={`Change role of ${user.email}`}
                          >
                            Change role
                          </button>
                          <button
                            type="button"
                            className="button button-small button-quiet danger-text"
                            onClick={() => setDialog({ kind: "delete", user })}
                            aria-label={`Delete ${user.email}`}
                            title="Delete"
                          >
                            <Icon name="trash" size={16} />
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <div className="table-footer">
            <span className="muted">
              {list.data?.totalSize === 1 ? "1 principal" : `${list.data?.totalSize ?? 0} principals`}
              {filtered && " match"}
            </span>
            <Pager pages={pages} nextPageToken={list.data?.nextPageToken} />
          </div>
        </div>
      )}

      {dialog?.kind === "create-sa" && (
        <CreateServiceAccountDialog onClose={() => setDialog(undefined)} onCreated={(user) => navigate(`/account/users/${lastSegment(user.name)}?created=1`)} />
      )}
      {dialog?.kind === "add-user" && (
        <AddUserDialog
          onClose={() => setDialog(undefined)}
          onCreated={() => {
            setDialog(undefined);
            list.reload();
          }}
        />
      )}
      {dialog?.kind === "role" && (
        <ChangeRoleDialog
          user={dialog.user}
          onClose={() => setDialog(undefined)}
          onChanged={() => {
            setDialog(undefined);
            list.reload();
          }}
        />
      )}
      {dialog?.kind === "delete" && (
        <DeleteUserDialog
          user={dialog.user}
          onClose={() => setDialog(undefined)}
          onDeleted={() => {
            setDialog(undefined);
            list.reload();
          }}
        />
      )}
    </>
  );
}
