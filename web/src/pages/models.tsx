import { useState } from "react";
import type { Model } from "../../../src/http/resources/model.ts";
import { api, filterString, lastSegment, query } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { DisplayNameField, TextField } from "../components/text-field.tsx";
import { Time } from "../components/ui.tsx";
import { formatUsd } from "../format.ts";
import { useTitle } from "../hooks.ts";
import { ID_INPUT_PATTERN } from "../ids.ts";
import { setSearch, useLocation } from "../router.tsx";
import { useSession, useToast } from "../session.tsx";
import { DeleteDialog, EditDeleteButtons, StateBadge } from "./platform-common.tsx";
import { PlatformListPage, usePlatformList } from "./platform-list.tsx";

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
  const save = async () => {
    if (model) await api("PATCH", `/v1/${model.name}`, fields);
    else await api("POST", `/v1/accounts/${session.accountId}/models${query({ modelId: form.modelId.trim() })}`, fields);
    toast(model ? `Saved model ${lastSegment(model.name)}` : `Created model ${form.modelId.trim()}`);
    onSaved();
  };
  return (
    <ActionDialog
      title={model ? `Edit model ${lastSegment(model.name)}` : "Create model"}
      submitLabel={model ? "Save" : "Create model"}
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
      <DisplayNameField id="model-name" value={form.displayName} onChange={(displayName) => setForm((f) => ({ ...f, displayName }))} />
      <TextField
        id="model-description"
        label={
          <>
            Description <span className="optional">(optional)</span>
          </>
        }
        value={form.description}
        onChange={set("description")}
        maxLength={1000}
        autoComplete="off"
      />
      <div className="field-row">
        <TextField
          id="model-backend"
          label="Backend"
          value={form.backend}
          onChange={set("backend")}
          placeholder="the only one, when empty"
          autoComplete="off"
          spellCheck={false}
        />
        <TextField
          id="model-upstream"
          label={
            <>
              Upstream model <span className="optional">(optional)</span>
            </>
          }
          value={form.upstreamModel}
          onChange={set("upstreamModel")}
          placeholder="the model ID"
          autoComplete="off"
          spellCheck={false}
        />
      </div>
      <div className="field-row">
        <TextField
          id="model-input-price"
          label="Input price (USD per million tokens)"
          type="number"
          min={0}
          step="any"
          value={form.inputPrice}
          onChange={set("inputPrice")}
        />
        <TextField
          id="model-output-price"
          label="Output price (USD per million tokens)"
          type="number"
          min={0}
          step="any"
          value={form.outputPrice}
          onChange={set("outputPrice")}
        />
      </div>
    </ActionDialog>
  );
}

/** `/account/models`: the account's models with their backend and prices; create, edit and delete as the role allows. */
export function ModelsPage() {
  useTitle("Models");
  const session = useSession();
  const { search } = useLocation();
  const mine = search.get("mine") === "1";
  const page = usePlatformList<Model, Dialog>("models", "model_id", { clauses: mine ? [`created_by=${filterString(session.email)}`] : [] });
  const { dialog, setDialog, close, saved } = page;

  return (
    <PlatformListPage
      page={page}
      title="Models"
      description="The account's models: each names a configured backend and the model there, with its prices for metering. Inference calls name a model as accounts/{account}/models/{id}."
      noun="model"
      plural="models"
      create={session.can("models.create") && { label: "Create model", onClick: () => setDialog({ kind: "create" }) }}
      searchId="model-search"
      filters={
        <label className="check-field">
          <input type="checkbox" checked={mine} onChange={(e) => setSearch({ mine: e.target.checked ? "1" : undefined })} /> Created by me
        </label>
      }
      emptyIcon="cube"
      emptyHint="Public models of the operator's catalogue serve inference without one; create a model to name your own backend's."
      filteredHint="Try another search."
      columns={["Model", "State", "Backend", "Prices per million tokens", "Created"]}
      row={(m, id, change) => (
        <>
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
              <EditDeleteButtons
                what="model"
                id={id}
                onEdit={() => setDialog({ kind: "edit", model: m })}
                onDelete={() => setDialog({ kind: "delete", model: m })}
              />
            )}
          </td>
        </>
      )}
    >
      {dialog?.kind === "create" && <ModelDialog onClose={close} onSaved={saved} />}
      {dialog?.kind === "edit" && <ModelDialog model={dialog.model} onClose={close} onSaved={saved} />}
      {dialog?.kind === "delete" && (
        <DeleteDialog name={dialog.model.name} what="model" onClose={close} onDeleted={saved}>
          A model that a deployment uses is refused: delete its deployments first.
        </DeleteDialog>
      )}
    </PlatformListPage>
  );
}
