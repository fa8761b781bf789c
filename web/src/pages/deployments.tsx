import { useState } from "react";
import type { Deployment } from "../../../src/http/resources/deployment.ts";
import type { Model } from "../../../src/http/resources/model.ts";
import { api, lastSegment, query } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { DisplayNameField, TextField } from "../components/text-field.tsx";
import { ResourcePath, Time } from "../components/ui.tsx";
import { useAction, useDebounced, useLoad, useTitle } from "../hooks.ts";
import { ID_INPUT_PATTERN } from "../ids.ts";
import { setSearch, useLocation } from "../router.tsx";
import { useSession, useToast } from "../session.tsx";
import { DeleteDialog, EditDeleteButtons, StateBadge, textFilter } from "./platform-common.tsx";
import { PlatformListPage, usePlatformList } from "./platform-list.tsx";

/** How many models the base-model field suggests for what is typed. */
const SUGGESTIONS = 20;

/** The states a list can be filtered by (DELETED ones show with "Show deleted"). */
const STATES = ["CREATING", "READY", "FAILED"] as const;

type Dialog =
  { kind: "create" } | { kind: "edit"; deployment: Deployment } | { kind: "scale"; deployment: Deployment } | { kind: "delete"; deployment: Deployment };

/** Creates a deployment of a model, or (with `deployment`) edits its names and replica bounds. */
function DeploymentDialog({ deployment, onClose, onSaved }: { deployment?: Deployment; onClose: () => void; onSaved: () => void }) {
  const session = useSession();
  const toast = useToast();
  const [id, setId] = useState("");
  const [baseModel, setBaseModel] = useState(deployment?.baseModel ?? "");
  // Suggestions: the account's models whose id or display name holds what is typed (its last
  // segment, so a full name being typed still matches), 20 at a time, however many models there are.
  const typed = lastSegment(useDebounced(baseModel, 250).trim());
  const modelFilter = textFilter("model_id", typed).join("");
  const models = useLoad(
    () => api<{ models?: Model[] }>("GET", `/v1/accounts/${session.accountId}/models${query({ pageSize: SUGGESTIONS, filter: modelFilter })}`),
    `models|${modelFilter}`,
  );
  const [displayName, setDisplayName] = useState(deployment?.displayName ?? "");
  const [description, setDescription] = useState(deployment?.description ?? "");
  const [minReplicas, setMinReplicas] = useState(String(deployment?.minReplicaCount ?? 0));
  const [maxReplicas, setMaxReplicas] = useState(String(deployment?.maxReplicaCount ?? 1));
  const fields = {
    baseModel: baseModel.trim(),
    displayName,
    description,
    minReplicaCount: Number(minReplicas || 0),
    maxReplicaCount: Number(maxReplicas || 0),
  };
  const save = async () => {
    if (deployment) await api("PATCH", `/v1/${deployment.name}`, fields);
    else await api("POST", `/v1/accounts/${session.accountId}/deployments${query({ deploymentId: id.trim() })}`, fields);
    toast(deployment ? `Saved deployment ${lastSegment(deployment.name)}` : `Created deployment ${id.trim() || ""}`.trim());
    onSaved();
  };
  return (
    <ActionDialog
      title={deployment ? `Edit deployment ${lastSegment(deployment.name)}` : "Create deployment"}
      submitLabel={deployment ? "Save" : "Create deployment"}
      onClose={onClose}
      onSubmit={save}
    >
      {!deployment && (
        <div className="field">
          <label htmlFor="deployment-id">
            Deployment ID <span className="optional">(optional)</span>
          </label>
          <input
            id="deployment-id"
            value={id}
            onChange={(e) => setId(e.target.value)}
            pattern={ID_INPUT_PATTERN}
            maxLength={63}
            autoComplete="off"
            spellCheck={false}
          />
          <p className="hint">Generated when empty.</p>
        </div>
      )}
      <div className="field">
        <label htmlFor="deployment-model">Base model</label>
        <input
          id="deployment-model"
          list="deployment-models"
          value={baseModel}
          onChange={(e) => setBaseModel(e.target.value)}
          required
          placeholder="accounts/my-account/models/my-model"
          autoComplete="off"
          spellCheck={false}
        />
        <datalist id="deployment-models">
          {(models.data?.models ?? []).map((m) => (
            <option key={m.name} value={m.name} />
          ))}
        </datalist>
        <p className="hint">Suggests this account's models whose ID or name holds what you type.</p>
      </div>
      <DisplayNameField id="deployment-name" value={displayName} onChange={setDisplayName} />
      <TextField
        id="deployment-description"
        label={
          <>
            Description <span className="optional">(optional)</span>
          </>
        }
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        maxLength={1000}
        autoComplete="off"
      />
      <div className="field-row">
        <TextField
          id="deployment-min"
          label="Minimum replicas"
          type="number"
          min={0}
          step={1}
          value={minReplicas}
          onChange={(e) => setMinReplicas(e.target.value)}
        />
        <TextField
          id="deployment-max"
          label="Maximum replicas"
          type="number"
          min={0}
          step={1}
          value={maxReplicas}
          onChange={(e) => setMaxReplicas(e.target.value)}
        />
      </div>
      <p className="hint">Replica settings are the desired state the platform's scheduler reads; the scale stays within these bounds.</p>
    </ActionDialog>
  );
}

/**
 * A deployment's serving options as short labels, in Fireworks' words (domain/deployment-options.ts):
 * precision, placement, add-ons, speculative decoding, session affinity, long-prompt tuning, hot
 * load, multi-token prediction and the longest context; nothing for an option left unset.
 */
function servingLabels(d: Deployment): string[] {
  const labels: string[] = [];
  if (d.precision) labels.push(d.precision);
  const place = d.placement;
  const where = place?.multiRegion ?? place?.region ?? place?.regions?.join(" or ");
  if (where) labels.push(where);
  if (d.enableAddons) labels.push(d.enableHotReloadLatestAddon ? "add-ons (hot reload)" : "add-ons");
  if (d.draftModel) labels.push(`draft ${lastSegment(d.draftModel)}${d.draftTokenCount ? ` × ${d.draftTokenCount} tokens` : ""}`);
  else if (d.ngramSpeculationLength) labels.push(`n-gram speculation ${d.ngramSpeculationLength}`);
  if (d.enableSessionAffinity) labels.push("session affinity");
  if (d.autoTune?.longPrompt) labels.push("long prompt");
  if (d.enableHotLoad) labels.push("hot load");
  if (d.enableMtp) labels.push("MTP");
  if (d.maxContextLength) labels.push(`${d.maxContextLength.toLocaleString("en-US")}-token context`);
  return labels;
}

/** Sets the replica count a deployment asks for (`:scale`), within its bounds. */
function ScaleDialog({ deployment, onClose, onSaved }: { deployment: Deployment; onClose: () => void; onSaved: () => void }) {
  const toast = useToast();
  const [count, setCount] = useState(String(deployment.replicaCount));
  const id = lastSegment(deployment.name);
  return (
    <ActionDialog
      title={`Scale deployment ${id}`}
      submitLabel="Scale"
      onClose={onClose}
      onSubmit={async () => {
        await api("PATCH", `/v1/${deployment.name}:scale`, { replicaCount: Number(count) });
        toast(`Scaled deployment ${id} to ${count} replicas`);
        onSaved();
      }}
    >
      <div className="field">
        <label htmlFor="scale-count">Replicas</label>
        <input
          id="scale-count"
          type="number"
          min={deployment.minReplicaCount}
          max={deployment.maxReplicaCount}
          step={1}
          value={count}
          onChange={(e) => setCount(e.target.value)}
          required
        />
        <p className="hint">
          From {deployment.minReplicaCount} to {deployment.maxReplicaCount}, the deployment's bounds.
        </p>
      </div>
    </ActionDialog>
  );
}

/** `/account/deployments`: deployments with state, failure reason, replica settings, serving options and scale; create, edit, scale, delete and restore as the role allows. */
export function DeploymentsPage() {
  useTitle("Deployments");
  const session = useSession();
  const toast = useToast();
  const restore = useAction();
  const { search } = useLocation();
  const showDeleted = search.get("deleted") === "1";
  const page = usePlatformList<Deployment, Dialog>("deployments", "deployment_id", {
    states: STATES,
    params: { showDeleted: showDeleted ? "true" : undefined },
  });
  const { list, dialog, setDialog, close, saved } = page;
  const undelete = (d: Deployment) =>
    restore.run(async () => {
      await api("POST", `/v1/${d.name}:undelete`, {});
      toast(`Restored deployment ${lastSegment(d.name)}`);
      list.reload();
    });

  return (
    <PlatformListPage
      page={page}
      title="Deployments"
      description="Models deployed on a backend: each is probed when created or changed, so its state says whether the backend answers, and why not."
      noun="deployment"
      plural="deployments"
      create={session.can("deployments.create") && { label: "Create deployment", onClick: () => setDialog({ kind: "create" }) }}
      searchId="deployment-search"
      filters={
        <label className="check-field">
          <input type="checkbox" checked={showDeleted} onChange={(e) => setSearch({ deleted: e.target.checked ? "1" : undefined })} /> Show deleted
        </label>
      }
      error={restore.error}
      emptyIcon="server"
      emptyHint="A deployment serves one of the account's models on a backend."
      filteredHint="Try another search or state."
      columns={["Deployment", "State", "Base model", "Replicas", "Updated"]}
      row={(d, id, change) => {
        const deleted = d.state === "DELETED";
        const serving = servingLabels(d).join(" · ");
        return (
          <>
            <td data-label="State">
              <StateBadge state={d.state} />
              {d.state === "FAILED" && d.status.message && <p className="failure-reason">{d.status.message}</p>}
              {deleted && d.purgeTime && (
                <p className="hint">
                  Purged <Time iso={d.purgeTime} relative />
                </p>
              )}
            </td>
            <td data-label="Base model" className="mono resource-path">
              <ResourcePath name={d.baseModel} />
              <span className="key-id">backend {d.backend}</span>
            </td>
            <td data-label="Replicas" className="nowrap">
              <strong>{d.replicaCount}</strong>{" "}
              <span className="muted">
                ({d.minReplicaCount}–{d.maxReplicaCount})
              </span>
              {d.acceleratorType && <span className="key-id">{`${d.acceleratorCount ?? 1} × ${d.acceleratorType}`}</span>}
              {serving && (
                <span className="key-id" title="Serving options">
                  {serving}
                </span>
              )}
            </td>
            <td data-label="Updated" className="nowrap">
              <Time iso={d.updateTime} />
              <span className="key-id">{d.createdBy}</span>
            </td>
            <td className="row-actions">
              {change && deleted && (
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => undelete(d)}
                  disabled={restore.busy}
                  aria-label={`Restore deployment ${id}`}
                >
                  Restore
                </button>
              )}
              {change && !deleted && (
                <>
                  <button
                    type="button"
                    className="button button-small button-quiet"
                    onClick={() => setDialog({ kind: "scale", deployment: d })}
                    aria-label={`Scale deployment ${id}`}
                  >
                    Scale
                  </button>
                  <EditDeleteButtons
                    what="deployment"
                    id={id}
                    onEdit={() => setDialog({ kind: "edit", deployment: d })}
                    onDelete={() => setDialog({ kind: "delete", deployment: d })}
                  />
                </>
              )}
            </td>
          </>
        );
      }}
    >
      {dialog?.kind === "create" && <DeploymentDialog onClose={close} onSaved={saved} />}
      {dialog?.kind === "edit" && <DeploymentDialog deployment={dialog.deployment} onClose={close} onSaved={saved} />}
      {dialog?.kind === "scale" && <ScaleDialog deployment={dialog.deployment} onClose={close} onSaved={saved} />}
      {dialog?.kind === "delete" && (
        <DeleteDialog name={dialog.deployment.name} what="deployment" onClose={close} onDeleted={saved}>
          It stops serving and shows as DELETED, restorable until the operator's retention period ends.
        </DeleteDialog>
      )}
    </PlatformListPage>
  );
}
