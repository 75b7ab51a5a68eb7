// SPDX-License-Identifier: BSD-2-Clause
//
// The browser side of tests/integration/test_web.py: a real headless
// Chromium (Debian's /usr/bin/chromium) driven by playwright-core (from
// web/node_modules, pinned by web/package-lock.json).  One command per
// line on stdin, as JSON; one JSON answer per line on stdout
// ({"ok":true,...} or {"ok":false,"error":...}).  Waits are generous
// (the machine is loaded) and never measured.
//
//   {"op":"open","url":U}                  load the page; answer: the VMs in
//                                          the picture and their states
//   {"op":"states"}                        the states shown now
//   {"op":"wait_state","vm":V,"not":S}     until V's state shown is not S
//   {"op":"wait_state","vm":V,"is":S}      until it is S
//   {"op":"ports"}                         the picture's port counters
//   {"op":"wait_port","sw":S,"port":P,"rx":N}  until its rx shows >= N
//   {"op":"console","vm":V}                click V in the picture; until live
//   {"op":"type","text":T}                 type into the terminal
//   {"op":"wait_text","re":R}              until the terminal shows R
//   {"op":"mark"}, {"op":"check_mark"}     the page was not reloaded since
//   {"op":"restart","vm":V}                its Restart button, confirmed
//   {"op":"down"}                          the Down button, confirmed
//   {"op":"wait_message","re":R}           until the message line shows R
//   {"op":"screenshot","path":P}
//   {"op":"quit"}
'use strict';

const path = require('path');
const readline = require('readline');

const root = path.resolve(__dirname, '..', '..');
const { chromium } = require(path.join(root, 'web', 'node_modules', 'playwright-core'));

const LONG = 300000;

async function main() {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
	});
	const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
	page.setDefaultTimeout(LONG);
	const logs = [];
	page.on('console', (m) => logs.push(m.type() + ': ' + m.text()));
	page.on('pageerror', (e) => logs.push('pageerror: ' + e.message));

	const states = () => page.evaluate(() => {
		const out = {};
		for (const g of document.querySelectorAll('#picture g.vm'))
			out[g.dataset.vm] = g.dataset.state || null;
		return out;
	});
	const termText = () => page.evaluate(() => {
		const r = document.querySelector('#terminal .xterm-rows');
		return r ? r.innerText : '';
	});

	const ops = {
		async open(c) {
			await page.goto(c.url);
			await page.waitForFunction(() => {
				const gs = document.querySelectorAll('#picture g.vm');
				return gs.length > 0 && [...gs].every((g) => g.dataset.state);
			}, null, { timeout: LONG });
			return { url: page.url(), states: await states() };
		},
		async states() {
			return { states: await states() };
		},
		async wait_state(c) {
			await page.waitForFunction((a) => {
				const g = [...document.querySelectorAll('#picture g.vm')]
					.find((x) => x.dataset.vm === a.vm);
				if (!g || !g.dataset.state)
					return false;
				return a.is !== undefined ? g.dataset.state === a.is :
					g.dataset.state !== a.not;
			}, c, { timeout: LONG, polling: 200 });
			return { states: await states() };
		},
		async ports() {
			return { ports: await page.evaluate(() =>
				[...document.querySelectorAll('#picture text.portcount')].map((t) => ({
					sw: t.dataset.switch, port: t.dataset.port,
					rx: t.dataset.rx, tx: t.dataset.tx, text: t.textContent,
				}))) };
		},
		async wait_port(c) {
			await page.waitForFunction((a) => {
				const t = [...document.querySelectorAll('#picture text.portcount')]
					.find((x) => x.dataset.switch === a.sw && x.dataset.port === a.port);
				return t && t.dataset.rx !== '' && Number(t.dataset.rx) >= a.rx;
			}, c, { timeout: LONG, polling: 200 });
			return await ops.ports();
		},
		async console(c) {
			await page.locator(`#picture g.vm[data-vm="${c.vm}"]`).click();
			await page.waitForFunction(() =>
				document.getElementById('console-note').textContent === 'live',
				null, { timeout: LONG });
			await page.locator('#terminal .xterm-helper-textarea').focus();
			return { title: await page.locator('#console-title').textContent() };
		},
		async type(c) {
			await page.locator('#terminal .xterm-helper-textarea').focus();
			await page.keyboard.type(c.text, { delay: 20 });
			return {};
		},
		async wait_text(c) {
			const re = new RegExp(c.re, 'm');
			const deadline = Date.now() + (c.timeout || LONG);
			for (;;) {
				const t = await termText();
				if (re.test(t))
					return { text: t };
				if (Date.now() > deadline)
					throw new Error('terminal never showed /' + c.re + '/; it shows:\n' + t);
				await page.waitForTimeout(250);
			}
		},
		async mark() {
			await page.evaluate(() => { window.islesTestMark = 1; });
			return {};
		},
		async check_mark() {
			if (!await page.evaluate(() => window.islesTestMark === 1))
				throw new Error('the page was reloaded');
			return {};
		},
		async restart(c) {
			await page.locator(`#vms button.restart[data-vm="${c.vm}"]`).click();
			await page.locator('#confirm-ok').click();
			return {};
		},
		async down() {
			await page.locator('#down').click();
			await page.locator('#confirm-ok').click();
			return {};
		},
		async wait_message(c) {
			await page.waitForFunction((re) =>
				new RegExp(re).test(document.getElementById('message').textContent),
				c.re, { timeout: LONG, polling: 200 });
			return { text: await page.locator('#message').textContent() };
		},
		async screenshot(c) {
			await page.screenshot({ path: c.path, fullPage: true });
			return {};
		},
		async quit() {
			await browser.close();
			return {};
		},
	};

	const rl = readline.createInterface({ input: process.stdin });
	for await (const line of rl) {
		let c;
		let answer;
		try {
			c = JSON.parse(line);
			const fn = ops[c.op];
			if (!fn)
				throw new Error('unknown op ' + c.op);
			answer = Object.assign({ ok: true }, await fn(c));
		} catch (e) {
			answer = { ok: false, error: String(e && e.stack || e), logs };
		}
		process.stdout.write(JSON.stringify(answer) + '\n');
		if (c && c.op === 'quit')
			break;
	}
	await browser.close().catch(() => {});
}

main().catch((e) => {
	process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.stack || e) }) + '\n');
	process.exit(1);
});
