import { Icon } from "./icons.tsx";

/** A row's or card's "Delete" button (a trash icon and the word), named for what it deletes by `label`. */
export function DeleteButton({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <button type="button" className="button button-small button-quiet danger-text" onClick={onClick} aria-label={label}>
      <Icon name="trash" size={16} /> Delete
    </button>
  );
}
