import type { InputHTMLAttributes, ReactNode } from "react";
import { ID_INPUT_PATTERN } from "../ids.ts";

/** A labelled input in a form's `.field`; a `hint` under it describes it (`<id>-hint`). Other props go to the input. */
export function TextField({ id, label, hint, ...input }: { id: string; label: ReactNode; hint?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} {...input} {...(hint ? { "aria-describedby": `${id}-hint` } : {})} />
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** The ID field of a create dialog: lowercase letters, digits and "-", at most 63; focused first, its hint (`children`) under it. */
export function IdField({
  id,
  label,
  value,
  onChange,
  required = false,
  children,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  required?: boolean;
  children: ReactNode;
}) {
  return (
    <TextField
      id={id}
      label={label}
      hint={children}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      required={required}
      maxLength={63}
      pattern={ID_INPUT_PATTERN}
      autoComplete="off"
      spellCheck={false}
      data-autofocus
    />
  );
}

/** The optional display name of a create or edit dialog: at most 63 characters. */
export function DisplayNameField({ id, value, onChange, disabled }: { id: string; value: string; onChange: (value: string) => void; disabled?: boolean }) {
  return (
    <TextField
      id={id}
      label={
        <>
          Display name <span className="optional">(optional)</span>
        </>
      }
      value={value}
      onChange={(e) => onChange(e.target.value)}
      disabled={disabled}
      maxLength={63}
      autoComplete="off"
    />
  );
}
