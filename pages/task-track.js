// task-track.js: /tasks/track/<id>, the page every task notification links
// to.  Follows one task through /tasks/status/<id> until it ends, shows
// its progress, the text streamed so far, its French message, and the
// link to review what it produced (validation_url, as EDxo's client reads
// it); a running task can be cancelled from here.
'use strict';

(() => {
	const P = RelaisPages;
	const id = P.pathPart(2);
	const $ = (x) => document.getElementById(x);
	$('task-id').textContent = id;

	function reviewUrl(result) {
		if (!result || typeof result !== 'object')
			return null;
		for (const k of ['validation_url', 'reviewUrl', 'plan_de_cours_url',
		    'plan_cadre_url', 'logigramme_url'])
			if (typeof result[k] === 'string' && result[k].startsWith('/'))
				return result[k];
		return null;
	}

	function show(s) {
		const state = s.state || 'PENDING';
		const badge = $('state');
		badge.textContent = P.STATES[state] || state;
		badge.className = 'badge ' + ({ SUCCESS: 'bg-success', FAILURE: 'bg-danger',
		    REVOKED: 'bg-warning' }[state] || 'bg-primary');
		const meta = s.meta || {};
		const pct = state === 'SUCCESS' ? 100 : Number(meta.progress ?? meta.percent ?? 0);
		if (Number.isFinite(pct)) {
			$('bar-fill').style.width = `${Math.max(0, Math.min(100, pct))}%`;
			$('bar').setAttribute('aria-valuenow', String(Math.round(pct)));
		}
		if (typeof meta.stream_buffer === 'string')
			$('stream').textContent = meta.stream_buffer;
		const result = s.result || {};
		const msg = result.message || s.message || meta.message || '';
		$('message').textContent = msg;
		const done = ['SUCCESS', 'FAILURE', 'REVOKED'].includes(state);
		$('cancel').hidden = done;
		if (state === 'SUCCESS') {
			const url = reviewUrl(result);
			if (url) {
				$('review').href = url;
				$('review').hidden = false;
			}
			P.say('success', msg || 'Tâche terminée.');
		} else if (state === 'FAILURE') {
			P.say('danger', msg || 'La tâche a échoué.');
		} else if (state === 'REVOKED') {
			P.say('warning', msg || 'Tâche annulée.');
		} else {
			P.say('info', `${P.STATES[state] || state}…`);
		}
	}

	$('cancel').addEventListener('click', async () => {
		$('cancel').disabled = true;
		try {
			await P.api('POST', `/tasks/cancel/${encodeURIComponent(id)}`);
			P.say('info', 'Annulation demandée…');
		} catch (e) {
			P.say('danger', e.message);
			$('cancel').disabled = false;
		}
	});

	P.follow(id, show).catch((e) => P.say('danger', e.message));
})();
