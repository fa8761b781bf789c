import { useState } from "react";
import { Icon } from "./icons.tsx";

async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (or not a secure context): select the text for Ctrl+C instead.
    fallbackInput?.focus();
    fallbackInput?.select();
    return false;
  }
}

/** Copies `text`; says so for a moment ("Copied"), or selects the field when the browser refuses. */
export function CopyButton({ text, label = "Copy", inputId }: { text: string; label?: string; inputId?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "selected">("idle");
  const click = async () => {
    const input = inputId ? (document.getElementById(inputId) as HTMLInputElement | null) : null;
    setState((await copyText(text, input)) ? "copied" : "selected");
    setTimeout(() => setState("idle"), 2500);
  };
  return (
    <button type="button" className="button button-small" onClick={click}>
      <Icon name={state === "copied" ? "check" : "copy"} size={16} />
      <span aria-live="polite">{state === "copied" ? "Copied" : state === "selected" ? "Selected: press Ctrl+C" : label}</span>
    </button>
  );
}
