import { useState } from "react";
import { api, listAll, lastSegment, query, type IdentityProvider } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { CopyButton } from "../components/copy-button.tsx";
import { DeleteButton } from "../components/delete-button.tsx";
import { Icon } from "../components/icons.tsx";
import { ListStatus } from "../components/list-status.tsx";
import { ResourceCard } from "../components/resource-card.tsx";
import { IdField, TextField } from "../components/text-field.tsx";
import { Empty, PageHeader, RoleBadge } from "../components/ui.tsx";
import { useLoad, useTitle } from "../hooks.ts";
import { ROLES, type Role } from "../permissions.ts";
import { useSession, useToast } from "../session.tsx";

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
  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => setD((x) => ({ ...x, [field]: value }));
  const submit = async () => {
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
  };
  return (
    <ActionDialog
      title={existing ? `Edit ${existing.displayName || d.id}` : "Add an identity provider"}
      submitLabel={existing ? "Save" : "Add provider"}
      onClose={onClose}
      onSubmit={submit}
    >
      {!existing && (
        <IdField id="idp-id" label="ID" value={d.id} onChange={(id) => set("id", id)} required>
          Up to 63 lowercase letters, digits and “-”, starting with a letter and ending with a letter or digit, e.g. <code>corp-sso</code>.
        </IdField>
      )}
      <TextField
        id="idp-name"
        label="Display name"
        value={d.displayName}
        onChange={(e) => set("displayName", e.target.value)}
        placeholder="Corp SSO"
        autoComplete="off"
      />
      <TextField
        id="idp-issuer"
        label="Issuer URL"
        type="url"
        value={d.issuerUrl}
        onChange={(e) => set("issuerUrl", e.target.value)}
        required
        placeholder="https://login.example.com"
        autoComplete="off"
      />
      <div className="field-row">
        <TextField id="idp-client" label="Client ID" value={d.clientId} onChange={(e) => set("clientId", e.target.value)} required autoComplete="off" />
        <TextField
          id="idp-secret"
          label="Client secret"
          hint={existing ? "Leave empty to keep the stored secret; a new issuer URL needs that issuer's secret." : "Stored sealed; never shown again."}
          type="password"
          value={d.clientSecret}
          onChange={(e) => set("clientSecret", e.target.value)}
          autoComplete="new-password"
        />
      </div>
      <TextField
        id="idp-domains"
        label="Tenant domains"
        hint="Emails of these domains may be created on first sign-in (empty: the account email's domain)."
        value={d.tenantDomains}
        onChange={(e) => set("tenantDomains", e.target.value)}
        placeholder="corp.example, corp.example.org"
        autoComplete="off"
      />
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
    </ActionDialog>
  );
}

function DeleteProviderDialog({ idp, onClose, onDeleted }: { idp: IdentityProvider; onClose: () => void; onDeleted: () => void }) {
  const { accountId } = useSession();
  const toast = useToast();
  const id = lastSegment(idp.name);
  const submit = async () => {
    await api("DELETE", `/v1/accounts/${accountId}/identityProviders/${id}`);
    toast(`Identity provider ${id} deleted.`);
    onDeleted();
  };
  return (
    <ActionDialog title={`Delete the identity provider ${id}?`} submitLabel={`Delete ${id}`} danger onClose={onClose} onSubmit={submit}>
      <p className="dialog-text">
        Nobody can sign in through {idp.displayName || id} any more, and every browser session begun through it ends now. Users and their API keys stay.
      </p>
    </ActionDialog>
  );
}

export function IdentityProvidersPage() {
  useTitle("Identity providers");
  const session = useSession();
  const list = useLoad(() => listAll<IdentityProvider>(`/v1/accounts/${session.accountId}/identityProviders`, "identityProviders"), "idps");
  const [dialog, setDialog] = useState<{ kind: "add" } | { kind: "edit" | "delete"; idp: IdentityProvider }>();
  const mayCreate = session.can("identityProviders.create");
  const manage = session.can("identityProviders.update");
  const providers = list.data ?? [];
  /** Each provider's own redirect URI (a shared one would let another account's provider relay this one's codes). */
  const callback = (id: string) => `${window.location.origin}/auth/oidc/callback/${session.accountId}/${id}`;
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
          Register each provider's own redirect URI with it: <code id="redirect-uri">{callback("PROVIDER_ID")}</code>, shown on its card below.
        </p>
      </div>
      <ListStatus list={list} count={providers.length} what="identity providers">
        <Empty icon="shield" title="No identity provider yet">
          <p>Until one is added, people sign in with one-time links from the operator (`hearth signin-link`).</p>
        </Empty>
      </ListStatus>
      <div className="idp-list">
        {providers.map((idp) => {
          const id = lastSegment(idp.name);
          return (
            <ResourceCard
              key={idp.name}
              headingId={`idp-${id}`}
              title={idp.displayName || id}
              id={id}
              actions={
                manage && (
                  <div className="row-actions">
                    <button
                      type="button"
                      className="button button-small"
                      onClick={() => setDialog({ kind: "edit", idp })}
                      aria-label={`Edit ${idp.displayName || id}`}
                    >
                      Edit
                    </button>
                    <DeleteButton label={`Delete ${idp.displayName || id}`} onClick={() => setDialog({ kind: "delete", idp })} />
                  </div>
                )
              }
            >
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
                  <dt>Redirect URI</dt>
                  <dd className="mono">
                    <span id={`redirect-uri-${id}`}>{callback(id)}</span> <CopyButton text={callback(id)} label="Copy URI" />
                  </dd>
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
            </ResourceCard>
          );
        })}
      </div>
      {dialog?.kind === "add" && <ProviderDialog onClose={() => setDialog(undefined)} onSaved={done} />}
      {dialog?.kind === "edit" && <ProviderDialog existing={dialog.idp} onClose={() => setDialog(undefined)} onSaved={done} />}
      {dialog?.kind === "delete" && <DeleteProviderDialog idp={dialog.idp} onClose={() => setDialog(undefined)} onDeleted={done} />}
    </>
  );
}
