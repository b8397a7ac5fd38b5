#!/bin/sh
# Seeds the corpora of the expression and policy targets from the repo's policy documents
# (crates/policy/tests/corpus*): each document for policy_prepass, each @( … ) / @{ … } span in
# them for expr_parse and expr_eval (a block prefixed with '{', expr_eval's kind marker); and
# every expression of the C# oracle's corpora (crates/expr/tests/oracle/expressions*.txt,
# real-world.txt), which reach the whole library, for the two expression targets.
set -eu
cd "$(dirname "$0")"
mkdir -p corpus/policy_prepass corpus/expr_parse corpus/expr_eval
for f in ../crates/policy/tests/corpus*/*.xml ../bench/*.xml; do
    [ -f "$f" ] && cp "$f" "corpus/policy_prepass/$(basename "$f" | tr -c 'A-Za-z0-9._\n-' '_')"
done
python3 - <<'PY'
import glob, hashlib, html
def spans(text):
    i = 0
    while True:
        i = text.find('@', i)
        if i < 0 or i + 1 >= len(text):
            return
        open_ = text[i + 1]
        if open_ not in '({':
            i += 1
            continue
        close = ')' if open_ == '(' else '}'
        depth, j, quote = 0, i + 1, None
        while j < len(text):
            c = text[j]
            if quote:
                if c == '\\':
                    j += 1
                elif c == quote:
                    quote = None
            elif c in '"\'':
                quote = c
            elif c == open_:
                depth += 1
            elif c == close:
                depth -= 1
                if depth == 0:
                    yield open_, html.unescape(text[i + 2:j])
                    break
            j += 1
        i = j + 1
n = 0
def seed(kind, body):
    data = body.encode()
    name = hashlib.sha1(data).hexdigest()[:16]
    open(f'corpus/expr_parse/{name}', 'wb').write(data)
    open(f'corpus/expr_eval/{name}', 'wb').write((b'{' if kind == '{' else b'') + data)
for path in glob.glob('../crates/policy/tests/corpus*/*.xml'):
    for kind, body in spans(open(path, encoding='utf-8').read()):
        seed(kind, body)
        n += 1
# The oracle's entries: `----` separates them, `//` lines open them, `{ … }` is a block.
for path in sorted(glob.glob('../crates/expr/tests/oracle/expressions*.txt')) + ['../crates/expr/tests/oracle/real-world.txt']:
    for entry in open(path, encoding='utf-8').read().split('\n----\n'):
        lines = [l for l in entry.split('\n') if not l.lstrip().startswith('//')]
        text = '\n'.join(lines).strip()
        if not text:
            continue
        if text.startswith('{') and text.endswith('}'):
            seed('{', text[1:-1])
        else:
            seed('(', text)
        n += 1
print(f'{n} expressions')
PY
