// Sign in: Google when this build has a client id; development sign-in only when the API
// routes it (its served OpenAPI document lists POST /v1/auth/dev).
import { useEffect, useState } from "preact/hooks";
import { ErrorText } from "../components/ErrorText";
import { GoogleButton } from "../components/GoogleButton";
import { type Store, useStore } from "../store";

export function SignIn({ store, googleClientId = import.meta.env.VITE_GOOGLE_CLIENT_ID }:
  { store: Store; googleClientId?: string }) {
  const devSignIn = useStore(store, (s) => s.devSignIn);
  const [email, setEmail] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => { if (devSignIn === null) void store.probeSignIn(); }, []);

  async function run(signIn: () => Promise<unknown>) {
    setError(null);
    setBusy(true);
    try { await signIn(); } catch (err) { setError(err); } finally { setBusy(false); }
  }

  return (
    <section class="signin">
      <h1 tabIndex={-1}>Sign in to AutoBuy Guard</h1>
      <p>Track prices, see every check's result, and get told when a price reaches your target.</p>
      {googleClientId && (
        <GoogleButton clientId={googleClientId}
                      onCredential={(token) => run(() => store.api.signInGoogle(token))} />
      )}
      {devSignIn && (
        <form class="card" onSubmit={(e) => { e.preventDefault(); void run(() => store.api.signInDev(email)); }}>
          <h2>Development sign-in</h2>
          <p class="muted">This API runs with development sign-in on: any address signs in, no password.</p>
          <div class="field">
            <label for="dev-email">E-mail address</label>
            <input id="dev-email" type="email" autoComplete="email" required value={email}
                   onInput={(e) => setEmail(e.currentTarget.value)} />
          </div>
          <button type="submit" class="primary" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
        </form>
      )}
      {!googleClientId && devSignIn === false && (
        <p class="error" role="alert">No sign-in method is available: this build has no Google client id
          and the API does not offer development sign-in.</p>
      )}
      <ErrorText error={error} />
    </section>
  );
}
