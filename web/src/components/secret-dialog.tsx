import type { ReactNode } from "react";
import { CopyButton } from "./copy-button.tsx";
import { Dialog } from "./dialog.tsx";
import { Icon } from "./icons.tsx";

/**
 * The one time a secret is shown: a warning that it will not come back, the secret in a read-only
 * field with a copy button, and "I have copied it". `intro` goes before the warning, `children` after the field.
 */
export function SecretDialog({
  title,
  warning,
  inputId,
  label,
  secret,
  intro,
  children,
  onClose,
}: {
  title: string;
  warning: ReactNode;
  inputId: string;
  label: ReactNode;
  secret: string;
  intro?: ReactNode;
  children?: ReactNode;
  onClose: () => void;
}) {
  return (
    <Dialog title={title} onClose={onClose} wide>
      <div className="dialog-body">
        {intro}
        <div className="notice notice-warning">
          <Icon name="warning" />
          <p>{warning}</p>
        </div>
        <div className="field">
          <label htmlFor={inputId}>{label}</label>
          <div className="secret-row">
            <input id={inputId} className="secret" value={secret} readOnly spellCheck={false} autoComplete="off" onFocus={(e) => e.target.select()} />
            <CopyButton text={secret} inputId={inputId} />
          </div>
        </div>
        {children}
      </div>
      <div className="dialog-actions">
        <button type="button" className="button button-primary" onClick={onClose} data-autofocus>
          I have copied it
        </button>
      </div>
    </Dialog>
  );
}
