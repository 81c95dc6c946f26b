import { render } from "preact";
import { App } from "./App";
import { createStore } from "./store";
import "./styles.css";

const store = createStore();
void store.start(); // the API's config, and the session the cookie still holds after a reload
render(<App store={store} />, document.getElementById("app")!);
