// Node reads a .js file as CommonJS unless a package.json says otherwise; the
// static sources have none (browsers need none), so tell node they are ES modules.
import { register } from "node:module";

register("./es-sources.mjs", import.meta.url);
