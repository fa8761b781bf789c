import { useState } from "react";
import type { Dataset } from "../../../src/http/resources/dataset.ts";
import { DATASET_FORMATS } from "../../../src/domain/dataset-format.ts";
import { api, ApiError, lastSegment, query, uploadFile } from "../api.ts";
import { ActionDialog } from "../components/action-dialog.tsx";
import { FormDialog } from "../components/dialog.tsx";
import { Icon } from "../components/icons.tsx";
import { DisplayNameField, TextField } from "../components/text-field.tsx";
import { Time } from "../components/ui.tsx";
import { formatBytes, formatNumber } from "../format.ts";
import { useAction, useTitle } from "../hooks.ts";
import { ID_INPUT_PATTERN } from "../ids.ts";
import { useSession, useToast } from "../session.tsx";
import { DeleteDialog, EditDeleteButtons, StateBadge } from "./platform-common.tsx";
import { PlatformListPage, usePlatformList } from "./platform-list.tsx";

const STATES = ["UPLOADING", "READY"] as const;

/** What each format's lines hold, as the format field offers it. */
const FORMAT_LABELS: Record<(typeof DATASET_FORMATS)[number], string> = {
  FORMAT_UNSPECIFIED: "What the file's first line holds",
  CHAT: 'CHAT: {"messages": […]}',
  COMPLETION: 'COMPLETION: {"prompt", "completion"}',
  RL: 'RL: {"messages": […]} and what the evaluator reads',
};

type Dialog = { kind: "create" } | { kind: "upload"; dataset: Dataset } | { kind: "rename"; dataset: Dataset } | { kind: "delete"; dataset: Dataset };

/** The line an upload refusal names (`line 3 is not valid JSON: …`), read from the file the person chose. */
async function refusedLine(file: File, error: ApiError): Promise<{ number: number; text: string } | undefined> {
  const number = Number(/^line (\d+) /.exec(error.message)?.[1] ?? 0);
  if (!number) return undefined;
  // The first megabyte holds the line in all but huge files; a line is capped for display.
  const lines = (await file.slice(0, 1 << 20).text()).split("\n");
  const text = lines[number - 1];
  return text === undefined ? undefined : { number, text: text.length > 2000 ? `${text.slice(0, 2000)}…` : text };
}

/** Chooses a JSONL file and uploads it with a progress bar; a refusal shows the API's sentence and the line it names. */
function UploadFields({
  file,
  onFile,
  sent,
  refused,
}: {
  file: File | undefined;
  onFile: (file: File | undefined) => void;
  sent: number;
  refused?: { number: number; text: string };
}) {
  const total = file?.size ?? 0;
  return (
    <>
      <div className="field">
        <label htmlFor="dataset-file">JSONL file</label>
        <input
          id="dataset-file"
          type="file"
          accept=".jsonl,.ndjson,.json,application/jsonl,application/x-ndjson"
          onChange={(e) => onFile(e.target.files?.[0])}
          required
        />
        <p className="hint">One example per line, checked line by line against the dataset's format as it uploads.</p>
      </div>
      {file && sent > 0 && (
        <div className="upload-progress">
          <label htmlFor="dataset-progress">
            Uploaded {formatBytes(sent)} of {formatBytes(total)}
          </label>
          <progress id="dataset-progress" max={total || 1} value={sent} />
        </div>
      )}
      {refused && (
        <div className="refused-line">
          <p className="hint">Line {refused.number} of the file:</p>
          <pre className="payload" tabIndex={0} aria-label={`Line ${refused.number} of the file`}>
            {refused.text}
          </pre>
        </div>
      )}
    </>
  );
}

/** Uploading one file to a dataset: progress, refusal and the refused line. */
function useUpload() {
  const action = useAction();
  const [file, setFile] = useState<File>();
  const [sent, setSent] = useState(0);
  const [refused, setRefused] = useState<{ number: number; text: string }>();
  const upload = async (datasetName: string) => {
    if (!file) throw new ApiError(400, "INVALID_ARGUMENT", "Choose a JSONL file to upload.");
    setRefused(undefined);
    setSent(0);
    try {
      await uploadFile<Dataset>(`/v1/${datasetName}:upload`, file, "application/jsonl", (n) => setSent(n));
    } catch (error) {
      if (error instanceof ApiError) setRefused(await refusedLine(file, error));
      throw error;
    }
  };
  const onFile = (f: File | undefined) => {
    setFile(f);
    setSent(0);
    setRefused(undefined);
    action.clear();
  };
  return { action, file, sent, refused, upload, onFile };
}

/** Creates a dataset and uploads its file; a refused upload leaves it UPLOADING, to upload again. */
function CreateDatasetDialog({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const session = useSession();
  const toast = useToast();
  const up = useUpload();
  const [id, setId] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [format, setFormat] = useState<(typeof DATASET_FORMATS)[number]>("FORMAT_UNSPECIFIED");
  const [created, setCreated] = useState<Dataset>();
  const save = () =>
    up.action.run(async () => {
      const dataset =
        created ?? (await api<Dataset>("POST", `/v1/accounts/${session.accountId}/datasets${query({ datasetId: id.trim() })}`, { displayName, format }));
      setCreated(dataset);
      await up.upload(dataset.name);
      toast(`Uploaded dataset ${lastSegment(dataset.name)}`);
      onSaved();
    });
  return (
    <FormDialog
      title="Create dataset"
      submitLabel={created ? "Upload again" : "Create and upload"}
      busy={up.action.busy}
      error={up.action.error}
      onClose={created ? onSaved : onClose}
      onSubmit={save}
    >
      <TextField
        id="dataset-id"
        label="Dataset ID"
        value={id}
        onChange={(e) => setId(e.target.value)}
        required
        disabled={!!created}
        pattern={ID_INPUT_PATTERN}
        maxLength={63}
        autoComplete="off"
        spellCheck={false}
      />
      <div className="field-row">
        <DisplayNameField id="dataset-name" value={displayName} onChange={setDisplayName} disabled={!!created} />
        <div className="field">
          <label htmlFor="dataset-format">Format</label>
          <select id="dataset-format" value={format} onChange={(e) => setFormat(e.target.value as typeof format)} disabled={!!created}>
            {DATASET_FORMATS.map((f) => (
              <option key={f} value={f}>
                {FORMAT_LABELS[f]}
              </option>
            ))}
          </select>
        </div>
      </div>
      <UploadFields file={up.file} onFile={up.onFile} sent={up.sent} {...(up.refused ? { refused: up.refused } : {})} />
    </FormDialog>
  );
}

function UploadDialog({ dataset, onClose, onSaved }: { dataset: Dataset; onClose: () => void; onSaved: () => void }) {
  const toast = useToast();
  const up = useUpload();
  const id = lastSegment(dataset.name);
  return (
    <FormDialog
      title={`Upload to dataset ${id}`}
      submitLabel="Upload"
      busy={up.action.busy}
      error={up.action.error}
      onClose={onClose}
      onSubmit={() =>
        up.action.run(async () => {
          await up.upload(dataset.name);
          toast(`Uploaded dataset ${id}`);
          onSaved();
        })
      }
    >
      <UploadFields file={up.file} onFile={up.onFile} sent={up.sent} {...(up.refused ? { refused: up.refused } : {})} />
    </FormDialog>
  );
}

function RenameDialog({ dataset, onClose, onSaved }: { dataset: Dataset; onClose: () => void; onSaved: () => void }) {
  const toast = useToast();
  const [displayName, setDisplayName] = useState(dataset.displayName);
  const id = lastSegment(dataset.name);
  return (
    <ActionDialog
      title={`Edit dataset ${id}`}
      submitLabel="Save"
      onClose={onClose}
      onSubmit={async () => {
        await api("PATCH", `/v1/${dataset.name}`, { displayName });
        toast(`Saved dataset ${id}`);
        onSaved();
      }}
    >
      <TextField
        id="dataset-rename"
        label="Display name"
        value={displayName}
        onChange={(e) => setDisplayName(e.target.value)}
        maxLength={63}
        autoComplete="off"
      />
    </ActionDialog>
  );
}

/** `/account/datasets`: JSONL datasets with state, format and size; create with upload progress, download, edit and delete as the role allows. */
export function DatasetsPage() {
  useTitle("Datasets");
  const session = useSession();
  const page = usePlatformList<Dataset, Dialog>("datasets", "dataset_id", { states: STATES });
  const { dialog, setDialog, close, saved } = page;

  return (
    <PlatformListPage
      page={page}
      title="Datasets"
      description="JSONL fine-tuning data: each upload is checked line by line against the dataset's format (CHAT, COMPLETION or RL; by default the format of its first line) and counts against the dataset-storage-bytes quota."
      noun="dataset"
      plural="datasets"
      create={session.can("datasets.create") && { label: "Create dataset", onClick: () => setDialog({ kind: "create" }) }}
      searchId="dataset-search"
      emptyIcon="database"
      emptyHint="Create a dataset and upload its JSONL file."
      filteredHint="Try another search or state."
      columns={["Dataset", "State", "Format", "Examples", "Size", "Updated"]}
      row={(d, id, change) => (
        <>
          <td data-label="State">
            <StateBadge state={d.state} />
          </td>
          <td data-label="Format">{d.format}</td>
          <td data-label="Examples">{formatNumber(Number(d.exampleCount))}</td>
          <td data-label="Size" className="nowrap">
            {formatBytes(Number(d.sizeBytes))}
          </td>
          <td data-label="Updated" className="nowrap">
            <Time iso={d.updateTime} />
            <span className="key-id">{d.createdBy}</span>
          </td>
          <td className="row-actions">
            {d.state === "READY" && session.can("datasets.download") && (
              <a className="button button-small button-quiet" href={`/v1/${d.name}:download`} download={`${id}.jsonl`} aria-label={`Download dataset ${id}`}>
                <Icon name="download" size={16} /> Download
              </a>
            )}
            {change && d.state === "UPLOADING" && (
              <button
                type="button"
                className="button button-small"
                onClick={() => setDialog({ kind: "upload", dataset: d })}
                aria-label={`Upload to dataset ${id}`}
              >
                Upload
              </button>
            )}
            {change && (
              <EditDeleteButtons
                what="dataset"
                id={id}
                onEdit={() => setDialog({ kind: "rename", dataset: d })}
                onDelete={() => setDialog({ kind: "delete", dataset: d })}
              />
            )}
          </td>
        </>
      )}
    >
      {dialog?.kind === "create" && <CreateDatasetDialog onClose={close} onSaved={saved} />}
      {dialog?.kind === "upload" && <UploadDialog dataset={dialog.dataset} onClose={close} onSaved={saved} />}
      {dialog?.kind === "rename" && <RenameDialog dataset={dialog.dataset} onClose={close} onSaved={saved} />}
      {dialog?.kind === "delete" && (
        <DeleteDialog name={dialog.dataset.name} what="dataset" onClose={close} onDeleted={saved}>
          Its uploaded examples ({formatNumber(Number(dialog.dataset.exampleCount))}, {formatBytes(Number(dialog.dataset.sizeBytes))}) are deleted with it.
        </DeleteDialog>
      )}
    </PlatformListPage>
  );
}
