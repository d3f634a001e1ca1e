#!/usr/bin/env python3
"""Seed 004's Python client (requests), its transcription part, as the seed
writes it.  Two things adapted: the base URL (RELAIS_BASE) and the
credentials step -- relais requires a username and password for
/auth/token (docs/transcription.md), the seed posts an empty body.  Run by
transcription.test.mjs with RELAIS_BASE, RELAIS_USERNAME, RELAIS_PASSWORD
and the recording's path as argv[1]; prints one JSON line of what it got."""
import json
import os
import sys

import requests


class RouterIAClient:
    def __init__(self, base_url="http://localhost:7860"):
        self.base_url = base_url
        self.token = None

    def authenticate(self):
        # Adapted: the seed sends no credentials.
        response = requests.post(f"{self.base_url}/auth/token",
                                 json={"username": os.environ["RELAIS_USERNAME"],
                                       "password": os.environ["RELAIS_PASSWORD"]})
        self.token = response.json()["access_token"]
        return self.token

    def transcribe(self, audio_file_path):
        headers = {"Authorization": f"Bearer {self.token}"}
        with open(audio_file_path, 'rb') as f:
            files = {'file': f}
            response = requests.post(
                f"{self.base_url}/transcription",
                headers=headers,
                files=files
            )
        return response.json()

    def transcribe_meeting(self, audio_file_path, project_id="proj-default", max_duration_seconds=3600):
        """Transcrire un enregistrement de réunion avec le modèle dédié gpt-4o-transcribe."""
        headers = {"Authorization": f"Bearer {self.token}"}
        with open(audio_file_path, 'rb') as f:
            files = {'file': f}
            data = {'project_id': project_id, 'max_duration_seconds': max_duration_seconds}
            response = requests.post(
                f"{self.base_url}/transcription/meeting",
                headers=headers,
                files=files,
                data=data
            )
        return response.json()


# Utilisation
client = RouterIAClient(os.environ["RELAIS_BASE"])
client.authenticate()

# Transcription
transcription = client.transcribe(sys.argv[1])
print(transcription["text"])

# Transcription meeting
meeting_transcription = client.transcribe_meeting(sys.argv[1])
print(meeting_transcription["text"])

print(json.dumps({"transcription": transcription,
                  "meeting": meeting_transcription}))
