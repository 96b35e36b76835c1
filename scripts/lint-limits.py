#!/usr/bin/env python3
"""The size and JSON limits scripts/lint checks; prints one line per violation, exits 1 on any.

Function length: from the line of `func`/`init`/`deinit`/`subscript` to its closing brace,
found by counting braces outside strings and comments (Swift's "...", \"\"\"...\"\"\", #"..."#).
"""
import os
import re
import sys

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
UNTYPED_JSON = re.compile(r"JSONSerialization|\[\s*String\s*:\s*Any\s*\]")
DECLARATION = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|open|package|static|class|final|override|"
    r"mutating|nonmutating|convenience|required|nonisolated|consuming|borrowing|dynamic)(?:\([^)]*\))?\s+)*"
    r"(func\s+[^\s(<]+|init[?!]?(?=\s*[(<])|deinit\b|subscript(?=\s*[(<]))"
)


def code_mask(text):
    """The text with string and comment contents blanked (newlines kept), so braces count."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == '"' or (c == "#" and re.match(r'#+"', text[i:])):
            hashes = len(re.match(r"#*", text[i:]).group(0))
            start = i + hashes
            triple = text.startswith('"""', start)
            quote = '"""' if triple else '"'
            close = quote + "#" * hashes
            j = start + len(quote)
            while j < n:
                if hashes == 0 and text[j] == "\\":
                    if text.startswith("\\(", j):
                        # Interpolation: skip to the matching parenthesis.
                        depth, j = 1, j + 2
                        while j < n and depth:
                            depth += {"(": 1, ")": -1}.get(text[j], 0)
                            j += 1
                        continue
                    j += 2
                    continue
                if text.startswith(close, j):
                    j += len(close)
                    break
                if not triple and text[j] == "\n":
                    break
                j += 1
            out.append(" " * hashes + '"' + "".join(ch if ch == "\n" else " " for ch in text[start + 1:j - 1]) + '"' if j - start >= 2 else text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    lines = code_mask(text).split("\n")
    found = []
    for number, line in enumerate(lines):
        match = DECLARATION.match(line)
        if not match:
            continue
        # The body's `{` is the first one outside parentheses, on this line or a continuation line.
        depth, body = 0, None
        for row in range(number, min(number + 12, len(lines))):
            for col, ch in enumerate(lines[row]):
                if ch in "([":
                    depth += 1
                elif ch in ")]":
                    depth -= 1
                elif ch == "{" and depth == 0:
                    body = (row, col)
                    break
            if body:
                break
            following = lines[row + 1].strip() if row + 1 < len(lines) else ""
            if depth == 0 and not re.match(r"(->|throws|rethrows|async|where|\{)", following) \
                    and not re.search(r"(,|\(|->|&|:)\s*$", lines[row]):
                break  # a requirement without a body
        if not body:
            continue
        braces = 0
        for row in range(body[0], len(lines)):
            segment = lines[row][body[1]:] if row == body[0] else lines[row]
            for ch in segment:
                braces += {"{": 1, "}": -1}.get(ch, 0)
                if braces == 0:
                    break
            if braces == 0:
                length = row - number + 1
                if length > MAX_FUNCTION_LINES:
                    found.append((number + 1, match.group(1).split()[-1] if match.group(1).startswith("func") else match.group(1), length))
                break
    return found


CODE_SUFFIXES = (".swift", ".c", ".h", ".py", ".sh")


def swift_files(root):
    """Every code file below root (fixtures and recorded answers are data, not code)."""
    for directory, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith(CODE_SUFFIXES):
                yield os.path.join(directory, name)


def main():
    violations = []
    for root in ("Sources", "Tests"):
        for path in swift_files(root):
            with open(path, encoding="utf-8", errors="replace") as handle:
                count = sum(1 for _ in handle)
            if count > MAX_FILE_LINES:
                violations.append(f"{path}: {count} lines (at most {MAX_FILE_LINES} a file)")
    for root in ("Sources", "Tests", "Docker"):
        for path in swift_files(root):
            if path.endswith(".swift"):
                for line, name, length in long_functions(path):
                    violations.append(f"{path}:{line}: {name} is {length} lines (at most {MAX_FUNCTION_LINES} a function)")
    for root in ("Sources", "Docker"):
        for path in swift_files(root):
            if not path.endswith(".swift"):
                continue
            with open(path, encoding="utf-8", errors="replace") as handle:
                for number, line in enumerate(handle, 1):
                    if UNTYPED_JSON.search(line.split("//")[0]):
                        violations.append(f"{path}:{number}: untyped JSON (decode a TCPLabSchema type instead of JSONSerialization / [String: Any])")
    for violation in violations:
        print("lint: " + violation)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
