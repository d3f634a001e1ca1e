// pdc-review.js: /plan_de_cours/review/<id>?task_id=…, the page every
// plan-de-cours task's validation_url names.  A task writes nothing: its
// result is a proposal (fields, calendriers, evaluations, mediagraphies,
// disponibilites, whichever it produced).  This page sets each part of it
// beside what the plan holds now (…/current), then posts the user's
// decision to …/apply: confirm writes the proposal; revert drops it, or
// once confirmed puts back what the plan held before the generation.
'use strict';

(() => {
	const P = RelaisPages;
	const $ = (x) => document.getElementById(x);
	const planId = P.pathPart(2);
	const taskId = P.param('task_id');

	const FIELDS = [
		['presentation_du_cours', 'Présentation du cours'],
		['objectif_terminal_du_cours', 'Objectif terminal du cours'],
		['organisation_et_methodes', 'Organisation et méthodes'],
		['accomodement', 'Accommodement'],
		['evaluation_formative_apprentissages', 'Évaluation formative des apprentissages'],
		['evaluation_expression_francais', "Évaluation de l'expression du français"],
		['seuil_reussite', 'Seuil de réussite'],
		['materiel', 'Matériel'],
		['nom_enseignant', "Nom de l'enseignant"],
		['telephone_enseignant', "Téléphone de l'enseignant"],
		['courriel_enseignant', "Courriel de l'enseignant"],
		['bureau_enseignant', "Bureau de l'enseignant"],
	];
	const CALENDAR = [['semaine', 'Semaine'], ['sujet', 'Sujet'], ['activites', 'Activités'],
	    ['travaux_hors_classe', 'Travaux hors classe'], ['evaluations', 'Évaluations']];
	const DISPOS = [['jour_semaine', 'Jour'], ['plage_horaire', 'Plage horaire'], ['lieu', 'Lieu']];

	let result = null;	// the task's proposal
	let current = null;	// the plan as it is now
	let review = null;	// null, 'confirm' or 'revert' (the task's meta)

	const text = (v) => (v === null || v === undefined) ? '' : String(v);
	const title = (e) => text(e && (e.titre_evaluation ?? e.titre));
	const capLabel = (c) => text(c && (c.capacite ?? c.capacite_nom));

	// What a list row means to a reader, to tell "changed" from "same".
	const calKey = (x) => CALENDAR.map(([k]) => text(x && x[k]));
	const evalKey = (x) => [title(x), text(x && x.semaine), text(x && x.description),
	    ((x && x.capacites) || []).map((c) => [capLabel(c), text(c.ponderation)])];
	const medKey = (x) => text(x && x.reference_bibliographique);
	const dispoKey = (x) => DISPOS.map(([k]) => text(x && x[k]));
	const same = (a, b, key) => JSON.stringify((a || []).map(key)) ===
	    JSON.stringify((b || []).map(key));

	function badge(changed) {
		return P.el('span', { class: `badge ${changed ? 'bg-primary' : 'bg-success'}` },
		    changed ? 'Changement proposé' : 'Identique');
	}

	// One part of the plan: a card, its title (a heading of the given
	// level) and badge, then "Actuel" and "Proposé" side by side.
	function part(id, level, name, changed, now, proposed) {
		const h = `${id}-titre`;
		return P.el('section', { class: 'card', id, 'aria-labelledby': h },
		    P.el('div', { class: 'card-header' }, P.el(`h${level}`, { id: h }, name), badge(changed)),
		    P.el('div', { class: 'card-body row' },
			P.el('div', { class: 'col old', 'data-side': 'actuel' }, now),
			P.el('div', { class: 'col new', 'data-side': 'propose' }, proposed)));
	}

	function fieldSide(label, value) {
		return [P.el('h4', {}, label), value === ''
		    ? P.el('p', { class: 'text-muted' }, '(vide)')
		    : P.el('pre', { class: 'text' }, value)];
	}

	function table(caption, cols, rows) {
		if (!rows.length)
			return [P.el('h4', {}, caption), P.el('p', { class: 'text-muted' }, 'Aucune entrée.')];
		return P.el('table', { class: 'table' }, P.el('caption', {}, caption),
		    P.el('thead', {}, P.el('tr', {}, cols.map((c) => P.el('th', { scope: 'col' }, c)))),
		    P.el('tbody', {}, rows.map((r) => P.el('tr', {}, r.map((v) => P.el('td', {}, v))))));
	}

	const calTable = (caption, list) => table(caption, CALENDAR.map(([, l]) => l),
	    (list || []).map((x) => CALENDAR.map(([k]) => text(x[k]))));
	const dispoTable = (caption, list) => table(caption, DISPOS.map(([, l]) => l),
	    (list || []).map((x) => DISPOS.map(([k]) => text(x[k]))));
	const evalTable = (caption, list) => table(caption,
	    ['Titre', 'Semaine', 'Description', 'Capacités et pondérations'],
	    (list || []).map((x) => [title(x), text(x.semaine), text(x.description),
		(x.capacites || []).length
		    ? P.el('ul', { class: 'list-plain' }, x.capacites.map((c) =>
			P.el('li', {}, `${capLabel(c) || 'Capacité non précisée'} — ${text(c.ponderation) || '—'}`)))
		    : '—']));

	function medList(caption, list) {
		return [P.el('h4', {}, caption), (list || []).length
		    ? P.el('ul', { class: 'list-plain' }, list.map((m) => P.el('li', {}, medKey(m))))
		    : P.el('p', { class: 'text-muted' }, 'Aucune entrée.')];
	}

	function section(heading, id, parts) {
		if (!parts.length)
			return null;
		return P.el('section', { 'aria-labelledby': id }, P.el('h2', { id }, heading), parts);
	}

	function renderParts() {
		const out = [];
		const fields = result.fields || {};
		// Only non-empty proposals are written (an empty one leaves the
		// plan's text as it is), so only those are shown.
		const fp = FIELDS.filter(([k]) => typeof fields[k] === 'string' && fields[k] !== '')
		    .map(([k, label]) => {
			const now = text(current.fields[k]);
			return part(`champ-${k}`, 3, label, now !== fields[k],
			    fieldSide('Actuel', now), fieldSide('Proposé', fields[k]));
		    });
		out.push(section('Sections du plan de cours', 'titre-champs', fp));
		const lists = [
			['calendriers', 'Calendrier', calTable, calKey],
			['evaluations', 'Évaluations', evalTable, evalKey],
			['mediagraphies', 'Médiagraphie', medList, medKey],
			['disponibilites', 'Disponibilités', dispoTable, dispoKey],
		];
		for (const [k, name, show, key] of lists) {
			if (!Array.isArray(result[k]))
				continue;
			out.push(part(`liste-${k}`, 2, name, !same(current[k], result[k], key),
			    show('Actuel', current[k]), show('Proposé', result[k])));
		}
		$('sections').replaceChildren(...out.filter(Boolean));
	}

	function renderActions() {
		const state = $('review-state');
		const help = $('actions-help');
		$('actions').hidden = false;
		$('confirm').hidden = review !== null;
		$('revert').hidden = review === 'revert';
		if (review === null) {
			state.textContent = 'Proposition en attente de votre décision';
			help.textContent = "Rien n'a encore été écrit. « Confirmer les changements » enregistre la " +
			    'proposition dans le plan de cours ; « Rejeter la proposition » le laisse tel quel.';
			$('revert').textContent = 'Rejeter la proposition';
		} else if (review === 'confirm') {
			state.textContent = 'Proposition confirmée : elle est enregistrée dans le plan de cours';
			help.textContent = "« Rétablir l'ancien contenu » remet ce que le plan contenait avant " +
			    'la génération.';
			$('revert').textContent = "Rétablir l'ancien contenu";
		} else {
			state.textContent = 'Proposition écartée : le plan de cours garde son ancien contenu';
			help.textContent = 'Cette proposition ne peut plus être appliquée ; lancez une nouvelle ' +
			    'génération au besoin.';
		}
		const url = result.plan_de_cours_url;
		if (typeof url === 'string' && url.startsWith('/')) {
			$('plan-link').href = url;
			$('plan-link').hidden = false;
		}
	}

	async function loadCurrent() {
		const { body } = await P.api('GET', `/plan_de_cours/review/${encodeURIComponent(planId)}/current`);
		current = body;
		const c = current.cours || {};
		$('intro').textContent = `${text(c.code)} ${text(c.nom)} — session ${text(current.session)}` +
		    ` — tâche ${taskId}`;
	}

	async function decide(action) {
		const was = review;
		for (const b of [$('confirm'), $('revert')])
			b.disabled = true;
		P.say('info', action === 'confirm' ? 'Enregistrement des changements…' :
		    was === 'confirm' ? "Rétablissement de l'ancien contenu…" : 'Rejet de la proposition…');
		try {
			await P.api('POST', `/plan_de_cours/review/${encodeURIComponent(planId)}/apply`,
			    { action, task_id: taskId });
			review = action;
			await loadCurrent();
			renderParts();
			renderActions();
			P.say('success', action === 'confirm'
			    ? 'Les changements sont enregistrés dans le plan de cours.'
			    : was === 'confirm' ? "L'ancien contenu du plan de cours est rétabli."
			    : "La proposition est rejetée ; le plan de cours n'a pas changé.");
			$('review-state').focus();
		} catch (e) {
			P.say('danger', e.message);
			// Decided elsewhere (another tab): show where things stand.
			if (e.status === 409) {
				const { body } = await P.api('GET', `/tasks/status/${encodeURIComponent(taskId)}`);
				review = (body.meta && body.meta.review) || null;
				await loadCurrent();
				renderParts();
				renderActions();
			}
		} finally {
			for (const b of [$('confirm'), $('revert')])
				b.disabled = false;
		}
	}

	$('confirm').addEventListener('click', () => decide('confirm'));
	$('revert').addEventListener('click', () => decide('revert'));

	async function main() {
		if (!/^[0-9]+$/.test(planId))
			throw new Error('Adresse invalide : le numéro du plan de cours manque.');
		if (!taskId || !/^[0-9a-fA-F-]{36}$/.test(taskId))
			throw new Error('Aucune tâche indiquée : ouvrez cette page par le lien « Aller à la ' +
			    'validation » d\'une tâche terminée.');
		const st = await P.follow(taskId, (s) => {
			if (!['SUCCESS', 'FAILURE', 'REVOKED'].includes(s.state))
				P.say('info', `Tâche ${(P.STATES[s.state] || s.state).toLowerCase()}… ` +
				    'La proposition s\'affichera à la fin de la génération.');
		});
		if (st.state !== 'SUCCESS') {
			const msg = (st.result && st.result.message) || st.message;
			throw new Error(msg || (st.state === 'REVOKED' ? 'La tâche a été annulée.' :
			    'La tâche a échoué : il n\'y a rien à réviser.'));
		}
		result = st.result || {};
		if (String(result.plan_id) !== planId)
			throw new Error('Cette tâche ne concerne pas ce plan de cours.');
		review = (st.meta && st.meta.review) || null;
		await loadCurrent();
		const rs = text(result.reasoning_summary);
		if (rs !== '') {
			$('reasoning-text').textContent = rs;
			$('reasoning').hidden = false;
		}
		renderParts();
		renderActions();
		P.say('info', review === null ? 'Comparez la proposition au contenu actuel, puis décidez.'
		    : 'Cette proposition a déjà été traitée.');
	}

	main().then(() => {
		document.body.dataset.pret = '1';
	}, (e) => {
		P.say('danger', e.message);
		document.body.dataset.pret = 'erreur';
	});
})();
