import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

/** A folder's forbidden imports, by the folder they point into (relative specifiers only: the code has no aliases). */
const keepOut = (folders, why) => ({
  "no-restricted-imports": ["error", { patterns: folders.map((f) => ({ group: [`**/${f}/*`, `**/${f}`], message: why })) }],
});

export default tseslint.config(
  { ignores: ["node_modules", ".wrangler", "dist", "test-output", "**/*.d.ts", "worker-configuration.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: "readonly", process: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly" } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // Request bodies are read only through worker/http/read-body.ts, which caps them whatever the encoding.
    files: ["worker/**/*.ts", "worker/**/*.tsx"],
    ignores: ["worker/http/read-body.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector:
            "CallExpression[callee.property.name=/^(json|text|formData|parseBody|arrayBuffer|blob|bytes)$/]:matches([callee.object.name=/^req$/], [callee.object.property.name=/^(req|raw)$/])",
          message: "read request bodies with readBodyBytes/readBodyText/readFormFields (worker/http/read-body.ts): they enforce the size cap",
        },
        {
          selector: ":matches(Program, ExportNamedDeclaration) > VariableDeclaration > VariableDeclarator > NewExpression[callee.name=/^(Map|Set)$/][arguments.length=0]",
          message: "a module-level Map or Set lives as long as the isolate: use BoundedCache (shared/bounded-cache.ts), or say in an eslint-disable comment why it cannot grow",
        },
      ],
    },
  },
  // The layers (DEVELOPERS.md): routes/ and ui/ go through services/; store/ only stores and knows no HTTP.
  { files: ["worker/store/**"], rules: keepOut(["http", "services", "routes", "ui"], "store/ only stores: it may not know HTTP or the services above it") },
  { files: ["worker/routes/**", "worker/ui/**"], rules: keepOut(["store"], "routes/ and ui/ call the services (worker/services/), never the store") },
  {
    // No import circles anywhere in the edge, shared code or the agent (type-only imports included).
    files: ["worker/**/*.{ts,tsx}", "shared/**/*.ts", "pbx-agent/**/*.ts"],
    plugins: { "import-x": importX },
    settings: { ...importX.flatConfigs.typescript.settings, "import-x/resolver": undefined, "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })] },
    rules: { "import-x/no-cycle": "error" },
  },
  { files: ["**/*.mjs", "**/*.cjs", "scripts/**"], rules: { "@typescript-eslint/no-require-imports": "off" } },
);
