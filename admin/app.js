// The relais admin page: sign-in, the settings pages, models and prices,
// users (roles, OpenAI keys, credits) and usage.  Plain script (classic,
// deferred: it runs even when a server sends it without a JavaScript MIME
// type), no framework, no build step.  Every value comes from and goes to
// the JSON API of the settings program (session cookie + X-CSRFToken).
'use strict';

const state = { user: null, csrf: null, view: null };

const ROLES = [
	['admin', 'Administrateur'],
	['coordo', 'Coordonnateur'],
	['professeur', 'Professeur'],
	['cp', 'Conseiller pédagogique'],
	['invite', 'Invité'],
];
const roleLabel = (r) => (ROLES.find(([v]) => v === r) || [r, r])[1];

// ---------------------------------------------------------------------
// Forms: one builder for every settings page.  A field is
// {name, label, type, options, help, rows, required}; its error line has
// the id "<input id>-err" and is named by aria-describedby.

let uid = 0;

function control(formId, f) {
	const id = `${formId}-${f.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
	const errId = `${id}-err`;
	const helpId = f.help ? `${id}-aide` : null;
	const described = [helpId, errId].filter(Boolean).join(' ');
	let input;
	const common = { id, name: f.name, 'aria-describedby': described,
	    required: f.required || false };
	switch (f.type) {
	case 'textarea':
		input = h('textarea', { ...common, rows: String(f.rows || 8),
		    spellcheck: 'false' });
		break;
	case 'select':
		input = h('select', common, f.options.map(([v, l]) =>
		    h('option', { value: v }, l)));
		break;
	case 'checkbox':
		input = h('input', { ...common, type: 'checkbox' });
		break;
	case 'model':
		input = h('input', { ...common, type: 'text', list: 'liste-modeles',
		    autocomplete: 'off' });
		break;
	default:
		input = h('input', { ...common, type: f.type || 'text',
		    autocomplete: f.autocomplete || 'off',
		    inputmode: f.inputmode || null });
	}
	const label = h('label', { for: id, class: f.hideLabel ? 'visuel-cache' : null },
	    f.label);
	const wrap = h('div', { class: f.type === 'checkbox' ? 'champ case' : 'champ' },
	    f.type === 'checkbox' ? [input, label] : [label, input],
	    f.help ? h('p', { class: 'aide', id: helpId }, f.help) : null,
	    h('p', { class: 'erreur', id: errId }));
	return { wrap, input };
}

// makeForm(id, parts, submitLabel): parts are fields, or
// {legend, fields} groups (a fieldset), or DOM nodes.
function makeForm(id, parts, submitLabel, extraButtons = []) {
	const inputs = new Map();
	const top = h('p', { class: 'erreur-form', role: 'alert', id: `${id}-erreur` });
	const status = h('p', { class: 'etat', role: 'status', 'aria-live': 'polite',
	    id: `${id}-etat` });
	const build = (p) => {
		if (p instanceof Node)
			return p;
		if (p.legend) {
			return h('fieldset', null, h('legend', null, p.legend),
			    p.fields.map(build));
		}
		const c = control(id, p);
		inputs.set(p.name, { input: c.input, field: p });
		return c.wrap;
	};
	const submit = h('button', { type: 'submit' }, submitLabel);
	const el = h('form', { id, novalidate: true }, top, parts.map(build),
	    h('div', { class: 'actions' }, submit, extraButtons, status));
	const form = {
		el, inputs, submit,
		set(values) {
			for (const [name, { input, field }] of inputs) {
				if (!(name in values))
					continue;
				const v = values[name];
				if (field.type === 'checkbox')
					input.checked = Boolean(v);
				else
					input.value = v === null || v === undefined ? '' : String(v);
			}
		},
		values() {
			const out = {};
			for (const [name, { input, field }] of inputs) {
				if (field.skip)
					continue;
				if (field.type === 'checkbox')
					out[name] = input.checked;
				else if (field.nullable && input.value === '')
					out[name] = null;
				else
					out[name] = input.value;
			}
			return out;
		},
		clear() {
			top.textContent = '';
			status.textContent = '';
			for (const { input, errId } of inputs.values()) {
				input.removeAttribute('aria-invalid');
				const e = document.getElementById(errId || `${input.id}-err`);
				if (e)
					e.textContent = '';
			}
		},
		ok(msg = 'Enregistré') {
			status.textContent = msg;
			announce(msg);
		},
		error(err) {
			if (err.handled)
				return;
			const hit = err.field && (inputs.get(err.field) ||
			    [...inputs.values()].find(({ input }) => input.name === err.field));
			const line = hit && document.getElementById(hit.errId ||
			    `${hit.input.id}-err`);
			if (line) {
				hit.input.setAttribute('aria-invalid', 'true');
				line.textContent = err.message;
				hit.input.focus();
			} else {
				top.textContent = err.field ?
				    `${err.message} (champ : ${err.field})` : err.message;
			}
			announce(`Erreur : ${err.message}`);
		},
		// onSubmit(fn): fn(values) runs with the button disabled; its
		// result is the "saved" message, an exception shows the error.
		onSubmit(fn) {
			el.addEventListener('submit', async (ev) => {
				ev.preventDefault();
				form.clear();
				submit.disabled = true;
				try {
					const msg = await fn(form.values());
					form.ok(msg || 'Enregistré');
				} catch (e) {
					if (!(e instanceof ApiError))
						console.error(e);
					form.error(e instanceof ApiError ? e :
					    new ApiError(0, 'client', String(e.message || e)));
				} finally {
					submit.disabled = false;
				}
			});
		},
	};
	return form;
}

// The model names for every "model" input (a datalist, so a name the
// table lacks can still be typed; the server checks it).
async function loadModelList() {
	let list = $('#liste-modeles');
	if (!list) {
		list = h('datalist', { id: 'liste-modeles' });
		document.body.append(list);
	}
	try {
		const d = await api('GET', '/settings/openai_models');
		list.replaceChildren(...(d.models || []).map((m) =>
		    h('option', { value: m.name })));
	} catch { /* not an admin, or not there: free text */ }
}

// ---------------------------------------------------------------------
// Views

const EFFORTS = [['', 'Par défaut (aucun)'], ['minimal', 'Minimal'],
    ['low', 'Faible'], ['medium', 'Moyen'], ['high', 'Élevé']];
const VERBOSITY = [['', 'Par défaut (aucune)'], ['low', 'Faible'],
    ['medium', 'Moyenne'], ['high', 'Élevée']];

// The per-feature AI settings pages (section_ai_settings), in menu order.
const AI_FEATURES = [
	['/settings/chat/ai', 'Clavardage'],
	['/settings/plan-de-cours/ai', 'Plan de cours (génération)'],
	['/settings/plan-de-cours/ai-improve', 'Plan de cours (amélioration)'],
	['/settings/plan-de-cours/ai-import', 'Plan de cours (importation)'],
	['/settings/plan-cadre/ai', 'Plan-cadre (génération)'],
	['/settings/plan-cadre/ai-improve', 'Plan-cadre (amélioration)'],
	['/settings/plan-cadre/ai-import', 'Plan-cadre (importation)'],
	['/settings/logigramme/ai', 'Logigramme'],
	['/settings/grille/ai', 'Grille de cours (génération)'],
	['/settings/grille/ai-import', 'Grille de cours (importation)'],
	['/settings/evaluation/ai', "Grille d'évaluation"],
	['/settings/ocr/ai', 'Devis ministériels (OCR)'],
	['/settings/analyse/ai', 'Vérification des plans de cours'],
];

// A settings page: GET path fills the form, POST path saves it.
function settingsPage({ id, title, intro, path, fields, after }) {
	return async (root) => {
		root.append(h('h2', { tabindex: '-1' }, title));
		if (intro)
			root.append(h('p', { class: 'intro' }, intro));
		const data = await api('GET', path);
		const form = makeForm(`f-${id}`, fields, 'Enregistrer');
		form.set(data);
		if (after)
			after(form, data);
		form.onSubmit(async (values) => {
			const saved = await api('POST', path, values);
			form.set(saved || {});
			if (after)
				after(form, saved || {});
			return 'Enregistré';
		});
		root.append(form.el);
		if (fields.some((f) => f.type === 'model' ||
		    (f.fields || []).some((g) => g.type === 'model')))
			loadModelList();
	};
}

const views = {
	accueil: { title: 'Accueil', render: async (root) => {
		root.append(h('h2', { tabindex: '-1' }, 'Accueil'),
		    h('p', null, 'Choisissez une page dans le menu. Les pages réservées ' +
		    'aux administrateurs affichent « Accès refusé » pour les autres rôles.'));
	} },

	'modeles-chat': { title: 'Modèles de clavardage et génération',
	    render: settingsPage({
		id: 'chat', title: 'Modèles de clavardage et génération',
		intro: 'Le modèle des outils suit le modèle de clavardage.',
		path: '/settings/chat_models',
		fields: [
			{ name: 'chat_model', label: 'Modèle de clavardage', type: 'model',
			  required: true },
			{ legend: 'Paramètres de génération', fields: [
				{ name: 'reasoning_effort', label: 'Effort de raisonnement',
				  type: 'select', options: EFFORTS, nullable: true },
				{ name: 'verbosity', label: 'Verbosité', type: 'select',
				  options: VERBOSITY, nullable: true },
			] },
		],
		after(form, data) {
			let p = form.el.querySelector('.modele-outils');
			if (!p) {
				p = h('p', { class: 'modele-outils' });
				form.el.querySelector('fieldset').before(p);
			}
			p.textContent = `Modèle des outils : ${data.tool_model || '—'}`;
		},
	}) },

	analyse: { title: "Prompt d'analyse", render: settingsPage({
		id: 'analyse', title: "Prompt d'analyse des plans de cours",
		path: '/settings/analyse_prompt',
		fields: [
			{ name: 'prompt_template', label: 'Gabarit du prompt', type: 'textarea',
			  rows: 14 },
			{ name: 'ai_model', label: 'Modèle', type: 'model' },
		],
	}) },

	grille: { title: "Grilles d'évaluation", render: settingsPage({
		id: 'grille', title: "Grilles d'évaluation (six niveaux)",
		path: '/settings/prompt-settings',
		fields: [
			{ name: 'prompt_template', label: 'Gabarit du prompt', type: 'textarea',
			  rows: 12 },
			{ legend: 'Descriptions des niveaux', fields: [1, 2, 3, 4, 5, 6].map((n) =>
			    ({ name: `level${n}_description`, label: `Niveau ${n}`,
			       type: 'textarea', rows: 2 })) },
		],
	}) },

	'plan-de-cours': { title: 'Prompts du plan de cours', render: async (root) => {
		root.append(h('h2', { tabindex: '-1' }, 'Prompts du plan de cours'));
		const d = await api('GET', '/settings/plan-de-cours/prompts');
		const prompts = d.prompts || [];
		if (prompts.length === 0)
			root.append(h('p', null, 'Aucun prompt.'));
		for (const p of prompts) {
			const fid = `f-pdc-${p.id}`;
			const vars = Array.isArray(p.context_variables) ?
			    p.context_variables.join(', ') :
			    (p.context_variables ? JSON.stringify(p.context_variables) : '');
			const form = makeForm(fid, [
				{ name: 'prompt_template', label: `Gabarit — ${p.field_name}`,
				  type: 'textarea', rows: 8,
				  help: vars ? `Variables : ${vars}` : null },
				{ name: 'ai_model', label: `Modèle — ${p.field_name}`, type: 'model' },
			], 'Enregistrer ce prompt');
			form.set(p);
			form.onSubmit(async (values) => {
				const saved = await api('POST',
				    `/settings/plan-de-cours/prompts/${p.id}`, values);
				form.set(saved || {});
				return 'Enregistré';
			});
			root.append(h('section', { class: 'bloc', 'aria-labelledby': `${fid}-titre` },
			    h('h3', { id: `${fid}-titre` }, p.field_name), form.el));
		}
		loadModelList();
	} },

	ia: { title: 'IA par fonction', render: async (root) => {
		root.append(h('h2', { tabindex: '-1' }, 'IA par fonction'),
		    h('p', { class: 'intro' }, 'Prompt système, modèle, effort de ' +
		    'raisonnement et verbosité de chaque fonction. Un champ vide ' +
		    'laisse la valeur par défaut (page « Modèles de clavardage et ' +
		    'génération »).'));
		for (const [i, [path, name]] of AI_FEATURES.entries()) {
			const fid = `f-ia-${i}`;
			const data = await api('GET', path);
			const form = makeForm(fid, [
				{ name: 'system_prompt', label: `Prompt système — ${name}`,
				  type: 'textarea', rows: 5, nullable: true },
				{ name: 'ai_model', label: `Modèle — ${name}`, type: 'model',
				  nullable: true },
				{ name: 'reasoning_effort',
				  label: `Effort de raisonnement — ${name}`, type: 'select',
				  options: EFFORTS, nullable: true },
				{ name: 'verbosity', label: `Verbosité — ${name}`,
				  type: 'select', options: VERBOSITY, nullable: true },
			], `Enregistrer — ${name}`);
			form.set(data);
			form.onSubmit(async (values) => {
				form.set((await api('POST', path, values)) || {});
				return 'Enregistré';
			});
			root.append(h('section', { class: 'bloc',
			    'aria-labelledby': `${fid}-titre` },
			    h('h3', { id: `${fid}-titre` }, name), form.el));
		}
		loadModelList();
	} },

	ocr: { title: 'Prompts OCR', render: settingsPage({
		id: 'ocr', title: 'Prompts OCR (importation de devis)',
		path: '/settings/ocr_prompts',
		fields: [
			{ legend: 'Extraction', fields: [
				{ name: 'extraction_prompt', label: "Prompt d'extraction",
				  type: 'textarea', rows: 10 },
				{ name: 'model_extraction', label: "Modèle d'extraction", type: 'model' },
			] },
			{ legend: 'Segmentation', fields: [
				{ name: 'segmentation_prompt', label: 'Prompt de segmentation',
				  type: 'textarea', rows: 10 },
				{ name: 'model_section', label: 'Modèle de segmentation', type: 'model' },
			] },
		],
	}) },

	'import-plan-cadre': { title: 'Importation du plan-cadre', render: settingsPage({
		id: 'import', title: "Prompt d'importation du plan-cadre",
		path: '/settings/plan-cadre/import_prompt',
		fields: [
			{ name: 'prompt_template', label: 'Gabarit du prompt', type: 'textarea',
			  rows: 14, help: 'Doit contenir {doc_text}, remplacé par le texte du document.' },
			{ name: 'ai_model', label: 'Modèle', type: 'model' },
		],
	}) },

	'plan-cadre': { title: 'Génération du plan-cadre', render: async (root) => {
		root.append(h('h2', { tabindex: '-1' }, 'Génération du plan-cadre'),
		    h('p', { class: 'intro' }, 'Pour chaque section : générer avec l\'IA ' +
		    'ou non, et la consigne utilisée.'));
		const d = await api('GET', '/settings/plan_cadre');
		const sections = d.sections || [];
		const rows = sections.map((s, i) => ({ s, i }));
		const table = h('table', { class: 'sections' },
		    h('caption', null, `Sections (${sections.length})`),
		    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Section'),
			h('th', { scope: 'col' }, 'IA'), h('th', { scope: 'col' }, 'Consigne'))),
		    h('tbody'));
		const form = makeForm('f-plan-cadre', [table], 'Enregistrer');
		const tbody = table.tBodies[0];
		for (const { s, i } of rows) {
			const cb = control('f-plan-cadre', { name: `sections[${i}].use_ai`,
			    label: `Utiliser l'IA — ${s.section}`, type: 'checkbox', hideLabel: true });
			const ta = control('f-plan-cadre', { name: `sections[${i}].text_content`,
			    label: `Consigne — ${s.section}`, type: 'textarea', rows: 3, hideLabel: true });
			form.inputs.set(`sections[${i}].use_ai`, { input: cb.input,
			    field: { type: 'checkbox' } });
			form.inputs.set(`sections[${i}].text_content`, { input: ta.input,
			    field: { type: 'textarea' } });
			tbody.append(h('tr', null, h('th', { scope: 'row' }, s.section),
			    h('td', null, cb.wrap), h('td', null, ta.wrap)));
		}
		const fill = (list) => list.forEach((s) => {
			const i = sections.findIndex((x) => x.section === s.section);
			if (i >= 0)
				form.set({ [`sections[${i}].use_ai`]: s.use_ai,
				    [`sections[${i}].text_content`]: s.text_content });
		});
		fill(sections);
		form.onSubmit(async (v) => {
			const body = { sections: sections.map((s, i) => ({ section: s.section,
			    use_ai: v[`sections[${i}].use_ai`],
			    text_content: v[`sections[${i}].text_content`] })) };
			const saved = await api('POST', '/settings/plan_cadre', body);
			if (saved && saved.sections)
				fill(saved.sections);
			return 'Enregistré';
		});
		root.append(form.el);
	} },

	modeles: { title: 'Modèles et prix', render: async (root) => {
		root.append(h('h2', { tabindex: '-1' }, 'Modèles OpenAI et prix'),
		    h('p', { class: 'intro' }, 'Prix en dollars américains par million de jetons.'));
		const tableWrap = h('div');
		const status = h('p', { class: 'etat', role: 'status', 'aria-live': 'polite' });
		const refresh = async () => {
			const d = await api('GET', '/settings/openai_models');
			const models = d.models || [];
			tableWrap.replaceChildren(h('table', { class: 'donnees' },
			    h('caption', null, `Modèles (${models.length})`),
			    h('thead', null, h('tr', null,
				h('th', { scope: 'col' }, 'Nom'),
				h('th', { scope: 'col', class: 'nombre' }, 'Entrée (USD / 1M)'),
				h('th', { scope: 'col', class: 'nombre' }, 'Entrée en cache (USD / 1M)'),
				h('th', { scope: 'col', class: 'nombre' }, 'Sortie (USD / 1M)'),
				h('th', { scope: 'col' }, 'Actions'))),
			    h('tbody', null, models.map((m) => h('tr', null,
				h('th', { scope: 'row' }, m.name),
				h('td', { class: 'nombre' }, m.input_price ?? '—'),
				h('td', { class: 'nombre' }, m.cached_input_price ?? '—'),
				h('td', { class: 'nombre' }, m.output_price ?? '—'),
				h('td', null, h('button', { type: 'button', class: 'secondaire',
				    'aria-label': `Supprimer ${m.name}`, onclick: async (ev) => {
					ev.target.disabled = true;
					try {
						await api('POST', `/settings/openai_models/delete/${m.id}`, {});
						status.textContent = `Modèle ${m.name} supprimé.`;
						announce(status.textContent);
						await refresh();
					} catch (e) {
						ev.target.disabled = false;
						if (!e.handled) {
							status.textContent = `Erreur : ${e.message}`;
							announce(status.textContent);
						}
					}
				} }, 'Supprimer')))))));
		};
		await refresh();
		const form = makeForm('f-modele', [
			{ legend: 'Ajouter un modèle', fields: [
				{ name: 'name', label: 'Nom du modèle', required: true },
				{ name: 'input_price', label: 'Prix en entrée (USD / 1M jetons)',
				  inputmode: 'decimal', required: true },
				{ name: 'cached_input_price', label: 'Prix en entrée en cache (USD / 1M jetons, facultatif)',
				  inputmode: 'decimal' },
				{ name: 'output_price', label: 'Prix en sortie (USD / 1M jetons)',
				  inputmode: 'decimal', required: true },
			] },
		], 'Ajouter');
		form.onSubmit(async (v) => {
			if (v.cached_input_price === '')
				delete v.cached_input_price;
			await api('POST', '/settings/openai_models', v);
			form.el.reset();
			await refresh();
			return 'Modèle ajouté';
		});
		root.append(status, tableWrap, form.el);
	} },

	fournisseurs: { title: 'Fournisseurs', render: renderProviders },
	utilisateurs: { title: 'Utilisateurs', render: renderUsers },
	consommation: { title: 'Consommation', render: renderUsage },
	limites: { title: 'Limites de requêtes', render: renderRateLimits },
};

// Upstream providers (/settings/providers): the list with their models, a
// switch and a test per provider, and forms to add one, edit one and
// assign a model with its prices.  Keys are never shown: only whether one
// is stored and its last four characters.
async function renderProviders(root) {
	root.append(h('h2', { tabindex: '-1' }, 'Fournisseurs'),
	    h('p', { class: 'intro' }, 'Chaque modèle est servi par un fournisseur ' +
	    '(OpenAI ou une API compatible) avec son URL et sa clé. Un fournisseur ' +
	    'désactivé refuse ses modèles. Prix en USD par million de jetons.'));
	const wrap = h('div');
	const status = h('p', { class: 'etat', role: 'status', 'aria-live': 'polite',
	    id: 'fournisseurs-etat' });
	const say = (msg) => {
		status.textContent = msg;
		announce(msg);
	};
	const KINDS = [['openai_compatible', 'Compatible OpenAI'], ['openai', 'OpenAI']];
	let providers = [];
	const choices = () => providers.map((p) => [String(p.id), p.name]);
	const key = (k) => (k.set ? (k.last4 ? `…${k.last4}` : 'enregistrée') : 'aucune');
	const act = (fn) => async (ev) => {
		ev.target.disabled = true;
		try {
			await fn();
		} catch (e) {
			if (!e.handled)
				say(`Erreur : ${e.message}`);
		} finally {
			ev.target.disabled = false;
		}
	};
	const show = () => {
		wrap.replaceChildren(h('table', { class: 'donnees', id: 'table-fournisseurs' },
		    h('caption', null, `Fournisseurs (${providers.length})`),
		    h('thead', null, h('tr', null,
			h('th', { scope: 'col' }, 'Nom'),
			h('th', { scope: 'col' }, 'Type'),
			h('th', { scope: 'col' }, 'URL'),
			h('th', { scope: 'col' }, 'Clé'),
			h('th', { scope: 'col' }, 'État'),
			h('th', { scope: 'col' }, 'Modèles (entrée / sortie)'),
			h('th', { scope: 'col' }, 'Actions'))),
		    h('tbody', null, providers.map((p) => h('tr', { 'data-fournisseur': p.name },
			h('th', { scope: 'row' }, p.name),
			h('td', null, p.kind === 'openai' ? 'OpenAI' : 'Compatible OpenAI'),
			h('td', null, p.base_url ?? '(environnement)'),
			h('td', { class: 'cle' }, key(p.api_key)),
			h('td', { class: 'etat-fournisseur' }, p.enabled ? 'activé' : 'désactivé'),
			h('td', null, p.models.length === 0 ? '—' : p.models.map((m) =>
			    `${m.name} (${m.input_price} / ${m.output_price})` +
			    (m.router_enabled ? '' : ' [hors routeur]')).join(', ')),
			h('td', null,
			    h('button', { type: 'button', class: 'secondaire',
				'aria-label': `${p.enabled ? 'Désactiver' : 'Activer'} ${p.name}`,
				onclick: act(async () => {
					await api('POST', `/settings/providers/${p.id}`,
					    { enabled: !p.enabled });
					await refresh();
					say(`Fournisseur ${p.name} ${p.enabled ? 'désactivé' : 'activé'}.`);
				}) }, p.enabled ? 'Désactiver' : 'Activer'),
			    ' ',
			    h('button', { type: 'button', class: 'secondaire',
				'aria-label': `Tester ${p.name}`, onclick: act(async () => {
					say(`Test de ${p.name}…`);
					const t = await api('POST', `/settings/providers/${p.id}/test`, {});
					say(t.ok ? `${p.name} : réponse de ${t.model} en ${t.latency_ms} ms.` :
					    `${p.name} : échec (${t.status || 'pas de réponse'}) après ` +
					    `${t.latency_ms} ms : ${t.error.message}`);
				}) }, 'Tester')))))));
		for (const f of [edit, assign]) {
			const sel = f.inputs.get('id').input;
			const was = sel.value;
			sel.replaceChildren(...choices().map(([v, l]) => h('option', { value: v }, l)));
			if (was)
				sel.value = was;
		}
	};
	const refresh = async () => {
		providers = (await api('GET', '/settings/providers')).providers || [];
		show();
	};
	const add = makeForm('f-fournisseur', [
		{ legend: 'Ajouter un fournisseur', fields: [
			{ name: 'name', label: 'Nom (minuscules, chiffres, - et _)', required: true },
			{ name: 'kind', label: 'Type', type: 'select', options: KINDS },
			{ name: 'base_url', label: 'URL de base (https://…/v1)', required: true },
			{ name: 'api_key', label: 'Clé d\'API', type: 'password', nullable: true },
			{ name: 'enabled', label: 'Activé', type: 'checkbox' },
		] },
	], 'Ajouter');
	add.onSubmit(async (v) => {
		await api('POST', '/settings/providers', v);
		add.el.reset();
		await refresh();
		return 'Fournisseur ajouté';
	});
	const edit = makeForm('f-fournisseur-modif', [
		{ legend: 'Modifier un fournisseur', fields: [
			{ name: 'id', label: 'Fournisseur', type: 'select', options: [] },
			{ name: 'kind', label: 'Type', type: 'select', options: [['', '(inchangé)'], ...KINDS] },
			{ name: 'base_url', label: 'URL de base (vide : inchangée)' },
			{ name: 'api_key', label: 'Nouvelle clé d\'API (vide : inchangée)', type: 'password' },
			{ name: 'remove_key', label: 'Supprimer la clé enregistrée', type: 'checkbox' },
		] },
	], 'Enregistrer');
	edit.onSubmit(async (v) => {
		const body = {};
		if (v.kind !== '')
			body.kind = v.kind;
		if (v.base_url.trim() !== '')
			body.base_url = v.base_url.trim();
		if (v.remove_key)
			body.api_key = null;
		else if (v.api_key !== '')
			body.api_key = v.api_key;
		await api('POST', `/settings/providers/${v.id}`, body);
		edit.inputs.get('api_key').input.value = '';
		edit.inputs.get('remove_key').input.checked = false;
		await refresh();
		return 'Fournisseur enregistré';
	});
	const assign = makeForm('f-fournisseur-modele', [
		{ legend: 'Assigner un modèle à un fournisseur', fields: [
			{ name: 'id', label: 'Fournisseur', type: 'select', options: [] },
			{ name: 'name', label: 'Nom du modèle', type: 'model', required: true },
			{ name: 'input_price', label: 'Prix en entrée (USD / 1M jetons)',
			  inputmode: 'decimal', required: true },
			{ name: 'cached_input_price', label: 'Prix en entrée en cache (facultatif)',
			  inputmode: 'decimal', nullable: true },
			{ name: 'output_price', label: 'Prix en sortie (USD / 1M jetons)',
			  inputmode: 'decimal', required: true },
			{ name: 'router_enabled', label: 'Offert par /models', type: 'checkbox' },
		] },
	], 'Assigner');
	assign.onSubmit(async (v) => {
		const { id, ...body } = v;
		await api('POST', `/settings/providers/${id}/models`, body);
		await refresh();
		return `Modèle ${v.name} assigné`;
	});
	add.inputs.get('enabled').input.checked = true;
	assign.inputs.get('router_enabled').input.checked = true;
	await refresh();
	root.append(status, wrap, add.el, edit.el, assign.el);
	loadModelList();
}

// Users: the list, a creation form, and an edit panel for one user.
async function renderUsers(root) {
	root.append(h('h2', { tabindex: '-1' }, 'Utilisateurs'));
	const listWrap = h('div');
	const panel = h('section', { class: 'bloc', 'aria-labelledby': 'edition-titre',
	    hidden: true });
	let users = [];
	let selected = null;

	const refresh = async () => {
		const d = await api('GET', '/manage_users');
		users = d.users || [];
		listWrap.replaceChildren(h('table', { class: 'donnees', id: 'table-utilisateurs' },
		    h('caption', null, `Utilisateurs (${users.length})`),
		    h('thead', null, h('tr', null,
			['Utilisateur', 'Courriel', 'Nom', 'Rôle'].map((t) =>
			    h('th', { scope: 'col' }, t)),
			h('th', { scope: 'col', class: 'nombre' }, 'Crédits'),
			h('th', { scope: 'col' }, 'Clé OpenAI'),
			h('th', { scope: 'col' }, 'Actions'))),
		    h('tbody', null, users.map((u) => h('tr', { 'data-user': u.username, 'data-email': u.email || null },
			h('th', { scope: 'row' }, u.username),
			h('td', null, u.email || '—'),
			h('td', null, [u.prenom, u.nom].filter(Boolean).join(' ') || '—'),
			h('td', null, roleLabel(u.role)),
			h('td', { class: 'nombre' }, u.credits ?? '—'),
			h('td', { class: 'cle' }, u.openai_key || 'aucune'),
			h('td', null, h('button', { type: 'button', class: 'secondaire',
			    'aria-label': `Modifier ${u.username}`,
			    onclick: () => edit(u.id) }, 'Modifier')))))));
		if (selected !== null) {
			const u = users.find((x) => x.id === selected);
			if (u)
				fillPanel(u);
		}
	};

	// The edit panel: identity and role, OpenAI key, credits.
	const fId = makeForm('f-utilisateur', [
		{ name: 'role', label: 'Rôle', type: 'select', options: ROLES },
		{ name: 'email', label: 'Courriel', type: 'email' },
		{ name: 'prenom', label: 'Prénom' },
		{ name: 'nom', label: 'Nom' },
	], 'Enregistrer');
	const keyNow = h('p', { class: 'cle-actuelle' });
	const clearBtn = h('button', { type: 'button', class: 'secondaire' }, 'Effacer la clé');
	const fKey = makeForm('f-cle', [
		keyNow,
		{ name: 'openai_key', label: 'Nouvelle clé OpenAI', type: 'password',
		  autocomplete: 'new-password',
		  help: 'La clé est chiffrée sur le serveur ; seule sa fin est affichée.' },
	], 'Enregistrer la clé', [clearBtn]);
	const fCredits = makeForm('f-credits', [
		h('p', { class: 'solde' }),
		{ name: 'amount', label: 'Montant (ex. 5.00)', inputmode: 'decimal', required: true },
		{ legend: 'Opération', fields: [] },
	], 'Appliquer');
	// Radio buttons for the operation, inside the "Opération" fieldset.
	const opField = fCredits.el.querySelector('fieldset');
	const radios = [['add', 'Ajouter'], ['remove', 'Retirer']].map(([v, l], i) => {
		const r = h('input', { type: 'radio', name: 'operation', value: v,
		    id: `f-credits-op-${v}`, checked: i === 0 });
		opField.append(h('div', { class: 'champ case' }, r,
		    h('label', { for: r.id }, l)));
		return r;
	});
	opField.append(h('p', { class: 'erreur', id: 'f-credits-operation-err' }));
	radios.forEach((r) => r.setAttribute('aria-describedby', 'f-credits-operation-err'));
	fCredits.inputs.set('operation', { input: radios[0], field: { skip: true },
	    errId: 'f-credits-operation-err' });

	const fillPanel = (u) => {
		panel.querySelector('#edition-titre').textContent =
		    `Modifier ${u.username}`;
		fId.set(u);
		keyNow.textContent = `Clé actuelle : ${u.openai_key || 'aucune'}`;
		fCredits.el.querySelector('.solde').textContent =
		    `Solde : ${u.credits ?? '—'}`;
	};
	const edit = async (id) => {
		selected = id;
		for (const f of [fId, fKey, fCredits])
			f.clear();
		const u = await api('GET', `/edit_user/${id}`).catch((e) => {
			if (!e.handled)
				announce(`Erreur : ${e.message}`);
			return null;
		});
		if (!u)
			return;
		fillPanel(u);
		panel.hidden = false;
		panel.querySelector('#edition-titre').focus();
	};
	fId.onSubmit(async (v) => {
		// Only what changed: an untouched empty e-mail is not sent.
		const before = users.find((x) => x.id === selected) || {};
		const changes = {};
		for (const [k, val] of Object.entries(v))
			if (val !== (before[k] ?? ''))
				changes[k] = val;
		if (Object.keys(changes).length === 0)
			return 'Aucun changement';
		const u = await api('POST', `/edit_user/${selected}`, changes);
		fillPanel(u);
		await refresh();
		return 'Enregistré';
	});
	const saveKey = async (key) => {
		const u = await api('POST', `/edit_user/${selected}`, { openai_key: key });
		fKey.inputs.get('openai_key').input.value = '';
		fillPanel(u);
		await refresh();
	};
	fKey.onSubmit(async (v) => {
		if (v.openai_key === '')
			throw new ApiError(0, 'client', 'Entrez une clé, ou utilisez « Effacer la clé ».',
			    'openai_key');
		await saveKey(v.openai_key);
		return 'Enregistré';
	});
	clearBtn.addEventListener('click', async () => {
		fKey.clear();
		try {
			await saveKey(null);
			fKey.ok('Clé effacée');
		} catch (e) {
			fKey.error(e);
		}
	});
	fCredits.onSubmit(async (v) => {
		const op = radios.find((r) => r.checked).value;
		const u = await api('POST', `/edit_user/${selected}/credits`,
		    { amount: v.amount.trim().replace(',', '.'), operation: op });
		fCredits.inputs.get('amount').input.value = '';
		fillPanel(u);
		await refresh();
		return 'Enregistré';
	});
	panel.append(h('h3', { id: 'edition-titre', tabindex: '-1' }, 'Modifier'),
	    h('h4', null, 'Identité et rôle'), fId.el,
	    h('h4', null, 'Clé OpenAI'), fKey.el,
	    h('h4', null, 'Crédits'), fCredits.el);

	const fNew = makeForm('f-nouvel-utilisateur', [
		{ legend: 'Créer un utilisateur', fields: [
			{ name: 'username', label: "Nom d'utilisateur", required: true },
			{ name: 'email', label: 'Courriel', type: 'email' },
			{ name: 'password', label: 'Mot de passe', type: 'password',
			  autocomplete: 'new-password', required: true },
			{ name: 'role', label: 'Rôle', type: 'select', options: ROLES },
		] },
	], 'Créer');
	fNew.inputs.get('role').input.value = 'professeur';
	fNew.onSubmit(async (v) => {
		if (v.email === '')
			delete v.email;
		await api('POST', '/manage_users', v);
		fNew.el.reset();
		fNew.inputs.get('role').input.value = 'professeur';
		await refresh();
		return 'Utilisateur créé';
	});

	await refresh();
	root.append(listWrap, panel, fNew.el);
}

// A horizontal bar chart drawn by hand: one bar per row, value labels.
function barChart(title, rows) {
	const W = 640, bar = 22, gap = 8, left = 180, right = 110;
	const n = Math.max(rows.length, 1);
	const H = n * (bar + gap) + gap;
	const max = Math.max(...rows.map((r) => r.value), 0) || 1;
	const NS = 'http://www.w3.org/2000/svg';
	const s = (tag, attrs, text) => {
		const e = document.createElementNS(NS, tag);
		for (const [k, v] of Object.entries(attrs))
			e.setAttribute(k, String(v));
		if (text !== undefined)
			e.textContent = text;
		return e;
	};
	const id = `graphe-${++uid}`;
	const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img',
	    'aria-labelledby': `${id}-t`, class: 'graphe' });
	svg.append(s('title', { id: `${id}-t` }, title));
	if (rows.length === 0)
		svg.append(s('text', { x: 10, y: 20 }, 'Aucune donnée'));
	rows.forEach((r, i) => {
		const y = gap + i * (bar + gap);
		const w = Math.max(1, (W - left - right) * (r.value / max));
		const label = r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label;
		svg.append(s('text', { x: left - 8, y: y + bar * 0.7, 'text-anchor': 'end' }, label),
		    s('rect', { x: left, y, width: w, height: bar, rx: 3, class: 'barre' }),
		    s('text', { x: left + w + 6, y: y + bar * 0.7 }, r.text));
	});
	return h('figure', null, svg, h('figcaption', null, title));
}

async function renderUsage(root) {
	root.append(h('h2', { tabindex: '-1' }, 'Consommation'));
	const sel = h('select', { id: 'conso-jours', name: 'days' },
	    [7, 30, 90, 365].map((d) => h('option', { value: String(d), selected: d === 30 },
		`${d} derniers jours`)));
	const body = h('div');
	const load = async () => {
		const d = await api('GET', `/settings/usage?days=${sel.value}`);
		const t = d.total || {};
		const table = (caption, cols, rows) => h('table', { class: 'donnees' },
		    h('caption', null, caption),
		    h('thead', null, h('tr', null, cols.map(([label, , num]) =>
			h('th', { scope: 'col', class: num ? 'nombre' : null }, label)))),
		    h('tbody', null, rows.map((r) => h('tr', null, cols.map(([, k, num], i) =>
			i === 0 ? h('th', { scope: 'row' }, r[k] ?? '—') :
			    h('td', { class: num ? 'nombre' : null }, r[k] ?? '—'))))));
		const chart = (title, rows, key) => barChart(title, rows.map((r) => ({
		    label: String(r[key] ?? '—'), value: Number(r.cost) || 0,
		    text: `${r.cost} $` })));
		const byUser = d.by_user || [], byFeat = d.by_feature || [],
		    byModel = d.by_model || [];
		body.replaceChildren(
		    h('p', { class: 'total' }, `Total : ${t.calls ?? 0} appels, ${t.cost ?? '0'} $ US`),
		    h('h3', null, 'Par utilisateur'),
		    chart('Coût par utilisateur (USD)', byUser, 'username'),
		    table('Consommation par utilisateur', [['Utilisateur', 'username'],
			['Appels', 'calls', 1], ['Coût (USD)', 'cost', 1]], byUser),
		    h('h3', null, 'Par fonctionnalité'),
		    chart('Coût par fonctionnalité (USD)', byFeat, 'feature'),
		    table('Consommation par fonctionnalité', [['Fonctionnalité', 'feature'],
			['Appels', 'calls', 1], ['Coût (USD)', 'cost', 1]], byFeat),
		    h('h3', null, 'Par modèle'),
		    chart('Coût par modèle (USD)', byModel, 'model'),
		    table('Consommation par modèle', [['Modèle', 'model'],
			['Appels', 'calls', 1], ['Jetons en entrée', 'input_tokens', 1],
			['Jetons en sortie', 'output_tokens', 1], ['Coût (USD)', 'cost', 1]],
			byModel));
	};
	sel.addEventListener('change', () => load().catch((e) => showViewError(body, e)));
	root.append(h('div', { class: 'champ' }, h('label', { for: 'conso-jours' }, 'Période'),
	    sel), body);
	await load();
}

// Request limits per role (GET/POST /settings/rate_limits): the limits in
// force, a form to set a role's, and a button to give a role its defaults.
async function renderRateLimits(root) {
	root.append(h('h2', { tabindex: '-1' }, 'Limites de requêtes'));
	const wrap = h('div');
	const roleName = (r) => (ROLES.find(([v]) => v === r) || [r, r])[1];
	const count = (n) => (n === 0 ? 'illimité' : String(n));
	const show = (d) => {
		const df = d.defaults || {};
		wrap.replaceChildren(h('table', { class: 'donnees', id: 'table-limites' },
		    h('caption', null, 'Requêtes permises par rôle et par période'),
		    h('thead', null, h('tr', null,
			h('th', { scope: 'col' }, 'Rôle'),
			h('th', { scope: 'col', class: 'nombre' }, 'Par utilisateur'),
			h('th', { scope: 'col', class: 'nombre' }, 'Par jeton d\'API'),
			h('th', { scope: 'col', class: 'nombre' }, 'Période (s)'),
			h('th', { scope: 'col' }, 'Origine'))),
		    h('tbody', null, (d.roles || []).map((r) => h('tr', null,
			h('th', { scope: 'row' }, roleName(r.role)),
			h('td', { class: 'nombre' }, count(r.requests)),
			h('td', { class: 'nombre' }, count(r.token_requests)),
			h('td', { class: 'nombre' }, String(r.period_sec)),
			h('td', null, r.custom ? 'personnalisée' : 'par défaut'))))),
		    h('p', null, `Par défaut : ${count(df.requests)} requêtes ` +
			`(${count(df.admin_requests)} pour un administrateur) par ` +
			`${df.period_sec} s. 0 = illimité. Chaque serveur compte ` +
			'les siennes.'));
	};
	const form = makeForm('f-limites', [
		{ legend: 'Limites d\'un rôle', fields: [
			{ name: 'role', label: 'Rôle', type: 'select', options: ROLES },
			{ name: 'requests', label: 'Requêtes par utilisateur', inputmode: 'numeric',
			  required: true },
			{ name: 'token_requests', label: 'Requêtes par jeton d\'API (vide : les mêmes)',
			  inputmode: 'numeric' },
			{ name: 'period_sec', label: 'Période (secondes)', inputmode: 'numeric' },
		] },
	], 'Enregistrer', [h('button', { type: 'button', class: 'secondaire',
	    id: 'f-limites-defaut' }, 'Rétablir les valeurs par défaut')]);
	const num = (s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : s);
	form.onSubmit(async (v) => {
		const body = { role: v.role, requests: num(v.requests) };
		if (v.token_requests.trim() !== '')
			body.token_requests = num(v.token_requests);
		if (v.period_sec.trim() !== '')
			body.period_sec = num(v.period_sec);
		show(await api('POST', '/settings/rate_limits', body));
		return 'Enregistré';
	});
	form.el.querySelector('#f-limites-defaut').addEventListener('click', async () => {
		form.clear();
		try {
			show(await api('POST', '/settings/rate_limits',
			    { role: form.values().role, requests: null }));
			form.ok('Valeurs par défaut rétablies');
		} catch (e) {
			form.error(e);
		}
	});
	show(await api('GET', '/settings/rate_limits'));
	root.append(wrap, form.el);
}

// ---------------------------------------------------------------------
// Routing, session

function showViewError(root, e) {
	if (e.handled)
		return;
	if (e.status === 403 && e.code !== 'csrf_failed') {
		root.append(h('p', { class: 'refus', role: 'alert' }, 'Accès refusé'));
		announce('Accès refusé');
		return;
	}
	root.append(h('p', { class: 'erreur-form', role: 'alert' },
	    `Impossible de charger la page : ${e.message}`));
	if (!(e instanceof ApiError))
		console.error(e);
}

function currentView() {
	const name = location.hash.replace(/^#/, '');
	if (views[name])
		return name;
	return state.user && state.user.role === 'admin' ? 'modeles-chat' :
	    state.user && state.user.role === 'coordo' ? 'grille' : 'accueil';
}

async function render(focus) {
	if (!state.user)
		return;
	const name = currentView();
	state.view = name;
	for (const a of document.querySelectorAll('#menu a')) {
		if (a.getAttribute('href') === `#${name}`)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
	document.title = `${views[name].title} — Relais`;
	const root = $('#vue');
	root.replaceChildren();
	root.hidden = false;
	root.setAttribute('aria-busy', 'true');
	try {
		await views[name].render(root);
	} catch (e) {
		// A view whose first GET failed keeps only its title.
		const title = root.querySelector('h2');
		root.replaceChildren(title || h('h2', { tabindex: '-1' }, views[name].title));
		showViewError(root, e);
	} finally {
		root.removeAttribute('aria-busy');
	}
	if (focus && state.view === name) {
		const t = root.querySelector('h2');
		if (t)
			t.focus();
	}
}

function signedIn(user, csrf) {
	state.user = user;
	if (csrf)
		state.csrf = csrf;
	$('#qui').textContent = user.username || user.email;
	$('#role').textContent = roleLabel(user.role);
	$('#session').hidden = false;
	$('#menu').hidden = false;
	$('#connexion').hidden = true;
}

function signedOut(msg) {
	state.user = null;
	state.csrf = null;
	$('#session').hidden = true;
	$('#menu').hidden = true;
	$('#vue').hidden = true;
	$('#vue').replaceChildren();
	$('#connexion').hidden = false;
	document.title = 'Connexion — Relais';
	if (msg)
		announce(msg);
}

function initLogin() {
	initSignIn(async (d) => {
		signedIn(d.user, d.csrf_token);
		announce(`Connecté : ${d.user.username}`);
		await render(true);
	});
}

// A browser refuses a stylesheet served as text/html (an nginx without
// mime.types): then the same file is fetched and applied as a <style>.
async function ensureStyles() {
	const ok = () => getComputedStyle(document.documentElement)
	    .getPropertyValue('--relais-css').trim() === '1';
	if (document.readyState !== 'complete')
		await new Promise((r) => window.addEventListener('load', r, { once: true }));
	if (ok())
		return;
	try {
		const r = await fetch('app.css', { credentials: 'same-origin' });
		if (r.ok)
			document.head.append(h('style', null, await r.text()));
	} catch { /* unstyled, still usable */ }
}

async function start() {
	ensureStyles();
	initLogin();
	window.addEventListener('hashchange', () => {
		const name = location.hash.replace(/^#/, '');
		if (views[name] && state.user)
			render(true);
	});
	try {
		const d = await api('GET', '/me');
		signedIn(d.user, d.csrf_token);
		await render(false);
	} catch {
		signedOut();
	}
	document.body.dataset.pret = '1';
}

start();
