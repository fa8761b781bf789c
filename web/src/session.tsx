import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from "react";
import { lastSegment, type Session } from "./api.ts";
import type { Action } from "./permissions.ts";

export interface SignedIn extends Session {
  userId: string;
  /** May this principal take `action`? (The server decides; this only hides what it would refuse.) */
  can: (action: Action) => boolean;
  isAdmin: boolean;
}

export function signedIn(session: Session): SignedIn {
  // The server says which actions the principal holds (a custom role's are its permission preset's).
  const held = new Set<string>(session.actions);
  return { ...session, userId: lastSegment(session.user), can: (action) => held.has(action), isAdmin: session.role === "admin" };
}

const SessionContext = createContext<SignedIn | undefined>(undefined);

export function SessionProvider({ session, children }: { session: SignedIn; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): SignedIn {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}

/** Short confirmations ("Service account created") in one polite live region. */
interface Toast {
  id: number;
  text: string;
}

const ToastContext = createContext<(text: string) => void>(() => undefined);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const show = useCallback(
    (text: string) => {
      const id = next.current++;
      setToasts((list) => [...list.slice(-2), { id, text }]);
      setTimeout(() => dismiss(id), 6000);
    },
    [dismiss],
  );
  return (
    <ToastContext.Provider value={show}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div className="toast" key={t.id}>
            <span>{t.text}</span>
            <button type="button" className="toast-close" onClick={() => dismiss(t.id)} aria-label="Dismiss">
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): (text: string) => void {
  return useContext(ToastContext);
}
