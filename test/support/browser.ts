/**
 * A minimal browser for sign-in tests: a cookie jar per host:port and manual redirects, so each
 * hop of an OIDC dance can be seen (and the response that sets the session cookie inspected).
 */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name);
  }

  setCookie(url: string, name: string, value: string): void {
    const host = new URL(url).host;
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(name, value);
  }

  /** One request, no redirect following; cookies of the host are sent and Set-Cookie is stored. */
  async request(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const host = new URL(url).host;
    const cookies = [...(this.jar.get(host) ?? new Map<string, string>()).entries()].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(url, {
      method: init.method ?? "GET",
      redirect: "manual",
      headers: { ...(cookies ? { cookie: cookies } : {}), ...(init.headers ?? {}) },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "";
      if (!this.jar.has(host)) this.jar.set(host, new Map());
      if (gone) this.jar.get(host)!.delete(name);
      else this.jar.get(host)!.set(name, value);
    }
    return res;
  }
}

/**
 * What a browser sends with a navigation that began with a click on one of Hearth's own pages
 * (Fetch Metadata): Hearth starts a web sign-in only for this.
 */
export const FROM_HEARTH_PAGE = { "sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate" } as const;

/**
 * Follows redirects from `url`, signing in at the test issuer's login and consent pages as `login`,
 * until the next URL satisfies `until`; returns that URL without requesting it. `firstHeaders` go
 * with the first request only (e.g. FROM_HEARTH_PAGE for a web sign-in's start).
 */
export async function followSignIn(
  browser: Browser,
  url: string,
  login: string,
  until: (next: URL) => boolean,
  firstHeaders: Record<string, string> = {},
): Promise<string> {
  let next = url;
  let init: { method?: string; body?: string; headers?: Record<string, string> } = { headers: firstHeaders };
  for (let hop = 0; hop < 20; hop++) {
    if (until(new URL(next))) return next;
    const res = await browser.request(next, init);
    init = {};
    if (res.status >= 300 && res.status < 400) {
      next = new URL(res.headers.get("location")!, next).href;
      await res.arrayBuffer();
      continue;
    }
    const text = await res.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(text)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(text)?.[1];
    if (res.status !== 200 || !prompt || !action) throw new Error(`unexpected ${res.status} at ${next}: ${text.slice(0, 500)}`);
    const form = new URLSearchParams(prompt === "login" ? { prompt, login, password: "any" } : { prompt });
    next = new URL(action.replace(/&amp;/g, "&"), next).href;
    init = { method: "POST", body: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } };
  }
  throw new Error(`sign-in did not finish within 20 hops (last ${next})`);
}
