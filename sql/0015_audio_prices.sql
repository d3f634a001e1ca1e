-- Audio transcription prices (issue 20, cgi-bin/transcription.c).
--
-- OpenAI prices its transcription models per minute of recording
-- (whisper-1) or per token, audio tokens dearer than text ones
-- (gpt-4o-transcribe, gpt-4o-mini-transcribe), with a per-minute
-- estimate for the latter.  Two columns carry what openai_models could
-- not: audio_minute_price (USD per minute: the price of a
-- duration-billed model, and what every transcription is reserved on)
-- and audio_input_price (USD per 1M audio input tokens; NULL for a model
-- billed by duration).  input_price and output_price stay the text
-- token prices.  A model without audio_minute_price is not offered for
-- transcription.
--
-- The rows are not router models: router_enabled is false, so /models
-- does not list them and /completion refuses them.
ALTER TABLE openai_models
	ADD COLUMN audio_minute_price numeric(12,6)
		CHECK (audio_minute_price >= 0),
	ADD COLUMN audio_input_price numeric(12,6)
		CHECK (audio_input_price >= 0);

-- OpenAI's published prices (2025): whisper-1 $0.006 a minute;
-- gpt-4o-transcribe $2.50 / $6 (audio) per 1M input, $10 per 1M output,
-- about $0.006 a minute; gpt-4o-mini-transcribe half of that.
INSERT INTO openai_models (name, input_price, output_price, family,
    supports_temperature, supports_reasoning, router_enabled,
    audio_minute_price, audio_input_price, description)
VALUES
	('whisper-1', 0, 0, 'audio', false, false, false, 0.006, NULL,
	    'Whisper: transcription billed per minute of audio'),
	('gpt-4o-transcribe', 2.5, 10, 'audio', false, false, false, 0.006, 6,
	    'GPT-4o Transcribe: transcription billed per token'),
	('gpt-4o-mini-transcribe', 1.25, 5, 'audio', false, false, false,
	    0.003, 3, 'GPT-4o mini Transcribe: transcription billed per token')
ON CONFLICT (name) DO UPDATE SET
	audio_minute_price = EXCLUDED.audio_minute_price,
	audio_input_price = EXCLUDED.audio_input_price;
