#!/usr/bin/env python3
"""Seed 004's "# Utilisation" block for the Python client, step by step,
against relais.  Run by seed-clients.test.mjs in a directory that holds
the seed's audio.mp3 and meeting_audio.mp3, with RELAIS_BASE (the base URL,
adapted), RELAIS_USERNAME and RELAIS_PASSWORD.  It prints what the seed
prints, then one JSON line of every answer for the test to check.

The seed's plain completion does not work as written: complete() holds a
yield, so Python makes it a generator function, and the seed's
client.complete("Bonjour!") returns a generator that has not even sent
the request; result["response"] raises TypeError.  The line is kept, its
type recorded, and the answer is taken the one way the seed's class
gives it: running the generator, whose return value (StopIteration.value)
is response.json()."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from router_ia_client import RouterIAClient  # noqa: E402

seen = {}

# Utilisation
client = RouterIAClient(os.environ["RELAIS_BASE"])
client.authenticate()

# Completion simple
result = client.complete("Bonjour!")
seen["plain_type"] = type(result).__name__
try:
    next(result)
except StopIteration as stop:
    result = stop.value
else:
    sys.exit("complete(stream=False) yielded a line")
seen["plain"] = result
print(result["response"])

# Streaming
seen["stream"] = []
for chunk in client.complete("Compte de 1 à 5", stream=True):
    print(chunk)
    seen["stream"].append(chunk)

# Transcription
transcription = client.transcribe("audio.mp3")
print(transcription["text"])
seen["transcription"] = transcription

# Transcription meeting
meeting_transcription = client.transcribe_meeting("meeting_audio.mp3")
print(meeting_transcription["text"])
seen["meeting"] = meeting_transcription

print(json.dumps(seen, ensure_ascii=False))
