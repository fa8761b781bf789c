import type { ReactNode } from "react";
import { useAction } from "../hooks.ts";
import { FormDialog } from "./dialog.tsx";

/**
 * A form dialog whose submit runs one change (`onSubmit`: the API call, its toast and what follows),
 * busy while it runs and showing the API's refusal.
 */
export function ActionDialog({
  title,
  submitLabel,
  danger = false,
  wide = false,
  onClose,
  onSubmit,
  children,
}: {
  title: string;
  submitLabel: string;
  danger?: boolean;
  wide?: boolean;
  onClose: () => void;
  onSubmit: () => Promise<void>;
  children: ReactNode;
}) {
  const action = useAction();
  return (
    <FormDialog
      title={title}
      submitLabel={submitLabel}
      danger={danger}
      wide={wide}
      busy={action.busy}
      error={action.error}
      onClose={onClose}
      onSubmit={() => action.run(onSubmit)}
    >
      {children}
    </FormDialog>
  );
}
