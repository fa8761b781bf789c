import { useState } from "react";
import type { Deployment } from "../../../src/http/resources/deployment.ts";
import type { Model } from "../../../src/http/resources/model.ts";
import { api, filterString, lastSegment, query } from "../api.ts";
import { FormDialog } from "../components/dialog.tsx";
import { Icon } from "../components/icons.tsx";
import { Empty, ErrorNotice, Loading, PageHeader, ResourcePath, Time } from "../components/ui.tsx";
import { useDebounced, useLoad, useTitle } from "../hooks.ts";
import { ID_INPUT_PATTERN } from "../ids.ts";
import { setSearch, useLocation } from "../router.tsx";
import { useSession, useToast } from "../session.tsx";
import { DeleteDialog, mayChange, SearchField, StateBadge, textFilter } from "./platform-common.tsx";
import { useAction } from "./user-dialogs.tsx";

const PAGE_SIZE = 50;

/** The states a list can be filtered by (DELETED ones show with "Show deleted"). */
const STATES = ["CREATING", "READY", "FAILED"] as const;

type Dialog =
  { kind: "create" } | { kind: "edit"; deployment: Deployment } | { kind: "scale"; deployment: Deployment } | { kind: "delete"; deployment: Deployment };

/** Creates a deployment of a model, or (with `deployment`) edits its names and replica bounds. */
function DeploymentDialog({ deployment, onClose, onSaved }: { deployment?: Deployment; onClose: () => void; onSaved: () => void }) {
  const session = useSession();
  const toast = useToast();
  const action = useAction();
  const models = useLoad(() => api<{ models?: Model[] }>("GET", `/v1/accounts/${session.accountId}/models${query({ pageSize: 200 })}`), "models");
  const [id, setId] = useState("");
  const [baseModel, setBaseModel] = useState(deployment?.baseModel ?? "");
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
  const save = () =>
    action.run(async () => {
      if (deployment) await api("PATCH", `/v1/${deployment.name}`, fields);
      else await api("POST", `/v1/accounts/${session.accountId}/deployments${query({ deploymentId: id.trim() })}`, fields);
      toast(deployment ? `Saved deployment ${lastSegment(deployment.name)}` : `Created deployment ${id.trim() || ""}`.trim());
      onSaved();
    });
  return (
    <FormDialog
      title={deployment ? `Edit deployment ${lastSegment(deployment.name)}` : "Create deployment"}
      submitLabel={deployment ? "Save" : "Create deployment"}
      busy={action.busy}
      error={action.error}
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
      </div>
      <div className="field">
        <label htmlFor="deployment-name">
          Display name <span className="optional">(optional)</span>
        </label>
        <input id="deployment-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={63} autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor="deployment-description">
          Description <span className="optional">(optional)</span>
        </label>
        <input id="deployment-description" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={1000} autoComplete="off" />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="deployment-min">Minimum replicas</label>
          <input id="deployment-min" type="number" min={0} step={1} value={minReplicas} onChange={(e) => setMinReplicas(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="deployment-max">Maximum replicas</label>
          <input id="deployment-max" type="number" min={0} step={1} value={maxReplicas} onChange={(e) => setMaxReplicas(e.target.value)} />
        </div>
      </div>
      <p className="hint">Replica settings are the desired state the platform's scheduler reads; the scale stays within these bounds.</p>
    </FormDialog>
  );
}

/** Sets the replica count a deployment asks for (`:scale`), within its bounds. */
function ScaleDialog({ deployment, onClose, onSaved }: { deployment: Deployment; onClose: () => void; onSaved: () => void }) {
  const toast = useToast();
  const action = useAction();
  const [count, setCount] = useState(String(deployment.replicaCount));
  const id = lastSegment(deployment.name);
  return (
    <FormDialog
      title={`Scale deployment ${id}`}
      submitLabel="Scale"
      busy={action.busy}
      error={action.error}
      onClose={onClose}
      onSubmit={() =>
        action.run(async () => {
          await api("PATCH", `/v1/${deployment.name}:scale`, { replicaCount: Number(count) });
          toast(`Scaled deployment ${id} to ${count} replicas`);
          onSaved();
        })
      }
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
    </FormDialog>
  );
}

/** `/account/deployments`: deployments with state, failure reason, replica settings and scale; create, edit, scale, delete and restore as the role allows. */
export function DeploymentsPage() {
  useTitle("Deployments");
  const session = useSession();
  const toast = useToast();
  const restore = useAction();
  const { search } = useLocation();
  const [text, setText] = useState(search.get("q") ?? "");
  const q = useDebounced(text, 250);
  const state = STATES.find((s) => s === search.get("state")) ?? "";
  const showDeleted = search.get("deleted") === "1";
  const [pageToken, setPageToken] = useState("");
  const filter = [...textFilter("deployment_id", q), ...(state ? [`state=${filterString(state)}`] : [])].join(" AND ");
  const list = useLoad(
    () =>
      api<{ deployments?: Deployment[]; nextPageToken: string; totalSize: number }>(
        "GET",
        `/v1/accounts/${session.accountId}/deployments${query({ pageSize: PAGE_SIZE, filter, pageToken, showDeleted: showDeleted ? "true" : undefined })}`,
      ),
    `${filter}|${pageToken}|${showDeleted}`,
  );
  const [dialog, setDialog] = useState<Dialog>();
  const deployments = list.data?.deployments ?? [];
  const close = () => setDialog(undefined);
  const saved = () => {
    setDialog(undefined);
    list.reload();
  };
  const undelete = (d: Deployment) =>
    restore.run(async () => {
      await api("POST", `/v1/${d.name}:undelete`, {});
      toast(`Restored deployment ${lastSegment(d.name)}`);
      list.reload();
    });

  return (
    <>
      <PageHeader
        title="Deployments"
        description="Models deployed on a backend: each is probed when created or changed, so its state says whether the backend answers, and why not."
        actions={
          session.can("deployments.create") && (
            <button type="button" className="button button-primary" onClick={() => setDialog({ kind: "create" })}>
              <Icon name="plus" /> Create deployment
            </button>
          )
        }
      />
      <div className="toolbar" role="search" aria-label="Deployments">
        <SearchField
          id="deployment-search"
          label="Search by ID or name"
          value={text}
          onChange={(value) => {
            setText(value);
            setPageToken("");
            setSearch({ q: value });
          }}
        />
        <div className="select-field">
          <label htmlFor="deployment-state">State</label>
          <select
            id="deployment-state"
            value={state}
            onChange={(e) => {
              setPageToken("");
              setSearch({ state: e.target.value });
            }}
          >
            <option value="">Any state</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <label className="check-field">
          <input type="checkbox" checked={showDeleted} onChange={(e) => setSearch({ deleted: e.target.checked ? "1" : undefined })} /> Show deleted
        </label>
      </div>
      <ErrorNotice error={list.error ?? restore.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading what="deployments" />}
      {list.data && deployments.length === 0 && (
        <Empty icon="server" title={filter ? "No deployment matches" : "No deployments yet"}>
          <p>{filter ? "Try another search or state." : "A deployment serves one of the account's models on a backend."}</p>
        </Empty>
      )}
      {deployments.length > 0 && (
        <div className="card table-card" aria-busy={list.loading}>
          <table className="table responsive">
            <caption className="visually-hidden">Deployments</caption>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">State</th>
                <th scope="col">Base model</th>
                <th scope="col">Replicas</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deployments.map((d) => {
                const id = lastSegment(d.name);
                const change = mayChange(session, "deployments", d.createdBy);
                const deleted = d.state === "DELETED";
                return (
                  <tr key={d.name}>
                    <td data-label="Deployment">
                      <span className="principal">
                        <span className="principal-name">{d.displayName || id}</span>
                        <span className="key-id resource-path">
                          <ResourcePath name={d.name} />
                        </span>
                      </span>
                    </td>
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
                          <button
                            type="button"
                            className="button button-small button-quiet"
                            onClick={() => setDialog({ kind: "edit", deployment: d })}
                            aria-label={`Edit deployment ${id}`}
                          >
                            Edit
                          </button>
                          <button
                            type="button"
                            className="button button-small button-quiet danger-text"
                            onClick={() => setDialog({ kind: "delete", deployment: d })}
                            aria-label={`Delete deployment ${id}`}
                          >
                            <Icon name="trash" size={16} /> Delete
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
            <span className="muted">{list.data?.totalSize === 1 ? "1 deployment" : `${list.data?.totalSize ?? 0} deployments`}</span>
            {list.data?.nextPageToken && (
              <button type="button" className="button button-small" onClick={() => setPageToken(list.data!.nextPageToken)}>
                Next
              </button>
            )}
          </div>
        </div>
      )}
      {dialog?.kind === "create" && <DeploymentDialog onClose={close} onSaved={saved} />}
      {dialog?.kind === "edit" && <DeploymentDialog deployment={dialog.deployment} onClose={close} onSaved={saved} />}
      {dialog?.kind === "scale" && <ScaleDialog deployment={dialog.deployment} onClose={close} onSaved={saved} />}
      {dialog?.kind === "delete" && (
        <DeleteDialog name={dialog.deployment.name} what="deployment" onClose={close} onDeleted={saved}>
          It stops serving and shows as DELETED, restorable until the operator's retention period ends.
        </DeleteDialog>
      )}
    </>
  );
}
