"""Seed 004's Python client ("Exemples avancés", "Python avec requests"),
transcribed as the seed writes it.  One thing adapted, the credentials
step: the seed posts an empty /auth/token, relais requires a username and
a password there (docs/transcription.md, "The seed's own clients"); they
come from RELAIS_USERNAME and RELAIS_PASSWORD.  The base URL is the
constructor's argument, as in the seed.  Driven by usage.py."""
import os

import requests

class RouterIAClient:
    def __init__(self, base_url="http://localhost:7860"):
        self.base_url = base_url
        self.token = None

    def authenticate(self):
        # Adapted: the seed posts no body; relais needs credentials.
        response = requests.post(f"{self.base_url}/auth/token",
                                 json={"username": os.environ["RELAIS_USERNAME"],
                                       "password": os.environ["RELAIS_PASSWORD"]})
        self.token = response.json()["access_token"]
        return self.token

    def complete(self, message, model="gpt-4o", stream=False):
        headers = {"Authorization": f"Bearer {self.token}"}
        data = {
            "message": message,
            "model": model,
            "stream": stream
        }

        response = requests.post(
            f"{self.base_url}/completion",
            headers=headers,
            json=data,
            stream=stream
        )

        if stream:
            for line in response.iter_lines():
                if line:
                    yield line.decode('utf-8')
        else:
            return response.json()

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
