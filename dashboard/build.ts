import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const entry = fileURLToPath(new URL('./app.ts', import.meta.url))

/** The dashboard's one script, bundled and minified. No framework: the DOM, built from data. */
export async function buildDashboard(): Promise<string> {
  const result = await build({ entryPoints: [entry], bundle: true, minify: true, format: 'iife', target: 'es2020', legalComments: 'none', write: false })
  return result.outputFiles[0].text
}

/** The page: a shell the script fills. Its Content-Security-Policy lets no other script run. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Waymark</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
  header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 20px; background: #fff; border-bottom: 1px solid #dde1e7; }
  nav { display: flex; gap: 4px; flex: 1; }
  nav a { padding: 4px 10px; border-radius: 6px; color: #1d2330; text-decoration: none; }
  nav a.active { background: #1d4ed8; color: #fff; }
  main { padding: 16px 24px; max-width: 1200px; }
  table { border-collapse: collapse; margin: 6px 0 14px; background: #fff; }
  th, td { padding: 4px 10px; border-bottom: 1px solid #e6e9ee; text-align: left; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.clickable { cursor: pointer; } tr.clickable:hover { background: #eef3ff; }
  .stage { margin: 10px 0; } .stage-name { font-weight: 600; text-transform: capitalize; }
  .bar-track { background: #e6e9ee; border-radius: 4px; height: 22px; } .bar { background: #1d4ed8; height: 22px; border-radius: 4px; min-width: 2px; }
  .step { color: #475065; margin-left: 18px; } .muted, .note { color: #6b7385; }
  .columns { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
  .flows { width: 100%; max-width: 760px; background: #fff; } .flow { fill: none; stroke: #1d4ed8; stroke-opacity: .28; } .flows text { font-size: 12px; }
  .sign-in { max-width: 360px; margin: 12vh auto; display: grid; gap: 10px; background: #fff; padding: 24px; border-radius: 10px; }
  .error { color: #b42318; } button { cursor: pointer; }
  .account { background: #fff; padding: 4px 12px; margin: 8px 0; border-radius: 8px; } .paths { min-width: 340px; }
  .path { margin: 6px 0; } .steps { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; } .path .bar-track { height: 8px; margin: 3px 0; } .path .bar { height: 8px; }
  .step-chip { background: #eef3ff; border-radius: 10px; padding: 1px 8px; font-size: 12px; } .arrow { color: #6b7385; }
</style>
</head>
<body>
<div id="app"></div>
<noscript>The Waymark dashboard needs JavaScript; the same numbers are in <code>waymark report</code>.</noscript>
<script src="/dashboard.js"></script>
</body>
</html>
`
