import { useState } from "react";
import { api, lastSegment, query, type IdentityProvider } from "../api.ts";
import { CopyButton } from "../components/copy-button.tsx";
import { FormDialog } from "../components/dialog.tsx";
import { Icon } from "../components/icons.tsx";
import { Empty, ErrorNotice, Loading, PageHeader, RoleBadge } from "../components/ui.tsx";
import { useLoad, useTitle } from "../hooks.ts";
import { ID_INPUT_PATTERN } from "../ids.ts";
import { ROLES, type Role } from "../permissions.ts";
import { useSession, useToast } from "../session.tsx";
import { useAction } from "./user-dialogs.tsx";

interface Draft {
  id: string;
  displayName: string;
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  tenantDomains: string;
  enableJitUserProvisioning: boolean;
  jitDefaultRole: Role;
  enforceSso: boolean;
}

const blank: Draft = {
  id: "",
  displayName: "",
  issuerUrl: "",
  clientId: "",
  clientSecret: "",
  tenantDomains: "",
  enableJitUserProvisioning: false,
  jitDefaultRole: "inference-user",
  enforceSso: false,
};

function draftOf(idp: IdentityProvider): Draft {
  return {
    id: lastSegment(idp.name),
    displayName: idp.displayName,
    issuerUrl: idp.oidcConfig.issuerUrl,
    clientId: idp.oidcConfig.clientId,
    clientSecret: "",
    tenantDomains: idp.tenantDomains.join(", "),
    enableJitUserProvisioning: idp.enableJitUserProvisioning,
    jitDefaultRole: idp.jitDefaultRole,
    enforceSso: idp.enforceSso,
  };
}

/** Add (no `existing`) or edit a provider; an empty client secret on edit keeps the stored one. */
function ProviderDialog({ existing, onClose, onSaved }: { existing?: IdentityProvider; onClose: () => void; onSaved: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const [d, setD] = useState<Draft>(existing ? draftOf(existing) : blank);
  const action = useAction();
  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => setD((x) => ({ ...x, [field]: value }));
  const submit = () =>
    action.run(async () => {
      const body = {
        displayName: d.displayName.trim(),
        oidcConfig: { issuerUrl: d.issuerUrl.trim(), clientId: d.clientId.trim(), ...(d.clientSecret ? { clientSecret: d.clientSecret } : {}) },
        tenantDomains: d.tenantDomains
          .split(/[\s,]+/)
          .map((s) => s.trim())
          .filter(Boolean),
        enableJitUserProvisioning: d.enableJitUserProvisioning,
        jitDefaultRole: d.jitDefaultRole,
        enforceSso: d.enforceSso,
      };
      const base = `/v1/accounts/${accountId}/identityProviders`;
      if (existing) await api("PATCH", `${base}/${d.id}`, body);
      else await api("POST", `${base}${query({ identityProviderId: d.id.trim() })}`, body);
      toast(existing ? `Identity provider ${d.id} saved.` : `Identity provider ${d.id.trim()} added.`);
      onSaved();
    });
  return (
    <FormDialog
      title={existing ? `Edit ${existing.displayName || d.id}` : "Add an identity provider"}
      submitLabel={existing ? "Save" : "Add provider"}
      busy={action.busy}
      error={action.error}
      onClose={onClose}
      onSubmit={submit}
    >
      {!existing && (
        <div className="field">
          <label htmlFor="idp-id">ID</label>
          <input
            id="idp-id"
            value={d.id}
            onChange={(e) => set("id", e.target.value)}
            required
            maxLength={63}
            pattern={ID_INPUT_PATTERN}
            autoComplete="off"
            spellCheck={false}
            aria-describedby="idp-id-hint"
            data-autofocus
          />
          <p className="hint" id="idp-id-hint">
            Up to 63 lowercase letters, digits and “-”, starting with a letter and ending with a letter or digit, e.g. <code>corp-sso</code>.
          </p>
        </div>
      )}
      <div className="field">
        <label htmlFor="idp-name">Display name</label>
        <input id="idp-name" value={d.displayName} onChange={(e) => set("displayName", e.target.value)} placeholder="Corp SSO" autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor="idp-issuer">Issuer URL</label>
        <input
          id="idp-issuer"
          type="url"
          value={d.issuerUrl}
          onChange={(e) => set("issuerUrl", e.target.value)}
          required
          placeholder="https://login.example.com"
          autoComplete="off"
        />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="idp-client">Client ID</label>
          <input id="idp-client" value={d.clientId} onChange={(e) => set("clientId", e.target.value)} required autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor="idp-secret">Client secret</label>
          <input
            id="idp-secret"
            type="password"
            value={d.clientSecret}
            onChange={(e) => set("clientSecret", e.target.value)}
            autoComplete="new-password"
            aria-describedby="idp-secret-hint"
          />
          <p className="hint" id="idp-secret-hint">
            {existing ? "Leave empty to keep the stored secret." : "Stored sealed; never shown again."}
          </p>
        </div>
      </div>
      <div className="field">
        <label htmlFor="idp-domains">Tenant domains</label>
        <input
          id="idp-domains"
          value={d.tenantDomains}
          onChange={(e) => set("tenantDomains", e.target.value)}
          placeholder="corp.example, corp.example.org"
          autoComplete="off"
          aria-describedby="idp-domains-hint"
        />
        <p className="hint" id="idp-domains-hint">
          Emails of these domains may be created on first sign-in (empty: the account email's domain).
        </p>
      </div>
      <label className="check">
        <input type="checkbox" checked={d.enableJitUserProvisioning} onChange={(e) => set("enableJitUserProvisioning", e.target.checked)} />
        Create unknown people of these domains on first sign-in
      </label>
      {d.enableJitUserProvisioning && (
        <div className="field">
          <label htmlFor="idp-role">Their role</label>
          <select id="idp-role" value={d.jitDefaultRole} onChange={(e) => set("jitDefaultRole", e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
      )}
      <label className="check">
        <input type="checkbox" checked={d.enforceSso} onChange={(e) => set("enforceSso", e.target.checked)} />
        Enforce SSO: turn off one-time sign-in links for people (API keys keep working)
      </label>
    </FormDialog>
  );
}

function DeleteProviderDialog({ idp, onClose, onDeleted }: { idp: IdentityProvider; onClose: () => void; onDeleted: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const id = lastSegment(idp.name);
  const action = useAction();
  const submit = () =>
    action.run(async () => {
      await api("DELETE", `/v1/accounts/${accountId}/identityProviders/${id}`);
      toast(`Identity provider ${id} deleted.`);
      onDeleted();
    });
  return (
    <FormDialog
      title={`Delete the identity provider ${id}?`}
      submitLabel={`Delete ${id}`}
      danger
      busy={action.busy}
      error={action.error}
      onClose={onClose}
      onSubmit={submit}
    >
      <p className="dialog-text">
        Nobody can sign in through {idp.displayName || id} any more, and every browser session begun through it ends now. Users and their API keys stay.
      </p>
    </FormDialog>
  );
}

export function IdentityProvidersPage() {
  useTitle("Identity providers");
  const session = useSession();
  const list = useLoad(() => api<{ identityProviders?: IdentityProvider[] }>("GET", `/v1/accounts/${session.accountId}/identityProviders`), "idps");
  const [dialog, setDialog] = useState<{ kind: "add" } | { kind: "edit" | "delete"; idp: IdentityProvider }>();
  const mayCreate = session.can("identityProviders.create");
  const manage = session.can("identityProviders.update");
  const providers = list.data?.identityProviders ?? [];
  const callback = `${window.location.origin}/auth/oidc/callback`;
  const done = () => {
    setDialog(undefined);
    list.reload();
  };
  return (
    <>
      <PageHeader
        title="Identity providers"
        description="OIDC issuers people of this account sign in with. Service accounts never sign in; they use API keys."
        actions={
          mayCreate && (
            <button type="button" className="button button-primary" onClick={() => setDialog({ kind: "add" })}>
              <Icon name="plus" /> Add identity provider
            </button>
          )
        }
      />
      <div className="card callout">
        <p>
          Register this redirect URI with each provider: <code id="redirect-uri">{callback}</code>
        </p>
        <CopyButton text={callback} label="Copy URI" />
      </div>
      <ErrorNotice error={list.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading what="identity providers" />}
      {list.data && providers.length === 0 && (
        <Empty icon="shield" title="No identity provider yet">
          <p>Until one is added, people sign in with one-time links from the operator (`hearth signin-link`).</p>
        </Empty>
      )}
      <div className="idp-list">
        {providers.map((idp) => {
          const id = lastSegment(idp.name);
          return (
            <article key={idp.name} className="card idp" aria-labelledby={`idp-${id}`}>
              <div className="section-head">
                <div>
                  <h2 id={`idp-${id}`}>{idp.displayName || id}</h2>
                  <p className="mono muted">{id}</p>
                </div>
                {manage && (
                  <div className="row-actions">
                    <button
                      type="button"
                      className="button button-small"
                      onClick={() => setDialog({ kind: "edit", idp })}
                      aria-label={`Edit ${idp.displayName || id}`}
                    >
                      Edit
                    </button>
                    <button
                      type="button"
                      className="button button-small button-quiet danger-text"
                      onClick={() => setDialog({ kind: "delete", idp })}
                      aria-label={`Delete ${idp.displayName || id}`}
                    >
                      <Icon name="trash" size={16} /> Delete
                    </button>
                  </div>
                )}
              </div>
              <dl className="details details-inline">
                <div>
                  <dt>Issuer</dt>
                  <dd className="mono">{idp.oidcConfig.issuerUrl}</dd>
                </div>
                <div>
                  <dt>Client ID</dt>
                  <dd className="mono">{idp.oidcConfig.clientId}</dd>
                </div>
                <div>
                  <dt>Tenant domains</dt>
                  <dd>{idp.tenantDomains.length ? idp.tenantDomains.join(", ") : <span className="muted">the account email's domain</span>}</dd>
                </div>
                <div>
                  <dt>New people</dt>
                  <dd>
                    {idp.enableJitUserProvisioning ? (
                      <>
                        created on first sign-in as <RoleBadge role={idp.jitDefaultRole} />
                      </>
                    ) : (
                      "must be added by an admin first"
                    )}
                  </dd>
                </div>
                <div>
                  <dt>One-time links</dt>
                  <dd>{idp.enforceSso ? "off: SSO is enforced" : "allowed"}</dd>
                </div>
                <div>
                  <dt>Sign-in URL</dt>
                  <dd className="mono">{`/auth/oidc/${session.accountId}/${id}/start`}</dd>
                </div>
              </dl>
            </article>
          );
        })}
      </div>
      {dialog?.kind === "add" && <ProviderDialog onClose={() => setDialog(undefined)} onSaved={done} />}
      {dialog?.kind === "edit" && <ProviderDialog existing={dialog.idp} onClose={() => setDialog(undefined)} onSaved={done} />}
      {dialog?.kind === "delete" && <DeleteProviderDialog idp={dialog.idp} onClose={() => setDialog(undefined)} onDeleted={done} />}
    </>
  );
}
