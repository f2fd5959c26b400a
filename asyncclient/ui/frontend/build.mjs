// Builds the UI into ../static: index.html + assets/app-<hash>.js|css + licenses/.
// Content-hashed names let the server cache assets for a year; index.html is never cached.
// Reproducible: `npm ci && npm run build` with the committed package-lock.json gives the same files.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static");
const hash = (buf) => createHash("sha256").update(buf).digest("hex").slice(0, 10);

const js = await build({
  entryPoints: [join(here, "src", "main.js")], bundle: true, minify: true, format: "iife",
  target: "es2020", write: false, legalComments: "none", charset: "utf8",
});
const css = await build({
  entryPoints: [join(here, "src", "app.css")], bundle: true, minify: true, write: false,
  loader: { ".css": "css" }, legalComments: "none",
});
const jsBuf = js.outputFiles[0].contents;
const cssBuf = css.outputFiles[0].contents;
const jsName = `app-${hash(jsBuf)}.js`;
const cssName = `app-${hash(cssBuf)}.css`;

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });
mkdirSync(join(out, "licenses"), { recursive: true });
writeFileSync(join(out, "assets", jsName), jsBuf);
writeFileSync(join(out, "assets", cssName), cssBuf);

// Third-party code bundled into app-*.js, with its licence text.
const licenses = [
  ["uplot", "LICENSE", "uPlot-LICENSE.txt"],
  ["marked", "LICENSE.md", "marked-LICENSE.txt"],
  ["dompurify", "LICENSE", "DOMPurify-LICENSE.txt"],
];
const notice = ["Third-party software bundled in assets/app-*.js:", ""];
for (const [pkg, file, dest] of licenses) {
  const meta = JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"), "utf8"));
  copyFileSync(join(here, "node_modules", pkg, file), join(out, "licenses", dest));
  notice.push(`${meta.name} ${meta.version} (${meta.license}): licenses/${dest}`);
}
writeFileSync(join(out, "licenses", "THIRD-PARTY-NOTICES.txt"), notice.join("\n") + "\n");

// Relative URLs: the page works at / and under --static-prefix alike.
const html = readFileSync(join(here, "src", "index.html"), "utf8")
  .replace("{{CSS}}", `static-files/assets/${cssName}`)
  .replace("{{JS}}", `static-files/assets/${jsName}`);
writeFileSync(join(out, "index.html"), html);
console.log(`built ${jsName} (${jsBuf.length} B), ${cssName} (${cssBuf.length} B)`);
