import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

/** A small history router: the console has a handful of pages and needs nothing more. */
const listeners = new Set<() => void>();
const notify = (): void => listeners.forEach((listener) => listener());
window.addEventListener("popstate", notify);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  notify();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current path and query string; re-renders on every navigation. */
export function useLocation(): { path: string; search: URLSearchParams; href: string } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const q = href.indexOf("?");
  return { path: q < 0 ? href : href.slice(0, q), search: new URLSearchParams(q < 0 ? "" : href.slice(q)), href };
}

/** Replaces some query parameters of the current page (filters live in the URL, so they can be shared). */
export function setSearch(changes: Record<string, string | undefined>): void {
  const search = new URLSearchParams(location.search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === "") search.delete(name);
    else search.set(name, value);
  }
  const text = search.toString();
  navigate(location.pathname + (text ? `?${text}` : ""), { replace: true });
}

export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={follow} {...rest} />;
}
