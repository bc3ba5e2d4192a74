import { launchChromium } from "../test/browser/chromium.ts";
const b = await launchChromium();
const p = await b.newPage();
await p.setContent("<h1 id=x>hi</h1>");
console.log(await p.textContent("#x"));
await b.cleanup();
