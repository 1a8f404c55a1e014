import type { UiApp } from "../context.js";

export function keyPages(_ui: UiApp) {}
