// SPDX-License-Identifier: BSD-2-Clause
//
// isles web: the page's logic (docs/web.md).  Two kinds of WebSocket to
// isles-webd, both same-origin (the server checks Origin and the token
// cookie): /ws/status (the picture once, then the status whenever it
// changes; restart and down requests) and /ws/console/N (VM N's serial
// console, one per open console).  Every message is binary: one type
// byte, then the payload (src/webd/webmsg.h has the list).
//
// VM output is shown only through xterm.js; names and states from the
// server are put in the page as text, never as HTML.
'use strict';

const enc = new TextEncoder();
const dec = new TextDecoder();

const ui = {
	system: document.getElementById('system'),
	phase: document.getElementById('phase'),
	link: document.getElementById('link'),
	message: document.getElementById('message'),
	picture: document.getElementById('picture'),
	vms: document.querySelector('#vms tbody'),
	switches: document.getElementById('switches'),
	console: document.getElementById('console'),
	consoleTitle: document.getElementById('console-title'),
	consoleNote: document.getElementById('console-note'),
	terminal: document.getElementById('terminal'),
	confirm: document.getElementById('confirm'),
	confirmText: document.getElementById('confirm-text'),
};

let statusWs = null;
let lastStatus = null;

function msg(type, payload) {
	const p = payload === undefined ? new Uint8Array(0) :
		typeof payload === 'string' ? enc.encode(payload) : payload;
	const m = new Uint8Array(1 + p.length);
	m[0] = type.charCodeAt(0);
	m.set(p, 1);
	return m;
}

function wsUrl(path) {
	return (location.protocol === 'https:' ? 'wss://' : 'ws://') +
		location.host + path;
}

function say(text) {
	ui.message.textContent = text;
}

function confirmThen(text, action) {
	ui.confirmText.textContent = text;
	ui.confirm.returnValue = '';
	ui.confirm.onclose = () => {
		if (ui.confirm.returnValue === 'ok')
			action();
	};
	ui.confirm.showModal();
}

// ---- the picture ----

function vmNode(name) {
	for (const g of ui.picture.querySelectorAll('g.node')) {
		const t = g.querySelector('title');
		if (t && t.textContent === 'vm:' + name)
			return g;
	}
	return null;
}

function showGraph(svgText) {
	const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
	const svg = doc.documentElement;
	if (svg.nodeName !== 'svg')
		return;
	for (const s of svg.querySelectorAll('script, foreignObject'))
		s.remove();
	ui.picture.replaceChildren(document.importNode(svg, true));
	for (const g of ui.picture.querySelectorAll('g.node')) {
		const t = g.querySelector('title');
		if (!t || !t.textContent.startsWith('vm:'))
			continue;
		const name = t.textContent.slice(3);
		g.classList.add('vm');
		g.dataset.vm = name;
		g.addEventListener('click', () => openConsole(name));
		// A line under the box for the state.
		const box = g.getBBox();
		const st = document.createElementNS('http://www.w3.org/2000/svg', 'text');
		st.setAttribute('class', 'vmstate');
		st.setAttribute('text-anchor', 'middle');
		st.setAttribute('x', box.x + box.width / 2);
		st.setAttribute('y', box.y + box.height + 11);
		g.appendChild(st);
	}
	// The switch ports' edges (VM -- switch, labelled ethN; switch --
	// uplink TAP): a line under their label for the counters.
	for (const g of ui.picture.querySelectorAll('g.edge')) {
		const t = g.querySelector('title');
		const texts = g.querySelectorAll('text');
		if (!t || texts.length === 0)
			continue;
		let m = /^vm:(.+)--switch:(.+)$/.exec(t.textContent);
		let port = null, sw = null;
		if (m) {
			const eth = /^eth(\d+)$/.exec(texts[0].textContent);
			if (eth) {
				port = m[1] + '.' + eth[1];
				sw = m[2];
			}
		} else if ((m = /^switch:(.+)--tap:/.exec(t.textContent))) {
			port = 'uplink';
			sw = m[1];
		}
		if (!port)
			continue;
		const last = texts[texts.length - 1];
		const c = document.createElementNS('http://www.w3.org/2000/svg', 'text');
		c.setAttribute('class', 'portcount');
		c.setAttribute('text-anchor', 'middle');
		c.setAttribute('x', last.getAttribute('x'));
		c.setAttribute('y', Number(last.getAttribute('y')) + 10);
		c.dataset.switch = sw;
		c.dataset.port = port;
		g.appendChild(c);
	}
	if (lastStatus)
		showStatus(lastStatus);
}

// ---- the status ----

function cell(tr, text, cls) {
	const td = document.createElement('td');
	td.textContent = text;
	if (cls)
		td.className = cls;
	tr.appendChild(td);
	return td;
}

function showStatus(st) {
	lastStatus = st;
	ui.system.textContent = st.system || '';
	ui.phase.textContent = st.state || '';
	document.title = 'isles web: ' + (st.system || '');
	const rows = [];
	for (const vm of st.vms || []) {
		const tr = document.createElement('tr');
		tr.id = 'vm-' + vm.name;
		tr.dataset.state = vm.state;
		cell(tr, String(vm.index));
		const a = document.createElement('a');
		a.href = '#';
		a.textContent = vm.name;
		a.addEventListener('click', (e) => { e.preventDefault(); openConsole(vm.name); });
		const td = cell(tr, '');
		td.appendChild(a);
		cell(tr, vm.state, 'state state-' + vm.state).id = 'vm-state-' + vm.name;
		cell(tr, vm.pid ? String(vm.pid) : '-', 'num');
		cell(tr, String(vm.restarts), 'num');
		const b = document.createElement('button');
		b.type = 'button';
		b.textContent = 'Restart';
		b.className = 'restart';
		b.dataset.vm = vm.name;
		b.addEventListener('click', () => confirmThen(
			'Restart ' + vm.name + '? Its QEMU is powered off and started again.',
			() => { statusWs.send(msg('R', vm.name)); say('restarting ' + vm.name + '…'); }));
		cell(tr, '').appendChild(b);
		rows.push(tr);
		const g = vmNode(vm.name);
		if (g) {
			for (const c of [...g.classList])
				if (c.startsWith('state-'))
					g.classList.remove(c);
			g.classList.add('state-' + vm.state);
			g.dataset.state = vm.state;
			const t = g.querySelector('text.vmstate');
			if (t)
				t.textContent = vm.state;
		}
	}
	ui.vms.replaceChildren(...rows);
	const parts = [];
	for (const sw of st.switches || []) {
		const h = document.createElement('h3');
		h.textContent = 'switch ' + sw.switch;
		parts.push(h);
		if (sw.error) {
			const p = document.createElement('p');
			p.textContent = 'no counters: ' + sw.error;
			parts.push(p);
			continue;
		}
		const t = document.createElement('table');
		t.className = 'ports';
		t.dataset.switch = sw.switch;
		const hr = document.createElement('tr');
		for (const k of ['port', 'state', 'rx pkts', 'rx bytes', 'tx pkts', 'tx bytes', 'drops']) {
			const th = document.createElement('th');
			th.textContent = k;
			hr.appendChild(th);
		}
		t.appendChild(hr);
		for (const p of sw.ports || []) {
			const tr = document.createElement('tr');
			tr.dataset.port = p.name;
			cell(tr, p.name);
			cell(tr, p.state);
			for (const k of ['rx_packets', 'rx_bytes', 'tx_packets', 'tx_bytes', 'drops'])
				cell(tr, String(p[k]), 'num ' + k);
			t.appendChild(tr);
		}
		parts.push(t);
	}
	ui.switches.replaceChildren(...parts);
	for (const c of ui.picture.querySelectorAll('text.portcount')) {
		const sw = (st.switches || []).find((x) => x.switch === c.dataset.switch);
		const p = sw && (sw.ports || []).find((x) => x.name === c.dataset.port);
		c.textContent = p ? 'rx ' + p.rx_packets + ' / tx ' + p.tx_packets + ' pkts' +
			(p.drops ? ', ' + p.drops + ' dropped' : '') : '';
		c.dataset.tx = p ? p.tx_packets : '';
		c.dataset.rx = p ? p.rx_packets : '';
	}
}

function connectStatus() {
	const ws = new WebSocket(wsUrl('/ws/status'));
	ws.binaryType = 'arraybuffer';
	statusWs = ws;
	ws.onopen = () => { ui.link.textContent = 'live'; };
	ws.onclose = () => {
		ui.link.textContent = 'disconnected (the system stopped, or isles web did)';
		document.body.classList.add('gone');
	};
	ws.onmessage = (ev) => {
		const b = new Uint8Array(ev.data);
		if (b.length === 0)
			return;
		const type = String.fromCharCode(b[0]);
		const text = dec.decode(b.subarray(1));
		if (type === 'G')
			showGraph(text);
		else if (type === 'S')
			showStatus(JSON.parse(text));
		else if (type === 'M')
			say(text);
	};
}

document.getElementById('down').addEventListener('click', () => confirmThen(
	'Stop the whole system? Every VM is powered off.',
	() => { statusWs.send(msg('D')); say('stopping the system…'); }));

// ---- a console ----

let con = null;	// { ws, term, fit, name }

function closeConsole() {
	if (!con)
		return;
	con.ws.close();
	con.term.dispose();
	const g = vmNode(con.name);
	if (g)
		g.classList.remove('watching');
	con = null;
	ui.console.hidden = true;
}

document.getElementById('console-close').addEventListener('click', closeConsole);

function openConsole(name) {
	const vm = (lastStatus && lastStatus.vms || []).find((v) => v.name === name);
	if (!vm)
		return;
	closeConsole();
	ui.console.hidden = false;
	ui.consoleTitle.textContent = 'console of ' + name;
	ui.consoleNote.textContent = 'connecting';
	const term = new Terminal({ cursorBlink: true, scrollback: 5000, convertEol: false });
	const fit = new FitAddon.FitAddon();
	term.loadAddon(fit);
	term.open(ui.terminal);
	const ws = new WebSocket(wsUrl('/ws/console/' + vm.index));
	ws.binaryType = 'arraybuffer';
	con = { ws, term, fit, name };
	const g = vmNode(name);
	if (g)
		g.classList.add('watching');
	const sendSize = () => {
		if (ws.readyState !== WebSocket.OPEN)
			return;
		const m = new Uint8Array(5);
		m[0] = 'W'.charCodeAt(0);
		new DataView(m.buffer).setUint16(1, term.rows, true);
		new DataView(m.buffer).setUint16(3, term.cols, true);
		ws.send(m);
	};
	ws.onopen = () => {
		ui.consoleNote.textContent = 'replaying';
		fit.fit();
		sendSize();
		term.focus();
	};
	ws.onclose = () => { ui.consoleNote.textContent = 'closed'; };
	ws.onmessage = (ev) => {
		const b = new Uint8Array(ev.data);
		if (b.length === 0)
			return;
		const type = String.fromCharCode(b[0]);
		if (type === 'O' || type === 'P')
			term.write(b.slice(1));
		else if (type === 'A')
			ui.consoleNote.textContent = 'live';
		else if (type === 'N') {
			const n = JSON.parse(dec.decode(b.subarray(1)));
			if (n.kind === 'dropped')
				term.write('\r\n\x1b[2m[' + n.count + ' bytes not shown: this page was too slow; console.log has them]\x1b[0m\r\n');
			else if (n.kind === 'down')
				ui.consoleNote.textContent = 'VM down';
			else if (n.kind === 'up')
				ui.consoleNote.textContent = 'live';
		} else if (type === 'M')
			ui.consoleNote.textContent = dec.decode(b.subarray(1));
	};
	term.onData((s) => {
		if (ws.readyState !== WebSocket.OPEN)
			return;
		const bytes = enc.encode(s);
		for (let i = 0; i < bytes.length; i += 4096)
			ws.send(msg('I', bytes.subarray(i, i + 4096)));
	});
	term.onResize(sendSize);
}

window.addEventListener('resize', () => { if (con) con.fit.fit(); });

connectStatus();
