// Seed 004's TypeScript client ("Exemples avancés", "JavaScript/TypeScript
// avec fetch"), transcribed as the seed writes it.  Adapted: the
// credentials step (the seed posts an empty /auth/token, relais requires a
// username and a password there: docs/transcription.md) and the export
// that lets usage.ts drive it.  The base URL is the constructor's
// argument, as in the seed.
//
// The seed's "Promise" has lost its type argument (its rendering dropped
// every <...>, as in "Bearer <token>"); it is kept as written.  The test
// transpiles this file with the typescript package (transpileModule, no
// type check, as tsc --isolatedModules or a bundler would), so the text
// runs as the seed has it.  RELAIS_USERNAME and RELAIS_PASSWORD hold the
// credentials.
class RouterIAClient {
  private baseUrl: string;
  private token: string | null = null;

  constructor(baseUrl: string = 'http://localhost:7860') {
    this.baseUrl = baseUrl;
  }

  async authenticate(): Promise {
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

  async complete(
    message: string,
    model: string = 'gpt-4o',
    stream: boolean = false
  ) {
    const response = await fetch(`${this.baseUrl}/completion`, {
      method: 'POST',
      headers: {
        'Authorization': `Bearer ${this.token}`,
        'Content-Type': 'application/json'
      },
      body: JSON.stringify({ message, model, stream })
    });

    if (stream) {
      return this.handleStreamResponse(response);
    } else {
      return await response.json();
    }
  }

  private async *handleStreamResponse(response: Response) {
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();

    if (!reader) return;

    while (true) {
      const { done, value } = await reader.read();
      if (done) break;

      const chunk = decoder.decode(value);
      const lines = chunk.split('\n');

      for (const line of lines) {
        if (line.startsWith('data: ')) {
          const data = JSON.parse(line.slice(6));
          yield data;
        }
      }
    }
  }

  async transcribe(audioFile: File): Promise {
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
    audioFile: File,
    projectId: string = 'proj-default',
    maxDurationSeconds: number = 3600
  ): Promise {
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

// Adapted: usage.ts imports the class.
export { RouterIAClient };
