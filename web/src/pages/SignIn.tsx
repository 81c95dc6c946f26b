// Sign in: Google and development sign-in as the API's public config (GET /v1/config) says:
// its Google client id, and whether it routes development sign-in.
import { useEffect, useState } from "preact/hooks";
import { ErrorText } from "../components/ErrorText";
import { GoogleButton } from "../components/GoogleButton";
import { type Store, useStore } from "../store";

export function SignIn({ store, googleClientId: forcedClientId }:
  { store: Store; googleClientId?: string }) {
  const config = useStore(store, (s) => s.config);
  const configError = useStore(store, (s) => s.configError);
  const devSignIn = config ? config.dev_signin : configError ? false : null;
  const googleClientId = forcedClientId ?? config?.google_client_id;
  const [email, setEmail] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => { if (store.get().config === null) void store.loadConfig(); }, []);

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
      {configError && (
        <p class="error" role="alert">The sign-in methods could not be loaded: the API cannot be
          reached. Reload the page to try again.</p>
      )}
      {config && !googleClientId && !devSignIn && (
        <p class="error" role="alert">No sign-in method is available: the API has no Google client id
          in use and does not offer development sign-in.</p>
      )}
      <ErrorText error={error} />
    </section>
  );
}
