import { useState } from "react";
import { Icon } from "./icons.tsx";

/** The pages of a list walked so far (AIP-158 page tokens): the last is the one shown, "" the first page. */
export interface PageTokens {
  /** The token of the page shown: "" for the first. */
  pageToken: string;
  /** How many pages lie before the one shown (0 on the first). */
  index: number;
  previous: () => void;
  /** On to the page of `nextPageToken` (the answer's); nothing when it is "" (the last page). */
  next: (nextPageToken: string) => void;
}

/**
 * The page tokens of a list loaded with `query` (its filter, order and other parameters, as one
 * string). A page token belongs to the query it was issued for (AIP-158): when `query` changes, the
 * list is back on its first page, whatever changed it.
 */
export function usePageTokens(query: string): PageTokens {
  const [walked, setWalked] = useState<{ query: string; pages: string[] }>({ query, pages: [""] });
  const pages = walked.query === query ? walked.pages : [""];
  const update = (change: (pages: string[]) => string[]) => setWalked((w) => ({ query, pages: change(w.query === query ? w.pages : [""]) }));
  return {
    pageToken: pages.at(-1) ?? "",
    index: pages.length - 1,
    previous: () => update((p) => (p.length > 1 ? p.slice(0, -1) : p)),
    next: (nextPageToken) => {
      if (nextPageToken) update((p) => [...p, nextPageToken]);
    },
  };
}

/**
 * "Previous" and "Next" for a paged list (or the labels given, e.g. "Newer" and "Older"); nothing
 * while the list fits on one page, unless `always`.
 */
export function Pager({
  pages,
  nextPageToken,
  labels = ["Previous", "Next"],
  always = false,
}: {
  pages: PageTokens;
  nextPageToken: string | undefined;
  labels?: readonly [string, string];
  always?: boolean;
}) {
  if (!always && pages.index === 0 && !nextPageToken) return null;
  return (
    <div className="pager">
      <button type="button" className="button button-small" disabled={pages.index === 0} onClick={pages.previous}>
        {labels[0]}
      </button>
      <button type="button" className="button button-small" disabled={!nextPageToken} onClick={() => pages.next(nextPageToken ?? "")}>
        {labels[1]} <Icon name="chevron" size={14} />
      </button>
    </div>
  );
}
