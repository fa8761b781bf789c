/**
 * @module An API key's state (GCP API Keys' vocabulary): `ENABLED`, or `DISABLED` with a reason.
 */

/**
 * Why a key was disabled: its secret was seen where it should not be (`EXPOSED`), someone else
 * used it (`COMPROMISED`), nobody used it (`UNUSED`), or `OTHER`.
 */
export type DisableReason = "EXPOSED" | "COMPROMISED" | "UNUSED" | "OTHER";

/** Every disable reason, in the order the API documents them. */
export const DISABLE_REASONS = ["EXPOSED", "COMPROMISED", "UNUSED", "OTHER"] as const satisfies readonly DisableReason[];

const REASON_TEXT: Record<DisableReason, string> = {
  EXPOSED: "its secret was exposed",
  COMPROMISED: "it was compromised",
  UNUSED: "it was not in use",
  OTHER: "disabled by its owner or an admin",
};

/** The clause a disabled key's refusal names its reason with, e.g. `reason EXPOSED: its secret was exposed`. */
export function describeDisableReason(reason: string): string {
  const text = REASON_TEXT[reason as DisableReason] ?? REASON_TEXT.OTHER;
  return `reason ${reason || "OTHER"}: ${text}`;
}
