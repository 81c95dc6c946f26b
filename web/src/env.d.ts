/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The OAuth client id the API verifies Google ID tokens against (AUTOBUY_GOOGLE_CLIENT_ID).
   *  Empty: no Google button (e.g. offline development, where only dev sign-in works). */
  readonly VITE_GOOGLE_CLIENT_ID?: string;
}
