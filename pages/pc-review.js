// pc-review.js: /plan_cadre/<id>/review?task_id=, the validation_url of a
// plan-cadre generation or DOCX import.  Reads the same route as JSON
// (the preview and the plan as it is now), shows only what the preview
// changes, the current text next to the proposed one, and posts what the
// user keeps to /plan_cadre/<id>/apply_improvement in the JSON form of
// EDxo's review form (a JSON body can say "none of these children", which
// the form cannot).  Once applied, the page reloads the comparison, so
// what was written no longer shows as a change.
'use strict';

(() => {
	const P = RelaisPages;
	const el = P.el;
	const $ = (x) => document.getElementById(x);
	const planId = P.pathPart(1);
	const taskId = P.param('task_id') || '';
	const base = `/plan_cadre/${encodeURIComponent(planId)}`;
	$('task-id').textContent = taskId;

	// The text columns, under EDxo's section names (global_generation_settings).
	const FIELDS = {
		place_intro: 'Intro et place du cours',
		objectif_terminal: 'Objectif terminal',
		structure_intro: 'Introduction Structure du Cours',
		structure_activites_theoriques: 'Activités Théoriques',
		structure_activites_pratiques: 'Activités Pratiques',
		structure_activites_prevues: 'Activités Prévues',
		eval_evaluation_sommative: 'Évaluation Sommative des Apprentissages',
		eval_nature_evaluations_sommatives: 'Nature des Évaluations Sommatives',
		eval_evaluation_de_la_langue: 'Évaluation de la Langue',
		eval_evaluation_sommatives_apprentissages: 'Évaluation formative des apprentissages',
	};
	// The (texte, description) lists: the apply's key, EDxo's display name.
	const LISTS = [
		['competences_developpees', 'Description des compétences développées'],
		['competences_certifiees', 'Description des Compétences certifiées'],
		['cours_corequis', 'Description des cours corequis'],
		['cours_prealables', 'Description des cours préalables'],
		['cours_relies', 'Description des cours reliés'],
		['objets_cibles', 'Objets cibles'],
	];
	const KIDS = [
		['savoirs_necessaires', 'Savoirs nécessaires'],
		['savoirs_faire', 'Savoirs-faire'],
		['moyens_evaluation', "Moyens d'évaluation"],
	];
	const ACTIONS = [
		['replace', 'Remplacer la liste actuelle par les éléments retenus'],
		['merge', 'Ajouter les éléments retenus à la liste actuelle'],
		['keep', 'Conserver la liste actuelle (ne rien appliquer)'],
	];

	let seq = 0;
	const newId = (p) => `${p}-${++seq}`;
	const norm = (v) => (v === null || v === undefined ? '' : String(v)).trim();
	const text = (x) => (typeof x === 'string' ? x : x && x.texte) || '';
	const kidText = (x) => {
		if (typeof x === 'string')
			return x;
		const parts = [x.texte || ''];
		const cible = x.cible ?? x.seuil_performance;
		const seuil = x.seuil_reussite ?? x.critere_reussite;
		if (norm(cible))
			parts.push(`cible : ${cible}`);
		if (norm(seuil))
			parts.push(`seuil : ${seuil}`);
		return parts.join(' — ');
	};

	// What the form holds, for the apply's body.
	let form = null;

	function check(label, checked) {
		const id = newId('c');
		const input = el('input', { type: 'checkbox', id, class: 'form-check-input', checked });
		return { input, wrap: el('div', { class: 'form-check' }, input, ' ',
		    el('label', { for: id, class: 'form-check-label' }, label)) };
	}

	function radios(legend, value) {
		const name = newId('action');
		const box = el('fieldset', { class: 'form-check' }, el('legend', { class: 'form-label' }, legend));
		for (const [v, label] of ACTIONS) {
			const id = newId('r');
			box.append(el('div', { class: 'form-check' },
			    el('input', { type: 'radio', name, id, value: v, checked: v === value }), ' ',
			    el('label', { for: id }, label)));
		}
		return { box, value: () => box.querySelector('input:checked').value };
	}

	function side(title, cls, ...content) {
		return el('div', { class: `col ${cls}` }, el('h3', {}, title), ...content);
	}

	function pre(s) {
		return el('pre', { class: 'text' }, norm(s) === '' ? '(vide)' : s);
	}

	function fields(box, proposed, current) {
		const cur = current.fields || {};
		// In the plan-cadre's order, then any column this page does not name.
		const all = Object.keys(proposed.fields || {});
		const keys = [...Object.keys(FIELDS).filter((k) => all.includes(k)),
		    ...all.filter((k) => !(k in FIELDS))].filter((k) => norm(proposed.fields[k]) !== norm(cur[k]));
		if (keys.length === 0)
			return;
		const h = newId('h');
		const sec = el('section', { 'aria-labelledby': h }, el('h2', { id: h }, 'Sections de texte'));
		for (const k of keys) {
			const label = FIELDS[k] || k;
			const c = check(`Appliquer « ${label} »`, true);
			form.fields.push({ key: k, input: c.input });
			sec.append(el('div', { class: 'card', 'data-field': k },
			    el('div', { class: 'card-header' }, c.wrap),
			    el('div', { class: 'card-body row' },
				side('Actuel', 'old', pre(cur[k])),
				side('Proposé', 'new', pre(proposed.fields[k])))));
		}
		box.append(sec);
	}

	// One list: the proposed items that differ from every current one.
	function list(box, key, title, proposedItems, currentItems, strings) {
		const prop = Array.isArray(proposedItems) ? proposedItems : [];
		const cur = Array.isArray(currentItems) ? currentItems : [];
		if (prop.length === 0)
			return;
		const same = (a, b) => norm(text(a)) === norm(text(b)) &&
		    (strings || norm(a.description) === norm(b.description));
		const changed = [];
		const unchanged = [];
		prop.forEach((it, i) => (cur.some((c) => same(it, c)) ? unchanged : changed).push(i));
		const gone = cur.filter((c) => !prop.some((p) => norm(text(p)) === norm(text(c))));
		if (changed.length === 0 && gone.length === 0)
			return;
		const act = radios('Comment appliquer cette liste', changed.length ? 'replace' : 'keep');
		const entry = { key, act, unchanged, changed: [] };
		const proposedBox = side('Proposé (changements)', 'new');
		for (const i of changed) {
			const it = prop[i];
			const old = strings ? null : cur.find((c) => norm(text(c)) === norm(text(it)));
			const c = check(text(it), true);
			entry.changed.push({ i, input: c.input });
			c.wrap.append(' ', el('span', { class: old ? 'badge bg-warning' : 'badge bg-primary' },
			    old ? 'modifié' : 'nouveau'));
			if (!strings)
				c.wrap.append(el('p', { class: 'text-muted' }, norm(it.description) || '(sans description)'));
			if (old)
				c.wrap.append(el('p', { class: 'text-muted' },
				    `Description actuelle : ${norm(old.description) || '(aucune)'}`));
			proposedBox.append(c.wrap);
		}
		if (changed.length === 0)
			proposedBox.append(el('p', { class: 'text-muted' }, 'Aucun élément nouveau ou modifié.'));
		const currentBox = side('Actuel', 'old');
		const ul = el('ul');
		for (const c of cur)
			ul.append(el('li', {}, text(c), strings || !norm(c.description) ? null : ` — ${c.description}`,
			    gone.includes(c) ? [' ', el('span', { class: 'badge bg-danger' }, 'absent de la proposition')] : null));
		currentBox.append(cur.length ? ul : el('p', { class: 'text-muted' }, '(liste vide)'));
		if (unchanged.length)
			proposedBox.append(el('p', { class: 'text-muted' },
			    `${unchanged.length} élément(s) identique(s) à l'actuel, gardé(s) en remplaçant.`));
		const h = newId('h');
		box.append(el('section', { class: 'card', 'aria-labelledby': h, 'data-list': key },
		    el('h2', { class: 'card-header', id: h }, title),
		    el('div', { class: 'card-body' }, act.box, el('div', { class: 'row' }, currentBox, proposedBox))));
		form.lists.push(entry);
	}

	const capSame = (a, b) => JSON.stringify(capKey(a)) === JSON.stringify(capKey(b));
	function capKey(c) {
		return [norm(c.capacite), norm(c.description_capacite), c.ponderation_min ?? null,
		    c.ponderation_max ?? null, ...KIDS.map(([k]) => (c[k] || []).map(kidText).map(norm))];
	}

	function capacites(box, proposedCaps, currentCaps) {
		const prop = Array.isArray(proposedCaps) ? proposedCaps : [];
		const cur = Array.isArray(currentCaps) ? currentCaps : [];
		if (prop.length === 0)
			return;
		const changed = [];
		const unchanged = [];
		prop.forEach((c, i) => (cur.some((x) => capSame(c, x)) ? unchanged : changed).push(i));
		if (changed.length === 0)
			return;
		const act = radios('Comment appliquer les capacités', 'replace');
		const entry = { act, unchanged, changed: [] };
		const h = newId('h');
		const body = el('div', { class: 'card-body' }, act.box);
		for (const i of changed) {
			const c = prop[i];
			const old = cur.find((x) => norm(x.capacite) === norm(c.capacite));
			const pick = check(`Retenir la capacité « ${c.capacite || '(sans nom)'} »`, true);
			const item = { i, input: pick.input, kids: {} };
			const details = el('div', { class: 'card-body' },
			    el('p', {}, norm(c.description_capacite) || '(sans description)'),
			    el('p', { class: 'text-muted' }, `Pondération : ${c.ponderation_min ?? '?'} % à ${c.ponderation_max ?? '?'} %`,
				old ? ` (actuellement ${old.ponderation_min ?? '?'} % à ${old.ponderation_max ?? '?'} %)` : ''));
			for (const [k, label] of KIDS) {
				const kids = c[k] || [];
				if (kids.length === 0)
					continue;
				const had = (old && old[k] || []).map(kidText).map(norm);
				const fs = el('fieldset', {}, el('legend', { class: 'form-label' }, `${label} de « ${c.capacite || ''} »`));
				item.kids[k] = kids.map((x, j) => {
					const kc = check(kidText(x), true);
					if (!had.includes(norm(kidText(x))))
						kc.wrap.append(' ', el('span', { class: 'badge bg-primary' }, 'nouveau'));
					fs.append(kc.wrap);
					return { j, input: kc.input };
				});
				details.append(fs);
			}
			entry.changed.push(item);
			body.append(el('div', { class: 'card new', 'data-capacite': String(i) },
			    el('div', { class: 'card-header' }, pick.wrap, ' ',
				old ? el('span', { class: 'badge bg-warning' }, 'remplace une capacité du même nom') :
				el('span', { class: 'badge bg-primary' }, 'nouvelle')), details));
		}
		const gone = cur.filter((x) => !prop.some((c) => norm(c.capacite) === norm(x.capacite)));
		if (gone.length)
			body.append(el('p', { class: 'text-muted' }, 'Capacités actuelles absentes de la proposition (retirées en remplaçant) : ',
			    gone.map((x) => `« ${x.capacite} »`).join(', ')));
		if (unchanged.length)
			body.append(el('p', { class: 'text-muted' },
			    `${unchanged.length} capacité(s) identique(s) à l'actuelle, gardée(s) en remplaçant.`));
		box.append(el('section', { class: 'card', 'aria-labelledby': h, 'data-list': 'capacites' },
		    el('h2', { class: 'card-header', id: h }, 'Capacités'), body));
		form.caps = entry;
	}

	function render(data) {
		const link = `/cours/${data.cours_id}/plan_cadre/${data.plan_id}`;
		$('plan-link').href = link;
		$('back').href = link;
		if (data.reasoning_summary) {
			$('reasoning-text').textContent = data.reasoning_summary;
			$('reasoning').hidden = false;
		}
		form = { fields: [], lists: [], caps: null };
		const box = $('sections');
		box.replaceChildren();
		const pr = data.proposed || {};
		const cu = data.current || {};
		fields(box, pr, cu);
		const pf = pr.fields_with_description || {};
		const cf = cu.fields_with_description || {};
		for (const [key, title] of LISTS)
			list(box, key, title, pf[title] ?? pf[key], cf[title], false);
		list(box, 'savoirs_etre', 'Savoir-être', pr.savoir_etre, cu.savoir_etre, true);
		capacites(box, pr.capacites, cu.capacites);
		const none = form.fields.length + form.lists.length + (form.caps ? 1 : 0) === 0;
		$('nothing').hidden = !none;
		$('apply').hidden = none;
		$('review').hidden = false;
		return none;
	}

	function applyBody() {
		const b = { task_id: taskId, accept_fields_keys: [], action: {}, accept_items: {} };
		for (const f of form.fields)
			if (f.input.checked)
				b.accept_fields_keys.push(f.key);
		const chosen = (entry, a) => {
			const c = entry.changed.filter((x) => x.input.checked).map((x) => x.i);
			// Replacing keeps the items the preview did not change.
			return (a === 'replace' ? [...entry.unchanged, ...c] : c).sort((x, y) => x - y);
		};
		let lists = 0;
		for (const l of form.lists) {
			const a = l.act.value();
			b.action[l.key] = a;
			if (a === 'keep')
				continue;
			b.accept_items[l.key] = chosen(l, a);
			lists++;
		}
		if (form.caps) {
			const a = form.caps.act.value();
			b.action.capacites = a;
			if (a !== 'keep') {
				b.accept_items.capacites = chosen(form.caps, a);
				for (const c of form.caps.changed)
					for (const [k, kids] of Object.entries(c.kids))
						b.accept_items[`capacites.${c.i}.${k}`] =
						    kids.filter((x) => x.input.checked).map((x) => x.j);
				lists++;
			}
		}
		return b.accept_fields_keys.length + lists > 0 ? b : null;
	}

	function summary(applied) {
		const parts = [];
		const n = (applied.fields || []).length;
		if (n)
			parts.push(`${n} section(s) de texte`);
		const verbs = { replace: 'remplacée', merge: 'complétée' };
		for (const [k, a] of Object.entries(applied.lists || {})) {
			const title = k === 'capacites' ? 'Capacités' : k === 'savoirs_etre' ? 'Savoir-être' :
			    (LISTS.find(([key]) => key === k) || [k, k])[1];
			parts.push(`${title} (${verbs[a] || a})`);
		}
		return parts.join(', ');
	}

	// The preview, once the task has ended: opened while it runs, the
	// page follows it first (and asks the review route nothing that
	// would only answer 409).
	async function load(wait) {
		if (wait)
			await P.taskDone(taskId, 'La génération n\'est pas terminée : la proposition s\'affichera à la fin.');
		return (await P.api('GET', `${base}/review?task_id=${encodeURIComponent(taskId)}`)).body;
	}

	$('review').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const b = applyBody();
		if (!b) {
			P.say('warning', 'Rien n\'est sélectionné : cochez un élément ou choisissez une action pour une liste.');
			return;
		}
		$('apply').disabled = true;
		P.say('info', 'Application en cours…');
		try {
			const { body } = await P.api('POST', `${base}/apply_improvement`, b);
			const done = summary(body.applied || {});
			const none = render(await load(false));
			P.say('success', `${body.message || 'Modifications appliquées.'}${done ? ` Appliqué : ${done}.` : ''}` +
			    (none ? ' La proposition ne change plus rien au plan-cadre.' : ''));
		} catch (e) {
			P.say('danger', e.message);
		} finally {
			$('apply').disabled = false;
		}
	});

	if (!taskId) {
		P.say('danger', 'Adresse incomplète : le paramètre task_id manque.');
		return;
	}
	load(true).then((data) => {
		const none = render(data);
		P.say(none ? 'warning' : 'info', none ? 'La proposition ne change rien au plan-cadre actuel.' :
		    'Proposition chargée : vérifiez les changements, puis appliquez.');
	}).catch((e) => P.say('danger', e.message));
})();
