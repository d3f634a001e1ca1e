-- Batch generation at half price (issue 21, cgi-bin/batch.c, lib/batch.c).
--
-- A batch is one OpenAI Batch (/v1/responses, 24 h window) of many
-- (plan, section) generations.  relais keeps its copy of OpenAI's status
-- (plus 'collected' once the results are stored as previews) so that the
-- history page, the worker's poll and the collect read one table.
--
-- Money: one credit hold per line, taken at launch at the line's highest
-- cost at the batch price, each attached to the line's preview task (a
-- task in PROGRESS without a lease, which neither the reaper nor the
-- sweep touches while the batch runs).  Collect settles the hold of each
-- billed line (one ledger row) and releases the others; a closed hold
-- cannot be settled again, and collecting_at is the claim that keeps two
-- collectors (the poller, the button) from working on one batch at once.
CREATE TABLE gen_batches (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind		text NOT NULL
			CHECK (kind IN ('plan_cadre', 'plan_de_cours')),
	model		text NOT NULL,
	endpoint	text NOT NULL DEFAULT '/v1/responses',
	openai_batch_id	text,
	input_file_id	text,
	output_file_id	text,
	error_file_id	text,
	status		text NOT NULL DEFAULT 'validating'
			CHECK (status IN ('validating', 'in_progress',
			    'finalizing', 'completed', 'failed', 'expired',
			    'cancelling', 'cancelled', 'collected')),
	total		integer NOT NULL DEFAULT 0 CHECK (total >= 0),
	completed	integer NOT NULL DEFAULT 0 CHECK (completed >= 0),
	failed		integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
	-- OpenAI's last batch object, for "Details".
	raw		jsonb,
	-- What the launch was asked with (additional_info, model choice):
	-- a resume renders its prompts with the same.
	options		jsonb NOT NULL DEFAULT '{}'
			CHECK (jsonb_typeof(options) = 'object'),
	parent_id	bigint REFERENCES gen_batches (id) ON DELETE SET NULL,
	reserved_micro	bigint NOT NULL DEFAULT 0 CHECK (reserved_micro >= 0),
	settled_micro	bigint NOT NULL DEFAULT 0 CHECK (settled_micro >= 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	-- When relais first saw it running, and the count then: the rate
	-- the ETA is computed from.
	started_at	timestamptz,
	completed_at	timestamptz,
	collecting_at	timestamptz,
	collected_at	timestamptz,
	deleted_at	timestamptz
);
CREATE INDEX gen_batches_user_idx ON gen_batches (user_id, created_at);
CREATE INDEX gen_batches_parent_id_idx ON gen_batches (parent_id);
-- The worker's poll: batches not yet collected.
CREATE INDEX gen_batches_open_idx ON gen_batches (updated_at)
	WHERE collected_at IS NULL AND openai_batch_id IS NOT NULL;

CREATE TABLE gen_batch_items (
	batch_id	bigint NOT NULL REFERENCES gen_batches (id)
			    ON DELETE CASCADE,
	custom_id	text NOT NULL,
	plan_id		bigint NOT NULL,
	section		text NOT NULL,
	-- The model the line was rendered and reserved for.
	model		text NOT NULL,
	status		text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'ok', 'failed',
			    'invalid', 'expired', 'cancelled')),
	result		jsonb,
	error		text,
	cost_micro	bigint NOT NULL DEFAULT 0 CHECK (cost_micro >= 0),
	hold_id		bigint REFERENCES credit_reservations (id),
	task_id		uuid REFERENCES tasks (id) ON DELETE SET NULL,
	PRIMARY KEY (batch_id, custom_id)
);
CREATE INDEX gen_batch_items_hold_id_idx ON gen_batch_items (hold_id);
CREATE INDEX gen_batch_items_task_id_idx ON gen_batch_items (task_id);
