import type { UiApp } from "../context.js";

export function connectorPages(_ui: UiApp) {}
