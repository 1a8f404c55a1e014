// The fake CRM as its own process (end-to-end and soak runs): prints its URL, stops on SIGTERM.
import { startFakeCrm } from "./fake-crm.js";

const crm = await startFakeCrm(Number(process.env.FAKE_CRM_PORT ?? 0));
console.log(`fake CRM on ${crm.url}`);
process.on("SIGTERM", () => void crm.close().then(() => process.exit(0)));
