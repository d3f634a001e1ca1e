// relais-pages.js: what every page of relais' own (review pages, the task
// tracker) shares.  The pages are shells: this script reads the JSON
// routes with the browser's session (EDxo's or relais'), sends the CSRF
// token the way EDxo's pages do, and says every outcome in French in an
// aria-live region so a screen reader hears it.
'use strict';

const RelaisPages = (() => {
	function cookie(name) {
		const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
		return m ? decodeURIComponent(m[1]) : null;
	}

	// EDxo's pages carry the token in a meta tag; relais' in a cookie.
	function csrf() {
		const meta = document.querySelector('meta[name="csrf-token"]');
		return (meta && meta.content) || cookie('csrf_token');
	}

	// The French text of an error body, whichever shape it came in.
	function errorText(status, body) {
		if (body && typeof body.error === 'string')
			return body.error;
		if (body && body.error && body.error.message)
			return body.error.message;
		if (body && typeof body.message === 'string')
			return body.message;
		if (body && Array.isArray(body.detail) && body.detail.length)
			return `Données invalides : ${body.detail[0].loc.slice(1).join('.')} — ${body.detail[0].msg}`;
		if (status === 401)
			return 'Session expirée : reconnectez-vous.';
		if (status === 403)
			return 'Action non autorisée.';
		if (status === 404)
			return 'Élément introuvable.';
		return `Erreur ${status}.`;
	}

	// fetch() a JSON route; resolves {status, body}, throws Error(text).
	async function api(method, path, body) {
		const opts = { method, credentials: 'same-origin',
		    headers: { Accept: 'application/json' } };
		if (method !== 'GET') {
			const t = csrf();
			if (t)
				opts.headers['X-CSRFToken'] = t;
		}
		if (body !== undefined) {
			opts.headers['Content-Type'] = 'application/json';
			opts.body = JSON.stringify(body);
		}
		const r = await fetch(path, opts);
		let j = null;
		try {
			j = await r.json();
		} catch (e) {
			j = null;
		}
		if (!r.ok) {
			const err = new Error(errorText(r.status, j));
			err.status = r.status;
			err.body = j;
			throw err;
		}
		return { status: r.status, body: j };
	}

	// Build an element: el('p', {class: 'x'}, 'text', child...).
	function el(tag, attrs, ...children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined || v === false)
				continue;
			if (k.startsWith('on'))
				e.addEventListener(k.slice(2), v);
			else
				e.setAttribute(k, v === true ? '' : v);
		}
		for (const c of children.flat()) {
			if (c === null || c === undefined)
				continue;
			e.append(c instanceof Node ? c : document.createTextNode(String(c)));
		}
		return e;
	}

	// The page's status line (role=status, aria-live=polite).
	function say(kind, text) {
		const box = document.getElementById('status');
		box.className = `alert alert-${kind}`;
		box.textContent = text;
		box.hidden = false;
	}

	const STATES = {
		PENDING: 'En attente', STARTED: 'Démarrée', PROGRESS: 'En cours',
		SUCCESS: 'Terminée', FAILURE: 'Échouée', REVOKED: 'Annulée',
	};

	// Poll /tasks/status/<id> (EDxo's client polls every 1.5 s) until the
	// task ends; onUpdate gets each status object.  Resolves the last one.
	async function follow(taskId, onUpdate) {
		for (;;) {
			const { body } = await api('GET', `/tasks/status/${encodeURIComponent(taskId)}`);
			onUpdate(body);
			if (['SUCCESS', 'FAILURE', 'REVOKED'].includes(body.state))
				return body;
			await new Promise((r) => setTimeout(r, 1500));
		}
	}

	function param(name) {
		return new URLSearchParams(location.search).get(name);
	}

	// The <int> or <uuid> segment after prefix in the page's own path.
	function pathPart(index) {
		return decodeURIComponent(location.pathname.split('/').filter(Boolean)[index] || '');
	}

	return { api, el, say, follow, param, pathPart, STATES, errorText };
})();

// Review pages (plan-cadre, grille, logigramme): the states a task ends
// in, and the French text of a task that ended without success, as
// EDxo's task client reads it (result.message, then the status message),
// else the worker's error.
RelaisPages.FINAL = ['SUCCESS', 'FAILURE', 'REVOKED'];
RelaisPages.taskMessage = (s) => {
	const r = s && s.result && typeof s.result === 'object' ? s.result : {};
	for (const m of [r.message, s && s.message, r.error])
		if (typeof m === 'string' && m !== '')
			return m;
	return s && s.state === 'REVOKED' ? 'La tâche a été annulée.' : 'La tâche n\'a pas abouti.';
};

// A review page's task, once it has ended with success: opened while it
// runs, the page says `waiting` and follows it first; a task that ended
// otherwise throws its French text.  Resolves the last status object.
RelaisPages.taskDone = async (taskId, waiting) => {
	const P = RelaisPages;
	let { body: s } = await P.api('GET', `/tasks/status/${encodeURIComponent(taskId)}`);
	if (!P.FINAL.includes(s.state)) {
		P.say('info', waiting);
		s = await P.follow(taskId, () => {});
	}
	if (s.state !== 'SUCCESS')
		throw new Error(P.taskMessage(s));
	return s;
};

// The programme review pages (/programme/<id>/<what>/review/<task_id>:
// grille, logigramme): the ids their path names, shown in the page's
// #task-id and #programme-link; {pid, tid, base}.
RelaisPages.programmeReview = () => {
	const pid = RelaisPages.pathPart(1);
	const tid = RelaisPages.pathPart(4);
	const base = `/programme/${encodeURIComponent(pid)}`;
	document.getElementById('task-id').textContent = tid;
	document.getElementById('programme-link').href = base;
	return { pid, tid, base };
};
