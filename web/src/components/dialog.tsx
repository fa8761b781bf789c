import { useEffect, useId, useRef, type FormEvent, type ReactNode } from "react";
import type { ApiError } from "../api.ts";
import { Icon } from "./icons.tsx";
import { ErrorNotice } from "./ui.tsx";

/**
 * A modal on the native `<dialog>`: the browser keeps focus inside and Escape closes it. Focus goes
 * to the first field (or `data-autofocus`) and returns to what opened it.
 */
export function Dialog({
  title,
  onClose,
  children,
  wide = false,
  drawer = false,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  /** Slides in at the right edge, full height (an entry's details beside the list). */
  drawer?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    if (!dialog.open) dialog.showModal();
    const first =
      dialog.querySelector<HTMLElement>("[data-autofocus]") ??
      dialog.querySelector<HTMLElement>(".dialog-body input, .dialog-body select, .dialog-body textarea, .dialog-body button, .dialog-actions button");
    first?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={drawer ? "dialog dialog-drawer" : wide ? "dialog dialog-wide" : "dialog"}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button dialog-close" onClick={onClose} aria-label="Close">
          <Icon name="close" />
        </button>
      </div>
      {children}
    </dialog>
  );
}

/** A dialog whose body is a form: Cancel, and a submit button that shows progress and the API's refusal. */
export function FormDialog({
  title,
  submitLabel,
  busy,
  error,
  onClose,
  onSubmit,
  danger = false,
  wide = false,
  children,
}: {
  title: string;
  submitLabel: string;
  busy: boolean;
  error: ApiError | undefined;
  onClose: () => void;
  onSubmit: () => void;
  danger?: boolean;
  /** A wider dialog, for a long form. */
  wide?: boolean;
  children: ReactNode;
}) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!busy) onSubmit();
  };
  return (
    <Dialog title={title} onClose={onClose} wide={wide}>
      <form onSubmit={submit} noValidate={false}>
        <div className="dialog-body">
          {children}
          <ErrorNotice error={error} />
        </div>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={danger ? "button button-danger" : "button button-primary"} disabled={busy} aria-busy={busy}>
            {busy ? "Working…" : submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
