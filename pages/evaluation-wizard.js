// evaluation-wizard.js: /evaluation/evaluation-wizard, EDxo's wizard
// (evaluation/wizard.html) on relais' routes.  A cours, one of its plans
// de cours, one of the plan's evaluations, then the grid get_grid renders
// (its strict markup: this page's CSP runs no inline style or handler),
// the six levels of a savoir-faire generated on demand, and the whole
// form saved as the FormData EDxo's page posts.  Every step says what
// happened in the #status live region.
'use strict';

(() => {
	const P = RelaisPages;
	const $ = (x) => document.getElementById(x);
	const form = $('evaluationForm');
	const course = $('courseSelect');
	const plan = $('planSelect');
	const evaluation = $('evaluationSelect');
	const grid = $('grid-content');
	const desc = $('evaluationDescription');
	// Bumped by every choice: an answer to an older one is dropped.
	let turn = 0;

	function cookie(name) {
		const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
		return m ? decodeURIComponent(m[1]) : null;
	}

	function csrf() {
		const meta = document.querySelector('meta[name="csrf-token"]');
		return (meta && meta.content) || cookie('csrf_token');
	}

	// POST FormData as EDxo's wizard does (fetchData: the token in the
	// form and X-Requested-With), with the CSRF header the session needs.
	// The answer's JSON, or its text for get_grid; throws Error(French).
	async function post(path, fd, as = 'json') {
		const headers = { 'X-Requested-With': 'XMLHttpRequest' };
		const t = csrf();
		if (t) {
			headers['X-CSRFToken'] = t;
			fd.append('csrf_token', t);
		}
		const r = await fetch(path, { method: 'POST', body: fd,
		    credentials: 'same-origin', headers });
		if (!r.ok) {
			let j = null;
			try {
				j = await r.json();
			} catch (e) {
				j = null;
			}
			const err = new Error(P.errorText(r.status, j));
			err.status = r.status;
			throw err;
		}
		return as === 'text' ? r.text() : r.json();
	}

	function fields(o) {
		const fd = new FormData();
		for (const [k, v] of Object.entries(o))
			fd.append(k, v);
		return fd;
	}

	// A select's options: the empty choice, then one per item.
	function fill(select, placeholder, items, label) {
		select.replaceChildren(new Option(placeholder, ''),
		    ...items.map((x) => new Option(label(x), String(x.id))));
	}

	// "Unsaved" sits beside the save button, which the grid brings.
	function setDirty(on) {
		const d = $('dirty');
		if (d)
			d.hidden = !on;
	}

	// No grid: the description is disabled so that a save can never
	// post an empty one over the evaluation's.
	function clearGrid() {
		grid.replaceChildren();
		desc.value = '';
		desc.disabled = true;
		$('description-group').hidden = true;
		setDirty(false);
	}

	const plural = (n, one, many) => `${n} ${n > 1 ? many : one}`;

	// An error's French text; a lost session says how to get one back.
	const why = (e) => (e.status === 401 ?
	    'Session expirée : reconnectez-vous.' : e.message);

	async function loadCourses() {
		try {
			const { body } = await P.api('GET', '/evaluation/get_courses');
			fill(course, '-- Sélectionner un cours --', body,
			    (c) => `${c.code} - ${c.nom}`);
			P.say('info', body.length ? 'Choisissez un cours.' :
			    'Aucun cours ne vous est accessible : demandez à être ajouté à un programme.');
		} catch (e) {
			P.say('danger', `Erreur lors du chargement des cours : ${why(e)}`);
		}
	}

	course.addEventListener('change', async () => {
		const mine = ++turn;
		$('plan-section').hidden = true;
		$('evaluation-section').hidden = true;
		fill(plan, '-- Sélectionner un plan --', [], null);
		fill(evaluation, '-- Sélectionner une évaluation --', [], null);
		clearGrid();
		if (!course.value) {
			P.say('info', 'Choisissez un cours.');
			return;
		}
		P.say('info', 'Chargement des plans de cours…');
		try {
			const data = await post('/evaluation/get_plans',
			    fields({ course_id: course.value }));
			if (mine !== turn)
				return;
			fill(plan, '-- Sélectionner un plan --', data.plans,
			    (p) => p.name || `Plan ${p.id}`);
			$('plan-section').hidden = false;
			P.say('info', data.plans.length ?
			    `${plural(data.plans.length, 'plan de cours', 'plans de cours')} : choisissez-en un.` :
			    "Ce cours n'a aucun plan de cours.");
		} catch (e) {
			if (mine === turn)
				P.say('danger', `Erreur lors du chargement des plans : ${why(e)}`);
		}
	});

	plan.addEventListener('change', async () => {
		const mine = ++turn;
		$('evaluation-section').hidden = true;
		fill(evaluation, '-- Sélectionner une évaluation --', [], null);
		clearGrid();
		if (!plan.value) {
			P.say('info', 'Choisissez un plan de cours.');
			return;
		}
		P.say('info', 'Chargement des évaluations…');
		try {
			const data = await post('/evaluation/get_evaluations',
			    fields({ plan_id: plan.value }));
			if (mine !== turn)
				return;
			fill(evaluation, '-- Sélectionner une évaluation --',
			    data.evaluations, (v) => v.title || `Évaluation ${v.id}`);
			$('evaluation-section').hidden = false;
			P.say('info', data.evaluations.length ?
			    `${plural(data.evaluations.length, 'évaluation', 'évaluations')} : choisissez-en une.` :
			    "Ce plan de cours n'a aucune évaluation.");
		} catch (e) {
			if (mine === turn)
				P.say('danger', `Erreur lors du chargement des évaluations : ${why(e)}`);
		}
	});

	evaluation.addEventListener('change', async () => {
		const mine = ++turn;
		const id = evaluation.value;
		clearGrid();
		if (!id) {
			P.say('info', 'Choisissez une évaluation.');
			return;
		}
		grid.setAttribute('aria-busy', 'true');
		P.say('info', 'Chargement de la grille…');
		try {
			const [html, d] = await Promise.all([
			    post('/evaluation/get_grid',
			    fields({ evaluation_id: id, strict_csp: 'true' }), 'text'),
			    P.api('GET', `/evaluation/get_description/${encodeURIComponent(id)}`)]);
			if (mine !== turn)
				return;
			// relais' own markup, every text escaped by the server.
			grid.innerHTML = html;
			const bar = $('floating-save-button');
			if (bar)
				bar.prepend(P.el('span', { id: 'dirty', class: 'dirty',
				    hidden: true }, 'Modifications non enregistrées.'));
			desc.value = d.body.description;
			desc.disabled = false;
			$('description-group').hidden = false;
			const n = grid.querySelectorAll('input[name="savoirs_faire"]').length;
			P.say('info', n ?
			    `Grille chargée : ${plural(n, 'savoir-faire', 'savoirs-faire')}. Cochez ceux que l'évaluation mesure et décrivez leurs six niveaux.` :
			    "Aucune capacité du plan-cadre n'est associée à cette évaluation.");
		} catch (e) {
			if (mine === turn)
				P.say('danger', `Erreur lors du chargement de la grille : ${why(e)}`);
		} finally {
			if (mine === turn)
				grid.setAttribute('aria-busy', 'false');
		}
	});

	// A savoir-faire checked shows its levels and its generation button.
	grid.addEventListener('change', (ev) => {
		const box = ev.target;
		if (!box.matches('.toggle-descriptions'))
			return;
		const block = $(box.dataset.target);
		const button = $(`ai_button_${box.value}`);
		if (block)
			block.hidden = !box.checked;
		if (button)
			button.hidden = !box.checked;
	});

	for (const kind of ['input', 'change'])
		form.addEventListener(kind, (ev) => {
			if (ev.target.matches('.change-detector'))
				setDirty(true);
		});

	// The six levels of one savoir-faire, from the model, into its
	// textareas; nothing is written before the save.
	async function generate(button) {
		const sf = button.dataset.sfId;
		const label = button.textContent;
		const name = button.dataset.savoirFaire;
		const ev = form.querySelector('input[name="evaluation_id"]');
		button.disabled = true;
		button.setAttribute('aria-busy', 'true');
		button.textContent = 'Génération en cours…';
		P.say('info', `Génération des six niveaux de « ${name} »…`);
		try {
			const { body } = await P.api('POST', '/evaluation/generate_six_level_grid', {
				savoir_faire: name,
				capacite: button.dataset.capacite,
				savoir_faire_id: Number(sf),
				evaluation_id: ev ? Number(ev.value) : null,
			});
			for (let i = 1; i <= 6; i++) {
				const t = $(`level${i}_${sf}`);
				if (t)
					t.value = body[`level${i}_description`] || '';
			}
			setDirty(true);
			P.say('success', `Niveaux générés pour « ${name} » : relisez-les, puis enregistrez.`);
		} catch (e) {
			P.say('danger', `Erreur lors de la génération automatique : ${why(e)}`);
		} finally {
			button.disabled = false;
			button.removeAttribute('aria-busy');
			button.textContent = label;
		}
	}

	// The whole form, as EDxo's saveGrid posts it: the selects, the
	// description, the checked savoirs-faire, every capacité and level.
	async function save(button) {
		button.disabled = true;
		P.say('info', 'Enregistrement de la grille…');
		try {
			const r = await post('/evaluation/save_grid', new FormData(form));
			if (!r.success)
				throw new Error(r.message || 'Erreur lors de la sauvegarde.');
			setDirty(false);
			P.say('success', 'La grille a été sauvegardée avec succès.');
		} catch (e) {
			P.say('danger', `Erreur lors de la sauvegarde : ${why(e)}`);
		} finally {
			button.disabled = false;
		}
	}

	grid.addEventListener('click', (ev) => {
		const button = ev.target.closest('button');
		if (!button || button.disabled)
			return;
		if (button.dataset.action === 'generate')
			generate(button);
		else if (button.closest('#floating-save-button'))
			save(button);
	});

	// No submit button, but Enter in a field must not reload the page.
	form.addEventListener('submit', (ev) => ev.preventDefault());

	clearGrid();
	loadCourses();
})();
