#!/usr/bin/env python3
"""A client of /api/ai/chat/completions written as seed 003's examples are:
requests with auth=(email, password).  Run by completions.test.mjs with
RELAIS_BASE, RELAIS_EMAIL and RELAIS_PASSWORD; prints one JSON line of what
it saw, and exits non-zero on the first surprise."""
import json
import os
import sys

import requests

BASE = os.environ["RELAIS_BASE"] + "/api/ai/chat/completions"
AUTH = (os.environ["RELAIS_EMAIL"], os.environ["RELAIS_PASSWORD"])


def check(cond, what):
    if not cond:
        print(json.dumps({"ok": False, "failed": what}))
        sys.exit(1)


def create_chat_completion(**params):
    return requests.post(BASE, auth=AUTH, json=params, timeout=30).json()


def main():
    # 1. The seed's first request: an e-mail answer, stored with metadata.
    result = create_chat_completion(
        messages=[
            {"role": "system", "content": "Tu es un assistant email."},
            {"role": "user", "content": "Écris une réponse professionnelle."},
        ],
        model="gpt-4o-mini",
        temperature=0.7,
        max_tokens=200,
        store=True,
        metadata={"user_id": "123", "category": "email_response"},
    )
    check(result["success"], "create")
    content = result["choices"][0]["message"]["content"]
    check(result["usage"]["total_tokens"] > 0, "usage")
    first = result["id"]

    # 2. A second one, to list and delete.
    second = create_chat_completion(
        messages=[{"role": "user", "content": "Hello!"}],
        model="gpt-4o-mini", store=True, metadata={"category": "other"})
    check(second["success"], "second create")

    # 3. get_chat_completion
    got = requests.get(f"{BASE}/{first}", auth=AUTH, timeout=30).json()
    check(got["success"] and got["metadata"]["category"] == "email_response",
          "get")

    # 4. list_chat_completions(limit=10, order='desc')
    listed = requests.get(BASE, auth=AUTH, params={"limit": 10,
                          "order": "desc"}, timeout=30).json()
    check(listed["success"] and listed["completions"][0]["id"] == second["id"],
          "list order")
    total = sum(c["usage"]["total_tokens"] for c in listed["completions"])
    check(total > 0, "usage sum")

    # 5. update_chat_completion
    upd = requests.post(f"{BASE}/{first}", auth=AUTH, json={"metadata": {
        "status": "approved", "rating": "5"}}, timeout=30).json()
    check(upd["success"] and upd["metadata"]["rating"] == "5", "update")

    # 6. get_chat_messages
    msgs = requests.get(f"{BASE}/{first}/messages", auth=AUTH,
                        params={"limit": 20}, timeout=30).json()
    check([m["role"] for m in msgs["messages"]] == ["system", "user"],
          "messages")

    # 7. delete_chat_completion
    gone = requests.delete(f"{BASE}/{second['id']}", auth=AUTH,
                           timeout=30).json()
    check(gone["success"] and gone["deleted"], "delete")

    # 8. Gestion des erreurs: result['success'] false, result['error'].
    bad = requests.post(BASE, auth=(AUTH[0], "wrong"), json={
        "messages": [{"role": "user", "content": "x"}]}, timeout=30)
    check(bad.status_code == 401 and not bad.json()["success"]
          and bad.json()["error"], "401")

    # 9. Streaming: OpenAI's chunks, then [DONE].
    text = ""
    with requests.post(BASE, auth=AUTH, json={
            "messages": [{"role": "user", "content": "Hello!"}],
            "model": "gpt-4o-mini", "stream": True}, stream=True,
            timeout=30) as r:
        lines = [ln for ln in r.iter_lines(decode_unicode=True)
                 if ln.startswith("data: ")]
    check(lines[-1] == "data: [DONE]", "stream end")
    for ln in lines[:-1]:
        chunk = json.loads(ln[6:])
        if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
            text += chunk["choices"][0]["delta"]["content"]
    check(text == content, "stream text")

    print(json.dumps({"ok": True, "content": content, "deleted": True,
                      "listed": len(listed["completions"])}))


main()
