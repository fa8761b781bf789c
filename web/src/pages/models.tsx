import { useState } from "react";
import type { Model } from "../../../src/http/resources/model.ts";
import { api, filterString, lastSegment, query } from "../api.ts";
import { FormDialog } from "../components/dialog.tsx";
import { Icon } from "../components/icons.tsx";
import { Empty, ErrorNotice, Loading, PageHeader, ResourcePath, Time } from "../components/ui.tsx";
import { formatUsd } from "../format.ts";
import { useDebounced, useLoad, useTitle } from "../hooks.ts";
import { ID_INPUT_PATTERN } from "../ids.ts";
import { setSearch, useLocation } from "../router.tsx";
import { useSession, useToast } from "../session.tsx";
import { DeleteDialog, mayChange, SearchField, StateBadge, textFilter } from "./platform-common.tsx";
import { useAction } from "./user-dialogs.tsx";

const PAGE_SIZE = 50;

type Dialog = { kind: "create" } | { kind: "edit"; model: Model } | { kind: "delete"; model: Model };

/** The fields a person sets on a model; prices are USD per million tokens. */
interface ModelForm {
  modelId: string;
  displayName: string;
  description: string;
  backend: string;
  upstreamModel: string;
  inputPrice: string;
  outputPrice: string;
}

const formOf = (m?: Model): ModelForm => ({
  modelId: m ? lastSegment(m.name) : "",
  displayName: m?.displayName ?? "",
  description: m?.description ?? "",
  backend: m?.backend ?? "",
  upstreamModel: m?.upstreamModel ?? "",
  inputPrice: m ? String(m.inputPricePerMillionTokens) : "0",
  outputPrice: m ? String(m.outputPricePerMillionTokens) : "0",
});

/** Creates a model, or (with `model`) updates every field but its id. */
function ModelDialog({ model, onClose, onSaved }: { model?: Model; onClose: () => void; onSaved: () => void }) {
  const session = useSession();
  const toast = useToast();
  const action = useAction();
  const [form, setForm] = useState(() => formOf(model));
  const set = (field: keyof ModelForm) => (event: { target: { value: string } }) => setForm((f) => ({ ...f, [field]: event.target.value }));
  const fields = {
    displayName: form.displayName,
    description: form.description,
    ...(form.backend.trim() ? { backend: form.backend.trim() } : {}),
    ...(form.upstreamModel.trim() || model ? { upstreamModel: form.upstreamModel.trim() } : {}),
    inputPricePerMillionTokens: Number(form.inputPrice || 0),
    outputPricePerMillionTokens: Number(form.outputPrice || 0),
  };
  const save = () =>
    action.run(async () => {
      if (model) await api("PATCH", `/v1/${model.name}`, fields);
      else await api("POST", `/v1/accounts/${session.accountId}/models${query({ modelId: form.modelId.trim() })}`, fields);
      toast(model ? `Saved model ${lastSegment(model.name)}` : `Created model ${form.modelId.trim()}`);
      onSaved();
    });
  return (
    <FormDialog
      title={model ? `Edit model ${lastSegment(model.name)}` : "Create model"}
      submitLabel={model ? "Save" : "Create model"}
      busy={action.busy}
      error={action.error}
      onClose={onClose}
      onSubmit={save}
    >
      {!model && (
        <div className="field">
          <label htmlFor="model-id">Model ID</label>
          <input
            id="model-id"
            value={form.modelId}
            onChange={set("modelId")}
            required
            pattern={ID_INPUT_PATTERN}
            maxLength={63}
            autoComplete="off"
            spellCheck={false}
          />
          <p className="hint">Lowercase letters, digits and hyphens; it names the model in inference calls.</p>
        </div>
      )}
      <div className="field">
        <label htmlFor="model-name">
          Display name <span className="optional">(optional)</span>
        </label>
        <input id="model-name" value={form.displayName} onChange={set("displayName")} maxLength={63} autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor="model-description">
          Description <span className="optional">(optional)</span>
        </label>
        <input id="model-description" value={form.description} onChange={set("description")} maxLength={1000} autoComplete="off" />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="model-backend">Backend</label>
          <input
            id="model-backend"
            value={form.backend}
            onChange={set("backend")}
            placeholder="the only one, when empty"
            autoComplete="off"
            spellCheck={false}
          />
        </div>
        <div className="field">
          <label htmlFor="model-upstream">
            Upstream model <span className="optional">(optional)</span>
          </label>
          <input
            id="model-upstream"
            value={form.upstreamModel}
            onChange={set("upstreamModel")}
            placeholder="the model ID"
            autoComplete="off"
            spellCheck={false}
          />
        </div>
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="model-input-price">Input price (USD per million tokens)</label>
          <input id="model-input-price" type="number" min={0} step="any" value={form.inputPrice} onChange={set("inputPrice")} />
        </div>
        <div className="field">
          <label htmlFor="model-output-price">Output price (USD per million tokens)</label>
          <input id="model-output-price" type="number" min={0} step="any" value={form.outputPrice} onChange={set("outputPrice")} />
        </div>
      </div>
    </FormDialog>
  );
}

/** `/account/models`: the account's models with their backend and prices; create, edit and delete as the role allows. */
export function ModelsPage() {
  useTitle("Models");
  const session = useSession();
  const { search } = useLocation();
  const [text, setText] = useState(search.get("q") ?? "");
  const q = useDebounced(text, 250);
  const mine = search.get("mine") === "1";
  const [pageToken, setPageToken] = useState("");
  const filter = [...textFilter("model_id", q), ...(mine ? [`created_by=${filterString(session.email)}`] : [])].join(" AND ");
  const list = useLoad(
    () =>
      api<{ models?: Model[]; nextPageToken: string; totalSize: number }>(
        "GET",
        `/v1/accounts/${session.accountId}/models${query({ pageSize: PAGE_SIZE, filter, pageToken })}`,
      ),
    `${filter}|${pageToken}`,
  );
  const [dialog, setDialog] = useState<Dialog>();
  const models = list.data?.models ?? [];
  const close = () => setDialog(undefined);
  const saved = () => {
    setDialog(undefined);
    list.reload();
  };

  return (
    <>
      <PageHeader
        title="Models"
        description="The account's models: each names a configured backend and the model there, with its prices for metering. Inference calls name a model as accounts/{account}/models/{id}."
        actions={
          session.can("models.create") && (
            <button type="button" className="button button-primary" onClick={() => setDialog({ kind: "create" })}>
              <Icon name="plus" /> Create model
            </button>
          )
        }
      />
      <div className="toolbar" role="search" aria-label="Models">
        <SearchField
          id="model-search"
          label="Search by ID or name"
          value={text}
          onChange={(value) => {
            setText(value);
            setPageToken("");
            setSearch({ q: value });
          }}
        />
        <label className="check-field">
          <input type="checkbox" checked={mine} onChange={(e) => setSearch({ mine: e.target.checked ? "1" : undefined })} /> Created by me
        </label>
      </div>
      <ErrorNotice error={list.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading what="models" />}
      {list.data && models.length === 0 && (
        <Empty icon="cube" title={filter ? "No model matches" : "No models yet"}>
          <p>
            {filter
              ? "Try another search."
              : "Public models of the operator's catalogue serve inference without one; create a model to name your own backend's."}
          </p>
        </Empty>
      )}
      {models.length > 0 && (
        <div className="card table-card" aria-busy={list.loading}>
          <table className="table responsive">
            <caption className="visually-hidden">Models</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">State</th>
                <th scope="col">Backend</th>
                <th scope="col">Prices per million tokens</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {models.map((m) => {
                const id = lastSegment(m.name);
                const change = mayChange(session, "models", m.createdBy);
                return (
                  <tr key={m.name}>
                    <td data-label="Model">
                      <span className="principal">
                        <span className="principal-name">{m.displayName || id}</span>
                        <span className="key-id resource-path">
                          <ResourcePath name={m.name} />
                        </span>
                      </span>
                    </td>
                    <td data-label="State">
                      <StateBadge state={m.state} />
                    </td>
                    <td data-label="Backend" className="mono">
                      {m.backend}
                      <span className="key-id">{m.upstreamModel}</span>
                    </td>
                    <td data-label="Prices" className="nowrap">
                      {formatUsd(m.inputPricePerMillionTokens)} in · {formatUsd(m.outputPricePerMillionTokens)} out
                    </td>
                    <td data-label="Created" className="nowrap">
                      <Time iso={m.createTime} />
                      <span className="key-id">{m.createdBy}</span>
                    </td>
                    <td className="row-actions">
                      {change && (
                        <>
                          <button
                            type="button"
                            className="button button-small button-quiet"
                            onClick={() => setDialog({ kind: "edit", model: m })}
                            aria-label={`Edit model ${id}`}
                          >
                            Edit
                          </button>
                          <button
                            type="button"
                            className="button button-small button-quiet danger-text"
                            onClick={() => setDialog({ kind: "delete", model: m })}
                            aria-label={`Delete model ${id}`}
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
            <span className="muted">{list.data?.totalSize === 1 ? "1 model" : `${list.data?.totalSize ?? 0} models`}</span>
            {list.data?.nextPageToken && (
              <button type="button" className="button button-small" onClick={() => setPageToken(list.data!.nextPageToken)}>
                Next
              </button>
            )}
          </div>
        </div>
      )}
      {dialog?.kind === "create" && <ModelDialog onClose={close} onSaved={saved} />}
      {dialog?.kind === "edit" && <ModelDialog model={dialog.model} onClose={close} onSaved={saved} />}
      {dialog?.kind === "delete" && (
        <DeleteDialog name={dialog.model.name} what="model" onClose={close} onDeleted={saved}>
          A model that a deployment uses is refused: delete its deployments first.
        </DeleteDialog>
      )}
    </>
  );
}
