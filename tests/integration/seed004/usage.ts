// Seed 004's "// Utilisation" block for the TypeScript client, against
// relais.  Transpiled with router_ia_client.ts and run by
// seed-clients.test.mjs in a directory that holds audio.mp3, with
// RELAIS_BASE (the base URL, adapted), RELAIS_USERNAME and
// RELAIS_PASSWORD.  The seed leaves audioFile to the page (a File from an
// <input>); here it is audio.mp3 read into a File (Node's global File).
// It logs what the seed logs, then one JSON line of every answer for the
// test to check.
import { readFileSync } from 'node:fs';
import { RouterIAClient } from './router_ia_client.mjs';

const seen: Record<string, unknown> = {};
const audioFile = new File([readFileSync('audio.mp3')], 'audio.mp3',
  { type: 'audio/mpeg' });

// Utilisation
const client = new RouterIAClient(process.env.RELAIS_BASE);
await client.authenticate();

// Completion
const result = await client.complete('Bonjour!');
console.log(result.response);
seen.plain = result;

// Streaming
const chunks: unknown[] = [];
for await (const chunk of await client.complete('Compte de 1 à 5', 'gpt-4o', true)) {
  console.log(chunk.content);
  chunks.push(chunk);
}
seen.stream = chunks;

// Transcription
const transcription = await client.transcribe(audioFile);
console.log(transcription.text);
seen.transcription = transcription;

// Transcription meeting
const meetingTranscription = await client.transcribeMeeting(audioFile);
console.log(meetingTranscription.text);
seen.meeting = meetingTranscription;

console.log(JSON.stringify(seen));
