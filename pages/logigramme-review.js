// logigramme-review.js: /programme/<id>/logigramme/review/<task_id>, the
// validation_url of a logigramme generation.  The links the task proposes
// are its result (/tasks/status/<task_id>); the names of the programme's
// courses and compétences come from /api/programmes/<id>/cours and
// /competences.  The user keeps or drops each link, may change its type,
// and confirms: the kept links go to /programme/<id>/links, which replaces
// the programme's links as EDxo's task did.
'use strict';

(() => {
	const P = RelaisPages;
	const el = P.el;
	const $ = (x) => document.getElementById(x);
	const { pid, tid, base } = P.programmeReview();

	const TYPES = [
		['developpe', 'Développée significativement'],
		['atteint', 'Atteinte'],
		['reinvesti', 'Réinvestie'],
	];
	const rows = [];
	let seq = 0;

	async function names(path) {
		try {
			const { body } = await P.api('GET', path);
			return new Map((Array.isArray(body) ? body : []).map((x) => [x.code, x.nom]));
		} catch (e) {
			return new Map();
		}
	}

	async function task() {
		const s = await P.taskDone(tid, 'La génération n\'est pas terminée : les liens s\'afficheront à la fin.');
		const r = s.result || {};
		if (String(r.programme_id) !== pid || !r.result || !Array.isArray(r.result.links))
			throw new Error('Cette tâche n\'est pas une génération du logigramme de ce programme.');
		return r;
	}

	function row(l, cours, comps) {
		const n = ++seq;
		const named = (map, code) => (map.has(code) ? `${code} — ${map.get(code)}` : code);
		const what = `${named(cours, l.cours_code)} et ${named(comps, l.competence_code)}`;
		const keep = el('input', { type: 'checkbox', id: `keep-${n}`, checked: true });
		const type = el('select', { id: `type-${n}`, class: 'form-select' },
		    TYPES.map(([v, label]) => el('option', { value: v, selected: v === l.type }, label)));
		rows.push({ l, keep, type });
		return el('tr', { 'data-cours': l.cours_code, 'data-competence': l.competence_code },
		    el('td', {}, keep, el('label', { for: `keep-${n}`, class: 'visually-hidden' }, `Retenir le lien entre ${what}`)),
		    el('td', {}, named(cours, l.cours_code)),
		    el('td', {}, named(comps, l.competence_code)),
		    el('td', {}, el('label', { for: `type-${n}`, class: 'visually-hidden' }, `Type du lien entre ${what}`), type));
	}

	$('links-form').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const links = rows.filter((r) => r.keep.checked).map((r) => ({
			cours_id: r.l.cours_id, competence_id: r.l.competence_id, type: r.type.value }));
		if (links.length === 0) {
			// An empty list would erase every link of the programme.
			P.say('warning', 'Cochez au moins un lien à enregistrer.');
			return;
		}
		$('confirm').disabled = true;
		P.say('info', 'Enregistrement des liens…');
		try {
			const { body } = await P.api('POST', `${base}/links`, links);
			P.say('success', `${body.message || 'Logigramme enregistré.'} ${body.pairs} lien(s) cours–compétence, ` +
			    `${body.updated} élément(s) de compétence mis à jour.`);
		} catch (e) {
			P.say('danger', e.message);
		} finally {
			$('confirm').disabled = false;
		}
	});

	(async () => {
		const [r, cours, comps] = await Promise.all([task(),
		    names(`/api/programmes/${encodeURIComponent(pid)}/cours`),
		    names(`/api/programmes/${encodeURIComponent(pid)}/competences`)]);
		const res = r.result;
		$('logigramme-link').href = res.logigramme_url || `${base}/competences/logigramme`;
		$('links').replaceChildren(...res.links.map((l) => row(l, cours, comps)));
		const unknown = Array.isArray(res.unknown) ? res.unknown : [];
		if (unknown.length) {
			$('unknown').replaceChildren(...unknown.map((u) =>
			    el('li', {}, `${u.cours_code} — ${u.competence_code} (${u.type}) : ${u.reason}`)));
			$('unknown-card').hidden = false;
		}
		if (res.reasoning_summary) {
			$('reasoning-text').textContent = res.reasoning_summary;
			$('reasoning').hidden = false;
		}
		$('links-form').hidden = false;
		P.say('info', `${res.links.length} lien(s) proposé(s) : vérifiez-les, puis confirmez.`);
	})().catch((e) => P.say('danger', e.message));
})();
