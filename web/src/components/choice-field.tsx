/** One choice of a `ChoiceField`: the value chosen and the label shown for it. */
export interface Choice {
  value: string;
  label: string;
}

/**
 * A labelled select among fixed `choices`; `onChange` gets the value chosen. `className`: "field"
 * in a form or a dialog, "select-field" in a list's toolbar.
 */
export function ChoiceField({
  id,
  label,
  value,
  choices,
  onChange,
  className = "field",
}: {
  id: string;
  label: string;
  value: string;
  choices: ReadonlyArray<Choice>;
  onChange: (value: string) => void;
  className?: "field" | "select-field";
}) {
  return (
    <div className={className}>
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    </div>
  );
}
