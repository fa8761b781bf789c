import type { ReactNode } from "react";
import type { ApiError } from "../api.ts";
import type { Loaded } from "../hooks.ts";
import { ErrorNotice, Loading } from "./ui.tsx";

/**
 * What a list shows besides its items: the API's refusal (the load's, else `error`) with "Try again",
 * "Loading…" until the first answer, and `children` (its empty state) when it has no item.
 */
export function ListStatus({
  list,
  count,
  what,
  error,
  children,
}: {
  list: Loaded<unknown>;
  count: number;
  what: string;
  error?: ApiError | undefined;
  children: ReactNode;
}) {
  return (
    <>
      <ErrorNotice error={list.error ?? error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading what={what} />}
      {list.data && count === 0 && children}
    </>
  );
}
