import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
      ],
    },
  },
  { files: ["**/*.mjs", "**/*.cjs", "scripts/**"], rules: { "@typescript-eslint/no-require-imports": "off" } },
);
