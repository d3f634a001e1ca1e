// The batch page (seed 002, issue 21): launch a generation through
// OpenAI's Batch API, follow every batch (status, progress, time left),
// and act on each: refresh, resume, cancel, delete, details, results; for
// all of them: process the finished ones, clean up, export the history.
// Plain script like app.js (sign-in, session cookie + X-CSRFToken), no
// framework; every value comes from the batch program's routes
// (cgi-bin/batch.8).  Any role that may generate may use it: the server
// decides what each user sees (their own batches; an admin, all).
'use strict';

const state = { user: null, csrf: null, batches: [], timer: null,
    details: null };

// While a batch runs, the page asks OpenAI for it this often.
const REFRESH_MS = 4000;

const ROLES = { admin: 'Administrateur', coordo: 'Coordonnateur',
    professeur: 'Professeur', cp: 'Conseiller pédagogique', invite: 'Invité' };

const KINDS = { plan_de_cours: 'Plan de cours', plan_cadre: 'Plan-cadre' };

// The sections of each kind, in lib/batch.c's order.
const SECTIONS = {
	plan_de_cours: [
		['presentation_du_cours', 'Présentation du cours'],
		['objectif_terminal_du_cours', 'Objectif terminal du cours'],
		['organisation_et_methodes', 'Organisation et méthodes'],
		['accomodement', 'Accommodement'],
		['evaluation_formative_apprentissages', 'Évaluation formative des apprentissages'],
		['evaluation_expression_francais', "Évaluation de l'expression en français"],
		['materiel', 'Matériel'],
		['seuil_reussite', 'Seuil de réussite'],
		['calendriers', 'Calendrier'],
		['evaluations', 'Évaluations'],
	],
	plan_cadre: [
		['place_intro', 'Place et rôle du cours'],
		['objectif_terminal', 'Objectif terminal'],
		['structure_intro', 'Structure du cours'],
		['structure_activites_theoriques', 'Activités théoriques'],
		['structure_activites_pratiques', 'Activités pratiques'],
		['structure_activites_prevues', 'Activités prévues'],
		['eval_evaluation_sommative', 'Évaluation sommative'],
		['eval_nature_evaluations_sommatives', 'Nature des évaluations sommatives'],
		['eval_evaluation_de_la_langue', 'Évaluation de la langue'],
		['eval_evaluation_sommatives_apprentissages', 'Évaluation sommative des apprentissages'],
		['competences_developpees', 'Compétences développées'],
		['competences_certifiees', 'Compétences certifiées'],
		['cours_corequis', 'Cours corequis'],
		['objets_cibles', 'Objets cibles'],
		['cours_relies', 'Cours reliés'],
		['cours_prealables', 'Cours préalables'],
		['savoir_etre', 'Savoir-être'],
		['capacites', 'Capacités'],
	],
};

const STATUS = {
	validating: 'Validation',
	in_progress: 'En cours',
	finalizing: 'Finalisation',
	completed: 'Terminé',
	failed: 'Échec',
	expired: 'Expiré',
	cancelling: 'Annulation en cours',
	cancelled: 'Annulé',
	collected: 'Traité',
};
// OpenAI still works on these: the page follows them.
const RUNNING = ['validating', 'in_progress', 'finalizing', 'cancelling'];
// Not yet "collected" (results stored as previews, money settled) while
// OpenAI has it: the page follows it.
const followed = (b) => b.status !== 'collected' && Boolean(b.openai_batch_id);

const ITEM_STATUS = { pending: 'En attente', ok: 'Généré', failed: 'Échec',
    invalid: 'Réponse refusée', expired: 'Expiré', cancelled: 'Annulé' };

// ---------------------------------------------------------------------
// Formatting

function eta(s) {
	if (s === null || s === undefined)
		return '—';
	if (s < 60)
		return `≈ ${Math.max(1, Math.round(s))} s`;
	if (s < 3600)
		return `≈ ${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
	return `≈ ${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function when(iso) {
	if (!iso)
		return '—';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return iso;
	return d.toLocaleString('fr-CA', { dateStyle: 'short', timeStyle: 'short' });
}

// ---------------------------------------------------------------------
// Launch form

function fieldError(name, msg) {
	const line = document.getElementById(`f-lancer-${name}-err`);
	const input = document.getElementById(`f-lancer-${name}`);
	if (!line)
		return false;
	line.textContent = msg;
	if (input) {
		input.setAttribute('aria-invalid', 'true');
		input.focus();
	}
	return true;
}

function clearLaunch() {
	$('#f-lancer-erreur').textContent = '';
	$('#f-lancer-etat').textContent = '';
	for (const e of document.querySelectorAll('#f-lancer .erreur'))
		e.textContent = '';
	for (const i of document.querySelectorAll('#f-lancer [aria-invalid]'))
		i.removeAttribute('aria-invalid');
}

function renderSections() {
	const kind = $('#f-lancer-kind').value;
	$('#liste-sections').replaceChildren(...SECTIONS[kind].map(([v, l]) => {
		const id = `section-${v}`;
		return h('div', { class: 'champ case' },
		    h('input', { type: 'checkbox', id, name: 'sections', value: v, checked: true }),
		    h('label', { for: id }, l));
	}));
}

function selectionMode() {
	const bySession = $('#f-lancer-par-session').checked;
	$('#bloc-plans').hidden = bySession;
	$('#bloc-session').hidden = !bySession;
}

async function loadProgrammes() {
	const sel = $('#f-lancer-programme_id');
	try {
		const list = await api('GET', '/api/programmes');
		sel.replaceChildren(...(list || []).map((p) =>
		    h('option', { value: String(p.id) }, p.nom)));
	} catch (e) {
		if (!e.handled)
			sel.replaceChildren(h('option', { value: '' }, 'Programmes indisponibles'));
	}
}

function launchBody() {
	const kind = $('#f-lancer-kind').value;
	const body = { kind };
	if ($('#f-lancer-par-session').checked) {
		const p = $('#f-lancer-programme_id').value;
		if (!p)
			return { error: ['programme_id', 'Choisissez un programme.'] };
		body.programme_id = Number(p);
		const s = $('#f-lancer-session').value.trim();
		if (!/^\d+$/.test(s))
			return { error: ['session', 'Une session est un nombre entier.'] };
		body.session = Number(s);
	} else {
		const raw = $('#f-lancer-plan_ids').value.split(/[\s,;]+/).filter(Boolean);
		if (raw.length === 0)
			return { error: ['plan_ids', 'Indiquez au moins un numéro de plan.'] };
		if (raw.some((x) => !/^\d+$/.test(x)))
			return { error: ['plan_ids', 'Des numéros entiers, séparés par des virgules.'] };
		body.plan_ids = [...new Set(raw.map(Number))];
	}
	const boxes = [...document.querySelectorAll('#liste-sections input')];
	const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
	if (chosen.length === 0)
		return { error: ['sections', 'Cochez au moins une section.'] };
	// All of them: the server's own list (plan-cadre sections whose
	// generation is turned off are then skipped, not refused).
	if (chosen.length < boxes.length)
		body.sections = chosen;
	const model = $('#f-lancer-model').value.trim();
	if (model)
		body.model = model;
	return { body };
}

function initLaunch() {
	const form = $('#f-lancer');
	$('#f-lancer-kind').addEventListener('change', renderSections);
	for (const r of document.querySelectorAll('input[name="selection"]'))
		r.addEventListener('change', selectionMode);
	$('#sections-toutes').addEventListener('click', () => {
		for (const b of document.querySelectorAll('#liste-sections input'))
			b.checked = true;
	});
	$('#sections-aucune').addEventListener('click', () => {
		for (const b of document.querySelectorAll('#liste-sections input'))
			b.checked = false;
	});
	renderSections();
	selectionMode();
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		clearLaunch();
		const { body, error } = launchBody();
		if (error) {
			if (!fieldError(error[0], error[1]))
				$('#f-lancer-erreur').textContent = error[1];
			announce(`Erreur : ${error[1]}`);
			return;
		}
		const btn = form.querySelector('button[type="submit"]');
		btn.disabled = true;
		try {
			const d = await api('POST', '/batch', body);
			const msg = `Lot ${d.batch.id} lancé : ${d.batch.total} section(s).`;
			$('#f-lancer-etat').textContent = msg;
			announce(msg);
			await loadList();
		} catch (e) {
			if (!e.handled) {
				if (!(e.field && fieldError(e.field, e.message)))
					$('#f-lancer-erreur').textContent = e.field ?
					    `${e.message} (champ : ${e.field})` : e.message;
				announce(`Erreur : ${e.message}`);
			}
		} finally {
			btn.disabled = false;
		}
	});
}

// ---------------------------------------------------------------------
// History

// Run one action with its button disabled; its message announced.
async function act(btn, fn) {
	btn.disabled = true;
	try {
		const msg = await fn();
		if (msg)
			announce(msg);
	} catch (e) {
		if (!e.handled)
			announce(`Erreur : ${e.message}`);
	} finally {
		btn.disabled = false;
	}
}

function progressCell(b) {
	const pct = Math.max(0, Math.min(100, Number(b.progress_pct) || 0));
	return h('td', null, h('div', { class: 'progres' },
	    h('progress', { max: '100', value: String(pct),
	    'aria-label': `Progression du lot ${b.id}` }, `${pct} %`),
	    h('span', { class: 'nombre' }, `${pct} %`)));
}

function actions(b) {
	const n = b.id;
	const btn = (label, aria, fn, attrs = {}) => h('button', { type: 'button',
	    class: 'secondaire', 'aria-label': `${aria} ${n}`, ...attrs,
	    onclick: (ev) => act(ev.currentTarget, fn) }, label);
	const out = [
		btn('🔄 Actualiser statut', 'Actualiser le statut du lot', async () => {
			const d = await api('POST', `/batch/${n}/refresh`);
			await loadList();
			return `Lot ${n} : ${STATUS[d.batch.status] || d.batch.status}.`;
		}),
		btn('🔍 Détails', 'Détails du lot', () => showDetails(n)),
	];
	if (b.status === 'collected')
		out.push(btn('🔄 Reprendre', 'Reprendre les sections en échec du lot', async () => {
			const d = await api('POST', `/batch/${n}/resume`);
			await loadList();
			return `Lot ${d.batch.id} lancé : reprise de ${d.batch.total} section(s) du lot ${n}.`;
		}));
	if (RUNNING.includes(b.status) && b.status !== 'cancelling')
		out.push(btn('⏹️ Annuler', 'Annuler le lot', async () => {
			await api('POST', `/batch/${n}/cancel`);
			await loadList();
			return `Lot ${n} : annulation demandée.`;
		}));
	if (b.status === 'collected') {
		out.push(btn('⬇️ Résultats .md', 'Exporter en Markdown les résultats du lot', async () =>
		    `Téléchargé : ${await download(`/batch/${n}/results?format=md`)}`));
		out.push(btn('⬇️ Résultats .docx', 'Exporter en Word les résultats du lot', async () =>
		    `Téléchargé : ${await download(`/batch/${n}/results?format=docx`)}`));
	}
	out.push(btn('🗑️ Supprimer', 'Supprimer de l\'historique le lot', async () => {
		if (!window.confirm(`Supprimer le lot ${n} de l'historique ?` +
		    (RUNNING.includes(b.status) ? ' Il sera d\'abord annulé.' : '')))
			return null;
		await api('DELETE', `/batch/${n}`);
		if (state.details === n)
			hideDetails();
		await loadList();
		return `Lot ${n} supprimé de l'historique.`;
	}));
	return out;
}

function row(b) {
	const counts = `${b.completed} / ${b.total}` + (b.failed ? ` (${b.failed} en échec)` : '');
	return h('tr', { 'data-lot': String(b.id), 'data-statut': b.status },
	    h('th', { scope: 'row', class: 'nombre' }, String(b.id),
		b.parent_id ? h('div', { class: 'aide' }, `reprise du lot ${b.parent_id}`) : null),
	    h('td', null, KINDS[b.kind] || b.kind),
	    h('td', { class: 'cle' }, b.model),
	    h('td', null, h('span', { class: `statut statut-${b.status}` },
		STATUS[b.status] || b.status)),
	    progressCell(b),
	    h('td', { class: 'nombre' }, RUNNING.includes(b.status) ? eta(b.eta_seconds) : '—'),
	    h('td', { class: 'nombre' }, counts),
	    h('td', null, when(b.created_at)),
	    h('td', { class: 'actions-lot' }, actions(b)));
}

function renderList() {
	const tbody = $('#lots tbody');
	// Keep the focused button's place across a periodic redraw.
	const f = document.activeElement;
	const keep = f && f.closest && f.closest('#lots tbody') ?
	    [f.closest('tr').dataset.lot, f.getAttribute('aria-label')] : null;
	tbody.replaceChildren(...state.batches.map(row));
	$('#lots').hidden = state.batches.length === 0;
	$('#lots-vide').hidden = state.batches.length !== 0;
	if (keep) {
		const again = tbody.querySelector(`tr[data-lot="${keep[0]}"] ` +
		    `button[aria-label="${CSS.escape(keep[1] || '')}"]`);
		if (again)
			again.focus();
	}
	const running = state.batches.filter(followed);
	$('#suivi').textContent = running.length > 0 ?
	    `${running.length} lot(s) suivi(s) : actualisation automatique.` :
	    'Aucun lot en cours.';
	schedule(running.length > 0);
}

async function loadList() {
	const d = await api('GET', '/batch?limit=200');
	state.batches = d.batches || [];
	renderList();
}

// The periodic refresh: while a batch is not yet collected, ask OpenAI
// for it (POST refresh, which also collects one that has ended), then
// redraw.  One pass at a time; none while the page is hidden.
function schedule(on) {
	if (!on) {
		clearTimeout(state.timer);
		state.timer = null;
		return;
	}
	if (state.timer)
		return;
	state.timer = setTimeout(tick, REFRESH_MS);
}

async function tick() {
	state.timer = null;
	if (!state.user)
		return;
	if (document.hidden) {
		schedule(true);
		return;
	}
	try {
		for (const b of state.batches)
			if (followed(b))
				await api('POST', `/batch/${b.id}/refresh`).catch((e) => {
					if (e.status === 401)
						throw e;
				});
		await loadList();
		if (state.details !== null && state.details !== undefined)
			await showDetails(state.details, false);
	} catch (e) {
		if (!e.handled)
			announce(`Actualisation impossible : ${e.message}`);
		schedule(true);
	}
}

async function showDetails(id, focus = true) {
	const d = await api('GET', `/batch/${id}`);
	state.details = id;
	$('#details-titre').textContent = `Détails du lot ${id}`;
	$('#details-lignes tbody').replaceChildren(...(d.items || []).map((i) =>
	    h('tr', null, h('td', { class: 'nombre' }, String(i.plan_id)),
		h('td', null, i.section),
		h('td', null, ITEM_STATUS[i.status] || i.status),
		h('td', null, i.error || ''))));
	$('#details-brut').textContent = JSON.stringify(d.raw || {}, null, 2);
	$('#details').hidden = false;
	if (focus)
		$('#details-titre').focus();
	return null;
}

function hideDetails() {
	state.details = null;
	$('#details').hidden = true;
}

function initHistory() {
	$('#traiter').addEventListener('click', (ev) => act(ev.currentTarget, async () => {
		const d = await api('POST', '/batch/process', {});
		await loadList();
		return `${d.processed} lot(s) vérifié(s) auprès d'OpenAI.`;
	}));
	$('#nettoyer').addEventListener('click', (ev) => act(ev.currentTarget, async () => {
		const v = $('#nettoyer-jours').value.trim();
		if (!/^\d+$/.test(v))
			return 'Erreur : le nombre de jours est un entier positif.';
		if (!window.confirm(`Retirer de l'historique les lots terminés depuis plus de ${v} jour(s) ` +
		    'et supprimer leurs fichiers chez OpenAI ?'))
			return null;
		const d = await api('POST', '/batch/cleanup', { days: Number(v) });
		await loadList();
		return `Nettoyage : ${d.removed} lot(s) retiré(s), ${d.files_deleted} fichier(s) supprimé(s)` +
		    (d.files_kept ? `, ${d.files_kept} à réessayer.` : '.');
	}));
	$('#exporter').addEventListener('click', (ev) => act(ev.currentTarget, async () =>
	    `Téléchargé : ${await download(`/batch/export?format=${$('#export-format').value}`)}`));
	$('#details-fermer').addEventListener('click', () => {
		const id = state.details;
		hideDetails();
		const b = document.querySelector(`tr[data-lot="${id}"] button[aria-label^="Détails"]`);
		if (b)
			b.focus();
	});
}

// ---------------------------------------------------------------------
// Session

async function signedIn(user, csrf) {
	state.user = user;
	if (csrf)
		state.csrf = csrf;
	$('#qui').textContent = user.username || user.email;
	$('#role').textContent = ROLES[user.role] || user.role;
	$('#session').hidden = false;
	$('#connexion').hidden = true;
	$('#vue').hidden = false;
	loadProgrammes();
	try {
		await loadList();
	} catch (e) {
		if (!e.handled)
			announce(`Impossible de charger l'historique : ${e.message}`);
	}
}

function signedOut(msg) {
	state.user = null;
	state.csrf = null;
	state.batches = [];
	schedule(false);
	hideDetails();
	$('#session').hidden = true;
	$('#vue').hidden = true;
	$('#connexion').hidden = false;
	if (msg)
		announce(msg);
}

function initLogin() {
	initSignIn(async (d) => {
		await signedIn(d.user, d.csrf_token);
		announce(`Connecté : ${d.user.username}`);
	});
}

async function start() {
	initLogin();
	initLaunch();
	initHistory();
	try {
		const d = await api('GET', '/me');
		await signedIn(d.user, d.csrf_token);
	} catch {
		signedOut();
	}
	document.body.dataset.pret = '1';
}

start();
