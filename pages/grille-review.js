// grille-review.js: /programme/<id>/grille/review/<task_id>, the
// validation_url of a grille generation.  Reads the same route as JSON,
// shows the proposed grid (sessions, courses and their hours, préalables,
// corequis, fils conducteurs) with the task's checks, and applies it
// through /programme/<id>/grille/apply in the mode the user picks (append
// or overwrite), then lists the courses created.
'use strict';

(() => {
	const P = RelaisPages;
	const el = P.el;
	const $ = (x) => document.getElementById(x);
	const { pid, tid, base } = P.programmeReview();

	const list = (a) => (Array.isArray(a) && a.length ? a.join(', ') : '—');
	const num = (n) => (typeof n === 'number' ? n.toLocaleString('fr-CA', { maximumFractionDigits: 2 }) : '—');

	function swatch(colour) {
		// CSSOM, not a style attribute: the page's CSP allows no inline style.
		const s = el('span', { class: 'swatch', 'aria-hidden': 'true' });
		s.style.backgroundColor = colour;
		return s;
	}

	function checkLine(ok, text) {
		return el('li', {}, el('span', { class: ok ? 'badge bg-success' : 'badge bg-warning' }, ok ? 'conforme' : 'écart'),
		    ' ', text);
	}

	function showChecks(c) {
		if (!c)
			return;
		const ul = $('checks');
		ul.replaceChildren(
		    checkLine(c.hours_ok, `Heures de cours, (théorie + laboratoire) × 15 : ${num(c.total_hours)} h pour ${num(c.total_hours_expected)} h demandées.`),
		    checkLine(c.sessions_ok, `Sessions : ${num(c.nb_sessions)} pour ${num(c.nb_sessions_expected)} demandées.`),
		    checkLine(c.units_ok, c.total_units_expected === null || c.total_units_expected === undefined ?
			`Unités : ${num(c.total_units)} (aucun total demandé).` :
			`Unités : ${num(c.total_units)} pour ${num(c.total_units_expected)} demandées.`));
		$('checks-card').hidden = false;
	}

	function showGrid(grid) {
		const fils = Array.isArray(grid.fils_conducteurs) ? grid.fils_conducteurs : [];
		const filOf = (nom) => fils.find((f) => Array.isArray(f.cours) && f.cours.includes(nom));
		const box = $('sessions');
		box.replaceChildren();
		for (const s of grid.sessions || []) {
			const h = `session-${s.session}`;
			const rows = (s.courses || []).map((k) => {
				const f = filOf(k.nom);
				return el('tr', {},
				    el('th', { scope: 'row' }, k.nom),
				    el('td', {}, num(k.heures_theorie)),
				    el('td', {}, num(k.heures_laboratoire)),
				    el('td', {}, num(k.heures_travail_maison)),
				    el('td', {}, num(k.nombre_unites)),
				    el('td', {}, list(k.prealables)),
				    el('td', {}, list(k.corequis)),
				    el('td', {}, f ? [swatch(f.couleur), ' ', f.description] : '—'));
			});
			box.append(el('section', { class: 'card', 'aria-labelledby': h },
			    el('h2', { class: 'card-header', id: h }, `Session ${s.session}`),
			    el('div', { class: 'card-body' }, el('table', { class: 'table' },
				el('caption', { class: 'visually-hidden' }, `Cours proposés pour la session ${s.session}`),
				el('thead', {}, el('tr', {},
				    ...['Cours', 'Théorie (h/sem.)', 'Laboratoire (h/sem.)', 'Travail personnel (h/sem.)',
					'Unités', 'Préalables', 'Corequis', 'Fil conducteur'].map((t) => el('th', { scope: 'col' }, t)))),
				el('tbody', {}, rows)))));
		}
		const fb = $('fils');
		fb.replaceChildren(fils.length === 0 ? el('p', { class: 'text-muted' }, 'Aucun fil conducteur proposé.') :
		    el('table', { class: 'table' },
			el('caption', { class: 'visually-hidden' }, 'Fils conducteurs proposés'),
			el('thead', {}, el('tr', {}, ...['Couleur', 'Description', 'Cours'].map((t) => el('th', { scope: 'col' }, t)))),
			el('tbody', {}, fils.map((f) => el('tr', {},
			    el('td', {}, swatch(f.couleur), ' ', el('code', {}, f.couleur)),
			    el('td', {}, f.description),
			    el('td', {}, list(f.cours)))))));
		$('fils-card').hidden = false;
		if (grid.reasoning_summary) {
			$('reasoning-text').textContent = grid.reasoning_summary;
			$('reasoning').hidden = false;
		}
	}

	async function current() {
		// How many courses "overwrite" would take out of the programme.
		try {
			const { body } = await P.api('GET', `/api/programmes/${encodeURIComponent(pid)}/cours`);
			if (Array.isArray(body))
				$('current').textContent = body.length === 0 ? 'Le programme n\'a encore aucun cours.' :
				    `Le programme compte actuellement ${body.length} cours ; « Remplacer » les retire tous de sa grille.`;
		} catch (e) {
			$('current').textContent = '';
		}
	}

	// The grid, once the task has ended: opened while it runs, the page
	// follows it first.
	async function load() {
		await P.taskDone(tid, 'La génération n\'est pas terminée : la grille s\'affichera à la fin.');
		return (await P.api('GET', `${base}/grille/review/${encodeURIComponent(tid)}`)).body;
	}

	$('apply-form').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const mode = $('apply-form').querySelector('input[name="mode"]:checked').value;
		$('apply').disabled = true;
		P.say('info', 'Application de la grille en cours…');
		try {
			const { body } = await P.api('POST', `${base}/grille/apply`, { mode, task_id: tid });
			const created = body.created || [];
			$('created').replaceChildren(el('table', { class: 'table' },
			    el('caption', { class: 'visually-hidden' }, 'Cours créés par l\'application de la grille'),
			    el('thead', {}, el('tr', {}, ...['Code', 'Cours', 'Session'].map((t) => el('th', { scope: 'col' }, t)))),
			    el('tbody', {}, created.map((k) => el('tr', { 'data-cours-id': String(k.id) },
				el('td', {}, el('code', {}, k.code)), el('th', { scope: 'row' }, k.nom), el('td', {}, String(k.session)))))),
			    el('p', {}, el('a', { class: 'btn btn-outline-secondary', href: base }, 'Voir le programme')));
			$('created-card').hidden = false;
			// Applying twice would create every course twice.
			$('apply-form').hidden = true;
			P.say('success', `Grille appliquée (${mode === 'overwrite' ? 'remplacement' : 'ajout'}) : ${created.length} cours créé(s).`);
			$('created-title').setAttribute('tabindex', '-1');
			$('created-title').focus();
		} catch (e) {
			P.say('danger', e.message);
			$('apply').disabled = false;
		}
	});

	load().then((data) => {
		showChecks(data.checks);
		showGrid(data.grid || {});
		$('apply-form').hidden = false;
		P.say('info', 'Grille proposée chargée : vérifiez-la, choisissez le mode, puis appliquez.');
		return current();
	}).catch((e) => P.say('danger', e.message));
})();
