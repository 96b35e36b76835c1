"""Sends requests.json, in order, to a toxiproxy-compatible server and records or checks the answers.

  answers.py record URL ANSWERS.json   write the server's answers (toxiproxy 2.12's are kept in the repo)
  answers.py check URL ANSWERS.json    compare the server's answers with the recorded ones; exit 1 on a difference

Each answer is the status code, the content type and the body, with what differs between two runs
made the same: listen ports (PORT) and the API's own port (API_PORT). Everything else must be
byte for byte the same, Go's wording of malformed JSON ("syntax" requests) included; with
--loose-syntax only the shape of those errors is compared (for servers that word them otherwise).
"""
import json
import re
import sys
import urllib.error
import urllib.request

loose_syntax = "--loose-syntax" in sys.argv
arguments = [a for a in sys.argv[1:] if a != "--loose-syntax"]
mode, url, path = arguments[0], arguments[1].rstrip("/"), arguments[2]
api_port = url.rsplit(":", 1)[1]
requests_path = __file__.rsplit("/", 1)[0] + "/requests.json"


def send(method, target, body):
    data = body.replace("{API_PORT}", api_port).encode() if body is not None else None
    request = urllib.request.Request(url + target, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read().decode()


def normalise(text):
    text = text.replace(":" + api_port, ":API_PORT")
    return re.sub(r'((?:127\.0\.0\.1|\[::\]):)\d+', r"\g<1>PORT", text)


def syntax_shape(body):
    try:
        value = json.loads(body)
    except ValueError:
        return body
    if isinstance(value, dict) and str(value.get("error", "")).startswith("bad request body: "):
        value["error"] = "bad request body: (parser's wording)"
    return json.dumps(value, sort_keys=True)


def clear():
    for name in json.loads(send("GET", "/proxies", None)[2]):
        send("DELETE", "/proxies/" + name, None)


clear()
answers = []
for entry in json.load(open(requests_path)):
    method, target = entry[0], entry[1]
    body = entry[2] if len(entry) > 2 else None
    status, content_type, text = send(method, target, body)
    answer = {"request": "%s %s %s" % (method, target, body or ""), "status": status,
              "content_type": content_type, "body": normalise(text)}
    if len(entry) > 3 and entry[3] == "syntax":
        answer["syntax"] = True
    answers.append(answer)
clear()

if mode == "record":
    json.dump(answers, open(path, "w"), indent=1, ensure_ascii=False)
    open(path, "a").write("\n")
    print("recorded %d answers in %s" % (len(answers), path))
    sys.exit(0)

expected = json.load(open(path))
differences = 0
for want, got in zip(expected, answers):
    same = (want["status"], want["content_type"]) == (got["status"], got["content_type"])
    if want.get("syntax") and loose_syntax:
        same = same and syntax_shape(want["body"]) == syntax_shape(got["body"])
    else:
        same = same and want["body"] == got["body"]
    if not same:
        differences += 1
        print("DIFFERENT: %s\n  want %s %s %r\n  got  %s %s %r" % (want["request"], want["status"], want["content_type"],
              want["body"], got["status"], got["content_type"], got["body"]))
print("%d of %d answers the same" % (len(answers) - differences, len(answers)))
sys.exit(1 if differences or len(expected) != len(answers) else 0)
