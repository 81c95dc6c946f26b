// Sign-in with Google through Google Identity Services. Its script is loaded only when the
// person asks for Google (this button), not with the page: the first page ships none of
// Google's JavaScript, and Google hears of a visit only when one chooses to sign in with it.
// Then Google's own button is rendered in its place; the ID token it hands back goes to
// POST /v1/auth/google, which verifies it.
import { useEffect, useRef, useState } from "preact/hooks";

const GIS_SRC = "https://accounts.google.com/gsi/client";

interface GoogleId {
  initialize(options: { client_id: string; callback: (r: { credential: string }) => void;
                        ux_mode?: "popup" }): void;
  renderButton(el: HTMLElement, options: Record<string, unknown>): void;
}
declare global { interface Window { google?: { accounts: { id: GoogleId } } } }

let loading: Promise<GoogleId> | null = null;

function loadGis(): Promise<GoogleId> {
  if (window.google) return Promise.resolve(window.google.accounts.id);
  loading ??= new Promise<GoogleId>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = GIS_SRC;
    script.async = true;
    script.onload = () => (window.google ? resolve(window.google.accounts.id)
      : reject(new Error("Google sign-in did not start")));
    script.onerror = () => reject(new Error("Google sign-in cannot be reached right now"));
    document.head.append(script);
  }).catch((err) => { loading = null; throw err; });
  return loading;
}

export function GoogleButton({ clientId, onCredential }:
  { clientId: string; onCredential: (idToken: string) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [state, setState] = useState<"idle" | "loading" | "ready">("idle");
  const live = useRef(true);
  useEffect(() => () => { live.current = false; }, []);
  const start = () => {
    setError(null);
    setState("loading");
    loadGis().then((gis) => {
      if (!live.current || !box.current) return;
      gis.initialize({ client_id: clientId, callback: (r) => onCredential(r.credential), ux_mode: "popup" });
      gis.renderButton(box.current, { type: "standard", theme: "outline", size: "large",
                                      text: "signin_with", width: 280 });
      setState("ready");
    }).catch((err: Error) => { if (live.current) { setError(err.message); setState("idle"); } });
  };
  return (
    <div class="google">
      {state !== "ready" && (
        <button type="button" onClick={start} disabled={state === "loading"}
                aria-busy={state === "loading"}>Continue with Google</button>)}
      {state === "ready" && <p class="muted">Now use Google's own button:</p>}
      <div ref={box} />
      {error && <p class="error" role="alert">{error}.</p>}
    </div>
  );
}
