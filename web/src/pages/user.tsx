import { useEffect, useState } from "react";
import { api, type User } from "../api.ts";
import { Icon } from "../components/icons.tsx";
import { Empty, ErrorNotice, KindBadge, Loading, PageHeader, RoleBadge, Time } from "../components/ui.tsx";
import { useAction, useLoad, useTitle } from "../hooks.ts";
import { Link, navigate, setSearch, useLocation } from "../router.tsx";
import { useSession, useToast } from "../session.tsx";
import { ApiKeysSection } from "./api-keys.tsx";
import { ChangeRoleDialog, DeleteUserDialog } from "./user-dialogs.tsx";

/** One principal: who it is, its role, and its API keys. */
export function UserPage({ userId }: { userId: string }) {
  const session = useSession();
  const toast = useToast();
  const self = userId === session.userId;
  useTitle(self ? "My API keys" : userId);
  const { search } = useLocation();
  // Straight after creating a service account the console offers its first key, once.
  const [justCreated] = useState(search.get("created") === "1");
  useEffect(() => {
    if (justCreated) setSearch({ created: undefined });
  }, [justCreated]);

  const loaded = useLoad(() => api<User>("GET", `/v1/accounts/${session.accountId}/users/${userId}`), userId);
  const [user, setUser] = useState<User>();
  useEffect(() => setUser(loaded.data), [loaded.data]);
  const [dialog, setDialog] = useState<"role" | "delete">();
  const revoke = useAction();
  const manage = session.can("users.update");

  if (loaded.error?.httpStatus === 404) {
    return (
      <>
        <PageHeader title="Not found" />
        <Empty icon="users" title={`No user “${userId}” in this account`}>
          <Link to="/account/users" className="button">
            Back to users
          </Link>
        </Empty>
      </>
    );
  }
  if (!user) {
    return (
      <>
        <ErrorNotice error={loaded.error} onRetry={loaded.reload} />
        {loaded.loading && <Loading what="the user" />}
      </>
    );
  }

  const endSessions = () =>
    revoke.run(async () => {
      await api("POST", `/v1/accounts/${session.accountId}/users/${userId}:revokeSessions`);
      toast(`Every browser session of ${user.email} has ended.`);
    });

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/account/users">Users</Link>
        <Icon name="chevron" size={14} />
        <span aria-current="page">{userId}</span>
      </nav>
      <PageHeader
        title={
          <>
            {user.displayName || (user.serviceAccount ? userId : user.email)}
            {self && <span className="badge badge-you">you</span>}
          </>
        }
        description={
          <span className="header-badges">
            <span className="mono">{user.email}</span>
            <KindBadge serviceAccount={user.serviceAccount} />
            <RoleBadge role={user.role} />
          </span>
        }
        actions={
          manage && (
            <>
              <button type="button" className="button" onClick={() => setDialog("role")}>
                Change role
              </button>
              {!user.serviceAccount && !self && (
                <button type="button" className="button" onClick={endSessions} disabled={revoke.busy}>
                  End sessions
                </button>
              )}
              <button type="button" className="button button-danger-outline" onClick={() => setDialog("delete")}>
                <Icon name="trash" /> Delete
              </button>
            </>
          )
        }
      />
      <ErrorNotice error={revoke.error} />

      <dl className="card details">
        <div>
          <dt>ID</dt>
          <dd className="mono">{userId}</dd>
        </div>
        <div>
          <dt>Type</dt>
          <dd>{user.serviceAccount ? "Service account: API keys only, never signs in" : "Person: signs in to the console"}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            <Time iso={user.createTime} />
          </dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd>
            <Time iso={user.updateTime} />
          </dd>
        </div>
      </dl>

      {self || session.can("apiKeys.listOthers") ? (
        <ApiKeysSection user={user} offerFirstKey={justCreated} />
      ) : (
        <section className="card section" aria-labelledby="keys-title">
          <h2 id="keys-title">API keys</h2>
          <p className="muted">Only {user.email} and the account's admins see these keys.</p>
        </section>
      )}

      {dialog === "role" && (
        <ChangeRoleDialog
          user={user}
          onClose={() => setDialog(undefined)}
          onChanged={(updated) => {
            setDialog(undefined);
            setUser(updated);
          }}
        />
      )}
      {dialog === "delete" && (
        <DeleteUserDialog user={user} onClose={() => setDialog(undefined)} onDeleted={() => navigate("/account/users", { replace: true })} />
      )}
    </>
  );
}
