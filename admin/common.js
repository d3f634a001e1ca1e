// What every page of the admin application shares: the DOM builder, the
// announcer, and the one way of calling relais' JSON API (session cookie
// + X-CSRFToken, relais' error bodies turned into French messages).
// Loaded first, as a plain deferred script; the page that follows
// defines `state` (with `csrf`) and `signedOut(msg)`, which the calls
// below use when they run.
'use strict';

// h('p', {class: 'x', onclick: f}, 'text', child...): an element.
function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false)
			continue;
		if (k.startsWith('on'))
			el.addEventListener(k.slice(2), v);
		else if (k === 'class')
			el.className = v;
		else if (k === 'for')
			el.htmlFor = v;
		else if (k === 'text')
			el.textContent = v;
		else if (k in el && typeof v !== 'string')
			el[k] = v;
		else
			el.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false)
			continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

const $ = (sel, root = document) => root.querySelector(sel);

function announce(msg) {
	const a = $('#annonce');
	a.textContent = '';
	// A fresh text node so screen readers read a repeated message again.
	setTimeout(() => { a.textContent = msg; }, 30);
}

class ApiError extends Error {
	constructor(status, code, message, field) {
		super(message);
		this.status = status;
		this.code = code;
		this.field = field || null;
	}
}

// Messages for the codes whose server text is English or missing.
const FRENCH = {
	unauthorized: 'Authentification requise.',
	forbidden: 'Accès refusé',
	csrf_failed: 'Jeton de sécurité refusé : rechargez la page.',
	not_found: 'Introuvable.',
	conflict: 'Conflit : cette valeur existe déjà.',
	nothing_to_resume: 'Aucune section à reprendre.',
	insufficient_credits: 'Crédits insuffisants.',
	too_many_requests: 'Trop de tentatives ; réessayez plus tard.',
};

// A failed answer as an ApiError: relais' {error: {code, message,
// field}}, the flat body of the routes EDxo's own pages call ({error:
// message, code, field}), or FastAPI's {detail: [...]} for a refused
// field.
function apiError(status, data) {
	if (data && Array.isArray(data.detail) && data.detail.length > 0) {
		const d = data.detail[0];
		const loc = Array.isArray(d.loc) ?
		    d.loc.filter((x) => x !== 'body' && x !== 'query') : [];
		return new ApiError(status, 'validation_error',
		    d.msg || `Erreur ${status}.`, loc.length ? String(loc[0]) : null);
	}
	const e = data && typeof data.error === 'string' ?
	    { message: data.error, code: data.code, field: data.field } :
	    (data && data.error) || {};
	let msg = e.message || FRENCH[e.code] || `Erreur ${status}.`;
	if (status === 403 && e.code !== 'csrf_failed')
		msg = FRENCH.forbidden;
	return new ApiError(status, e.code, msg, e.field);
}

// The fetch Response of a successful call, or a thrown ApiError.  A
// session that ended elsewhere sends the page back to its sign-in form.
async function request(method, path, body, accept = 'application/json') {
	const opts = { method, credentials: 'same-origin',
	    headers: { Accept: accept } };
	if (body !== undefined) {
		opts.headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	if (method !== 'GET' && state.csrf)
		opts.headers['X-CSRFToken'] = state.csrf;
	let r;
	try {
		r = await fetch(path, opts);
	} catch {
		throw new ApiError(0, 'network', 'Serveur injoignable.', null);
	}
	if (r.ok)
		return r;
	const text = await r.text();
	let data = null;
	try { data = JSON.parse(text); } catch { /* not JSON */ }
	const err = apiError(r.status, data);
	if (r.status === 401 && path !== '/login' && path !== '/me') {
		signedOut('Votre session a expiré ; reconnectez-vous.');
		err.handled = true;
	}
	throw err;
}

// A JSON call: the parsed answer (null for an empty one).
async function api(method, path, body) {
	const r = await request(method, path, body);
	const text = await r.text();
	try { return JSON.parse(text); } catch { return null; }
}

// A download the server names (Content-Disposition), saved by the
// browser; errors stay on the page instead of replacing it.
async function download(path) {
	const r = await request('GET', path, undefined, '*/*');
	const cd = r.headers.get('Content-Disposition') || '';
	const m = /filename="([^"]+)"/.exec(cd);
	const name = m ? m[1] : path.split('/').pop();
	const url = URL.createObjectURL(await r.blob());
	const a = h('a', { href: url, download: name, hidden: true });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10000);
	return name;
}

// The sign-in form and the sign-out button both pages share (#form-connexion,
// #connexion-username/-password with their "-err" lines, #deconnexion):
// after(d) runs with /login's answer, and shows the page for d.user.
function initSignIn(after) {
	const form = $('#form-connexion');
	const top = $('#form-connexion-erreur');
	const fields = { username: $('#connexion-username'), password: $('#connexion-password') };
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		top.textContent = '';
		for (const [k, i] of Object.entries(fields)) {
			i.removeAttribute('aria-invalid');
			$(`#connexion-${k}-err`).textContent = '';
		}
		const btn = form.querySelector('button');
		btn.disabled = true;
		try {
			const d = await api('POST', '/login', { username: fields.username.value.trim(),
			    password: fields.password.value });
			fields.password.value = '';
			await after(d);
		} catch (e) {
			let msg = e.message;
			if (e.status === 401)
				msg = 'Nom d’utilisateur ou mot de passe incorrect.';
			else if (e.status === 429)
				msg = FRENCH.too_many_requests;
			const f = e.field && fields[e.field];
			if (f) {
				f.setAttribute('aria-invalid', 'true');
				$(`#connexion-${e.field}-err`).textContent = msg;
				f.focus();
			} else {
				top.textContent = msg;
			}
			announce(`Erreur : ${msg}`);
		} finally {
			btn.disabled = false;
		}
	});
	$('#deconnexion').addEventListener('click', async () => {
		try {
			await api('POST', '/logout', {});
		} catch { /* the session is gone either way */ }
		signedOut('Vous êtes déconnecté.');
		$('#connexion-username').focus();
	});
}
