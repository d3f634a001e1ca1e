// Seed 004's TypeScript client (fetch), its transcription part, as the seed
// writes it, with the types stripped by hand so that node runs it as plain
// JavaScript (": string", "private", "Promise<...>" and "| null" removed,
// nothing else).  Adapted as the Python one: the base URL (RELAIS_BASE) and
// the credentials step (relais requires a username and password for
// /auth/token; the seed posts nothing).  Run by transcription.test.mjs with
// the recording's path as argv[2]; prints one JSON line of what it got.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

class RouterIAClient {
  baseUrl;
  token = null;

  constructor(baseUrl = 'http://localhost:7860') {
    this.baseUrl = baseUrl;
  }

  async authenticate() {
    // Adapted: the seed sends { method: 'POST' } alone.
    const response = await fetch(`${this.baseUrl}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: process.env.RELAIS_USERNAME,
        password: process.env.RELAIS_PASSWORD })
    });
    const data = await response.json();
    this.token = data.access_token;
    return this.token;
  }

  async transcribe(audioFile) {
    const formData = new FormData();
    formData.append('file', audioFile);

    const response = await fetch(`${this.baseUrl}/transcription`, {
      method: 'POST',
      headers: {
        'Authorization': `Bearer ${this.token}`
      },
      body: formData
    });

    return await response.json();
  }

  async transcribeMeeting(
    audioFile,
    projectId = 'proj-default',
    maxDurationSeconds = 3600
  ) {
    const formData = new FormData();
    formData.append('project_id', projectId);
    formData.append('max_duration_seconds', String(maxDurationSeconds));
    formData.append('file', audioFile);

    const response = await fetch(`${this.baseUrl}/transcription/meeting`, {
      method: 'POST',
      headers: {
        'Authorization': `Bearer ${this.token}`
      },
      body: formData
    });

    return await response.json();
  }
}

// Utilisation
const client = new RouterIAClient(process.env.RELAIS_BASE);
await client.authenticate();

// The seed's audioFile is a browser File; here one made from the path.
const path = process.argv[2];
const audioFile = new File([readFileSync(path)], basename(path));

// Transcription
const transcription = await client.transcribe(audioFile);
console.log(transcription.text);

// Transcription meeting
const meetingTranscription = await client.transcribeMeeting(audioFile);
console.log(meetingTranscription.text);

console.log(JSON.stringify({ transcription, meeting: meetingTranscription }));
