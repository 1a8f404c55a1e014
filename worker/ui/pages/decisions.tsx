import type { UiApp } from "../context.js";

export function decisionPages(_ui: UiApp) {}
