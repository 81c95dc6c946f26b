// "Sign in with Google" through Google Identity Services: its script is loaded only when a
// client id is configured and this button is on screen; the ID token it hands back goes to
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
  useEffect(() => {
    let live = true;
    loadGis().then((gis) => {
      if (!live || !box.current) return;
      gis.initialize({ client_id: clientId, callback: (r) => onCredential(r.credential), ux_mode: "popup" });
      gis.renderButton(box.current, { type: "standard", theme: "outline", size: "large",
                                      text: "signin_with", width: 280 });
    }).catch((err: Error) => { if (live) setError(err.message); });
    return () => { live = false; };
  }, [clientId]);
  return (
    <div class="google">
      <div ref={box} />
      {error && <p class="error" role="alert">{error}.</p>}
    </div>
  );
}
