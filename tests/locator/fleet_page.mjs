// SPDX-License-Identifier: MIT
// The fleet page in a real browser (Debian's Chromium driven by playwright-core from npm):
// every licensed chip has a row; the alerts filter leaves exactly the alert statuses; opening
// a chip shows the status, licence, evidence, open alerts and history of the report it was
// built from; search narrows the table. Screenshots are kept as test artefacts.
// usage: node fleet_page.mjs PAGE.html REPORT.json SHOT_DIR   (TAP on stdout, exit 1 on failure)
// $LM_NODE_PREFIX (default /usr/local/share/landmark) holds playwright-core (tools/setup.sh);
// $LM_CHROMIUM (default /usr/bin/chromium) is the browser.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const PREFIX = process.env.LM_NODE_PREFIX || '/usr/local/share/landmark';
const req = createRequire(path.join(PREFIX, 'package.json'));
const pw = await import(pathToFileURL(req.resolve('playwright-core')).href);
const chromium = pw.chromium || pw.default.chromium;
const [page_html, report_json, shots] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(report_json, 'utf8'));
const ALERTS = new Set(['unproven', 'violation', 'silent', 'clone', 'revoked']);
let n = 0, failed = 0;
const check = (ok, what) => {
	n++;
	if (!ok) failed++;
	console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${what}`);
};
const labelOf = (c) => c.label || c.chip.slice(0, 20);
const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

fs.mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
	executablePath: process.env.LM_CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-gpu'],
});
try {
	const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) errors.push('network: ' + r.url()); });
	// the page inlines Leaflet and ~240 country outlines: parsing it takes seconds on a busy
	// machine (CPU, not a race); the waits are bounded
	await page.goto(pathToFileURL(page_html).href, { timeout: 120000 });
	await page.waitForSelector('.leaflet-container path.region', { state: 'attached', timeout: 120000 });
	check(errors.length === 0, `page loads offline without errors (${errors.join('; ') || 'none'})`);
	const rows = () => page.$$eval('#fleet tbody tr', (t) => t.map((r) => [r.dataset.chip, r.dataset.status]));
	let r = await rows();
	check(r.length === report.chips.length, `one row per licensed chip (${r.length} of ${report.chips.length})`);
	const want = new Map(report.chips.map((c) => [labelOf(c), c]));
	check(r.every(([l, s]) => want.has(l) && want.get(l).status === s), 'every row shows its status from the report');
	const nalert = report.chips.filter((c) => ALERTS.has(c.status)).length;
	check(r.slice(0, nalert).every(([, s]) => ALERTS.has(s)), 'alerts first');
	await page.screenshot({ path: path.join(shots, 'fleet.png') });
	await page.click('#filter-alerts');
	r = await rows();
	check(r.length === nalert && r.every(([, s]) => ALERTS.has(s)), `alerts filter: ${r.length} rows, all alerts (want ${nalert})`);
	const banners = await page.$$eval('#alerts .alert', (a) => a.length);
	const open = report.chips.reduce((k, c) => k + (c.open_alerts || []).length, 0);
	check(banners === open, `one banner per open alert (${banners} of ${open})`);
	if (r.length) {
		const label = r[0][0], c = want.get(label);
		await page.click(`#fleet tbody tr[data-chip="${label}"]`);
		await page.waitForSelector('#detail:not([hidden])');
		const field = (k) => page.$eval(`#detail [data-field="${k}"]`, (e) => e.textContent);
		check((await field('status')) === c.status, `detail of ${label}: status ${c.status}`);
		check((await field('chip')) === c.chip, `detail of ${label}: chip identity`);
		check((await field('evidence')) === (c.evidence || []).join(' '), `detail of ${label}: evidence records`);
		const oa = await field('open_alerts');
		check((c.open_alerts || []).every((a) => oa.includes(`${a.status} since ${iso(a.since)}`)), `detail of ${label}: open alerts`);
		const hist = await page.$$eval('#detail table.history tr', (t) => t.length);
		check(hist === (c.history || []).length, `detail of ${label}: status history (${hist} of ${(c.history || []).length})`);
		await page.screenshot({ path: path.join(shots, 'fleet-detail.png') });
	}
	await page.click('#filter-all');
	const any = report.chips[report.chips.length - 1];
	await page.fill('#search', labelOf(any));
	r = await rows();
	check(r.length >= 1 && r.every(([l]) => l.toLowerCase().includes(labelOf(any).toLowerCase())), `search "${labelOf(any)}" narrows the table`);
} finally {
	await browser.close();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
